from django.urls import path

from consortium.members import views

app_name = "members"
urlpatterns = [
    path("", views.directory, name="directory"),
    path("profile/", views.profile, name="profile"),
    path("invitations/", views.invitation_inbox, name="invitation_inbox"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("organisations/<slug:slug>/", views.organisation, name="organisation"),
    path("organisations/<slug:slug>/roster/", views.roster, name="roster"),
    path(
        "organisations/<slug:slug>/roster/people/<int:person_id>/approve/",
        views.person_approve,
        name="person_approve",
    ),
    path(
        "organisations/<slug:slug>/roster/people/<int:person_id>/decline/",
        views.person_decline,
        name="person_decline",
    ),
    path(
        "organisations/<slug:slug>/roster/people/<int:person_id>/remove/",
        views.person_remove,
        name="person_remove",
    ),
    path(
        "organisations/<slug:slug>/roster/people/<int:person_id>/roles/<str:change>/",
        views.role_change,
        name="role_change",
    ),
    path(
        "organisations/<slug:slug>/roster/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
]
