from django.urls import path

from consortium.licensing import views

app_name = "licensing"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("mine/", views.mine, name="mine"),
    path("download/<str:token>/", views.download_file, name="download_file"),
    path("<slug:slug>/", views.dataset_detail, name="dataset"),
    path("<slug:slug>/access.json", views.access_json, name="access_json"),
    path("<slug:slug>/get-access/", views.get_access, name="get_access"),
    path("<slug:slug>/request/", views.request_access, name="request_access"),
    path("<slug:slug>/request/withdraw/", views.withdraw_request, name="withdraw_request"),
    path("<slug:slug>/accept/", views.accept, name="accept"),
    path("<slug:slug>/download/", views.download, name="download"),
]
