"""The results explorer (namespace "results"), included before the review's URLs so that its
result page answers /results/<ID>/."""

from django.urls import path

from submissions.results import views

app_name = "results"
urlpatterns = [
    path("results/", views.explorer, name="explorer"),
    path("results/charts/", views.charts_page, name="charts"),
    path("results/compare/", views.compare, name="compare"),
    path("results/export.csv", views.export_csv, name="export_csv"),
    path("results/export.json", views.export_json, name="export_json"),
    path("results/systems/<str:folder>/<str:system>/", views.system, name="system"),
    path("results/<str:result_id>/", views.result, name="result"),
]
