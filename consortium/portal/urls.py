from django.urls import path

from consortium.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    # Browsers ask for /favicon.ico on pages that name no icon (the API docs, plain error pages).
    path("favicon.ico", views.favicon, name="favicon"),
]
