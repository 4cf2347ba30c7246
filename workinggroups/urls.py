from django.urls import path

from workinggroups import views

app_name = "workinggroups"

group = "workinggroups/<slug:slug>/"
manage = group + "manage/"
round_ = "rounds/<slug:slug>/"

urlpatterns = [
    path("workinggroups/", views.group_list, name="group_list"),
    path(group, views.group_detail, name="group_detail"),
    path(group + "calendar.ics", views.group_calendar, name="group_calendar"),
    path(group + "join/", views.group_join, name="group_join"),
    path(group + "join/<int:request_id>/withdraw/", views.join_request_withdraw, name="join_request_withdraw"),
    path(group + "leave/", views.group_leave, name="group_leave"),
    path(manage, views.group_edit, name="group_edit"),
    path(manage + "members/", views.group_members, name="group_members"),
    path(manage + "members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path(manage + "members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path(manage + "requests/", views.join_requests, name="join_requests"),
    path(
        manage + "requests/<int:request_id>/<str:decision>/",
        views.join_request_decide,
        name="join_request_decide",
    ),
    path(manage + "meetings/", views.meetings, name="meetings"),
    path(manage + "meetings/<int:series_id>/", views.meeting_edit, name="meeting_edit"),
    path(manage + "meetings/<int:series_id>/delete/", views.meeting_delete, name="meeting_delete"),
    path(manage + "meetings/<int:series_id>/<str:key>/", views.occurrence_edit, name="occurrence_edit"),
    path(manage + "rounds/", views.group_rounds, name="group_rounds"),
    path(manage + "rounds/new/", views.round_create, name="round_create"),
    path("rounds/", views.round_list, name="round_list"),
    path(round_, views.round_detail, name="round_detail"),
    path(round_ + "calendar.ics", views.round_calendar, name="round_calendar"),
    path(round_ + "register/", views.round_register, name="round_register"),
    path(round_ + "register/withdraw/", views.round_registration_withdraw, name="round_registration_withdraw"),
    path(round_ + "schedule/", views.round_schedule, name="round_schedule"),
    path(round_ + "schedule/generate/", views.round_generate, name="round_generate"),
    path(round_ + "edit/", views.round_edit, name="round_edit"),
    path(round_ + "publish/", views.round_publish, name="round_publish"),
    path(round_ + "unpublish/", views.round_unpublish, name="round_unpublish"),
    path("calendar/", views.my_calendar, name="my_calendar"),
    path("calendar/reset/", views.my_calendar_reset, name="my_calendar_reset"),
    path("calendar/<str:token>.ics", views.personal_calendar, name="personal_calendar"),
]
