"""Review and publication URLs, included in the submissions namespace (submissions/urls.py)."""

from django.urls import path

from submissions.review import views

urlpatterns = [
    path("rounds/<slug:slug>/review/", views.dashboard, name="review_dashboard"),
    path("rounds/<slug:slug>/review/assign/", views.assign_reviews, name="review_assign"),
    path("rounds/<slug:slug>/objections/new/", views.objection_new, name="objection_new"),
    path("rounds/<slug:slug>/votes/new/", views.vote_new, name="vote_new"),
    path("rounds/<slug:slug>/published/", views.published, name="published"),
    path("objections/", views.inbox, name="inbox"),
    path("objections/<int:pk>/", views.objection_detail, name="objection"),
    path("objections/<int:pk>/respond/", views.objection_respond, name="objection_respond"),
    path("objections/<int:pk>/withdraw/", views.objection_withdraw, name="objection_withdraw"),
    path("objections/<int:pk>/decide/", views.objection_decide, name="objection_decide"),
    path("objections/<int:pk>/close/", views.objection_close, name="objection_close"),
    path("votes/<int:pk>/", views.ballot, name="ballot"),
    path("votes/<int:pk>/close/", views.vote_close, name="vote_close"),
    path("submissions/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("results/<str:result_id>/", views.result, name="result"),
]
