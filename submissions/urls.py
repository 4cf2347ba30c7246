from django.urls import include, path

from submissions import views, views_tokens

app_name = "submissions"
urlpatterns = [
    path("submissions/", views.mine, name="mine"),
    path("submissions/<int:pk>/", views.detail, name="detail"),
    path("submissions/<int:pk>/versions/<int:number>/checks/", views.checks_partial, name="checks"),
    path("submissions/<int:pk>/checks/<int:run_id>/rerun/", views.run_rerun, name="rerun"),
    path("submissions/<int:pk>/checks/<int:run_id>/cancel/", views.run_cancel, name="cancel"),
    path("submissions/<int:pk>/fix-window/", views.fix_window, name="fix_window"),
    path("rounds/<slug:slug>/upload/", views.upload, name="upload"),
    path("rounds/<slug:slug>/submissions/", views.round_submissions, name="round"),
    path("rounds/<slug:slug>/results/", views.round_results, name="results"),
    path("staff/disagreements/", views.disagreements, name="disagreements"),
    path("staff/workers/", views.workers, name="workers"),
    # API tokens (submissions/views_tokens.py)
    path("account/api-tokens/", views_tokens.tokens, name="tokens"),
    path("account/api-tokens/<int:pk>/revoke/", views_tokens.token_revoke, name="token_revoke"),
    # Review and publication (submissions/review/urls.py)
    path("", include("submissions.review.urls")),
]
