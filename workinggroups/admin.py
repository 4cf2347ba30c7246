"""Admin for every model of the working groups app. Changes are audited (AuditedAdminMixin); group
memberships change through the working group services, as on the chairs' pages (the last chair
stays; an open join request is answered by the addition).

Phases are edited inline on their round; the inline formset checks the whole schedule (order,
overlaps) like the chairs' pages do. Sent reminders are a read-only record.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from consortium.audit.admin_mixins import AuditedAdminMixin, ServiceWritesAdminMixin
from workinggroups import schedules, services
from workinggroups.models import (
    CalendarFeed,
    GroupMembership,
    JoinRequest,
    MeetingOccurrence,
    MeetingSeries,
    Round,
    RoundPhase,
    RoundRegistration,
    WorkingGroup,
)


class GroupMembershipInline(admin.TabularInline):
    model = GroupMembership
    extra = 0
    fields = ("person", "role", "since", "added_by")
    readonly_fields = ("since", "added_by")
    autocomplete_fields = ("person",)


def save_group_membership(modeladmin: ServiceWritesAdminMixin, request, row: GroupMembership, *, new: bool) -> None:
    """One membership row of a form through the services: added, given another role, or (another
    person or group) the old one removed and the new one added."""
    if new:
        added = modeladmin.call(request, services.group_member_add, group=row.group, person=row.person, role=row.role)
        row.pk = added.pk
        return
    old = GroupMembership.objects.get(pk=row.pk)
    if (old.group_id, old.person_id) != (row.group_id, row.person_id):
        added = modeladmin.call(request, services.group_member_add, group=row.group, person=row.person, role=row.role)
        modeladmin.call(request, services.group_member_remove, membership=old, reason="Changed in the admin")
        row.pk = added.pk
    elif old.role != row.role:
        modeladmin.call(request, services.group_member_set_role, membership=old, role=row.role)


@admin.register(WorkingGroup)
class WorkingGroupAdmin(ServiceWritesAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "workinggroups"
    list_display = ("name", "area", "status", "visibility", "mailing_list")
    list_filter = ("area", "status", "visibility")
    search_fields = ("name", "slug", "purpose")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [GroupMembershipInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not GroupMembership:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        # New chairs first, removals last: a chair can be handed over in one save.
        changed = sorted(
            (row for row, _ in formset.changed_objects), key=lambda r: r.role != GroupMembership.Role.CHAIR
        )
        for row in formset.new_objects:
            save_group_membership(self, request, row, new=True)
        for row in changed:
            save_group_membership(self, request, row, new=False)
        for row in formset.deleted_objects:
            self.call(request, services.group_member_remove, membership=row, reason="Removed in the admin")


@admin.register(GroupMembership)
class GroupMembershipAdmin(ServiceWritesAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "workinggroups"
    list_display = ("person", "group", "role", "since", "added_by")
    ordering = ("-pk",)  # newest first by key: a page of a long list costs what a short one does
    list_filter = ("role", "group")
    search_fields = ("person__full_name", "person__user__email", "group__name")
    list_select_related = ("person", "group", "added_by")
    autocomplete_fields = ("person", "group")
    readonly_fields = ("since", "added_by")

    def save_model(self, request, obj, form, change):
        save_group_membership(self, request, obj, new=not change)

    def delete_model(self, request, obj):
        self.call(request, services.group_member_remove, membership=obj, reason="Removed in the admin")


@admin.register(JoinRequest)
class JoinRequestAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "workinggroups"
    list_display = ("person", "group", "state", "created_at", "decided_at", "decided_by")
    list_filter = ("state", "group")
    search_fields = ("person__full_name", "person__user__email", "group__name")
    list_select_related = ("person", "group", "decided_by")
    readonly_fields = ("created_at", "decided_at", "decided_by")
    autocomplete_fields = ("person", "group")


class MeetingOccurrenceInline(admin.TabularInline):
    model = MeetingOccurrence
    extra = 0
    fields = ("original_start", "cancelled", "moved_to", "agenda", "minutes", "sequence")
    readonly_fields = ("sequence",)


@admin.register(MeetingSeries)
class MeetingSeriesAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "workinggroups"
    list_display = ("title", "group", "rrule", "start_time", "time_zone", "starts_on", "ends_on", "sequence")
    list_filter = ("group", "time_zone")
    search_fields = ("title", "group__name")
    readonly_fields = ("uid", "sequence")
    inlines = [MeetingOccurrenceInline]


@admin.register(MeetingOccurrence)
class MeetingOccurrenceAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "workinggroups"
    list_display = ("series", "original_start", "cancelled", "moved_to", "sequence")
    list_filter = ("cancelled", "series__group")
    readonly_fields = ("sequence",)


class RoundPhaseFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors) or not self.instance.time_zone:
            return
        phases = [
            schedules.PlannedPhase(f.cleaned_data["kind"], f.cleaned_data["starts_at"], f.cleaned_data["ends_at"])
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        if not phases:
            return
        errors = schedules.check_phases(phases, time_zone=self.instance.time_zone, grace=self.instance.grace)
        # An incomplete schedule may be saved as a draft in the admin; order and overlaps may not.
        errors = [message for kind, message in errors if "has no" not in message]
        if errors:
            raise ValidationError(errors)


class RoundPhaseInline(admin.TabularInline):
    model = RoundPhase
    formset = RoundPhaseFormSet
    extra = 0
    fields = ("kind", "starts_at", "ends_at", "sequence", "uid")
    readonly_fields = ("sequence", "uid")
    ordering = ("starts_at",)


class RoundRegistrationInline(admin.TabularInline):
    model = RoundRegistration
    extra = 0
    fields = ("organisation", "registered_by", "registered_at")
    readonly_fields = ("registered_by",)
    autocomplete_fields = ("organisation",)
    show_change_link = True


@admin.register(Round)
class RoundAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "workinggroups"
    list_display = ("name", "group", "suite", "ruleset", "time_zone", "published", "is_example")
    list_filter = ("suite", "published", "group", "is_example")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("published_at", "published_by")
    inlines = [RoundPhaseInline, RoundRegistrationInline]


@admin.register(RoundPhase)
class RoundPhaseAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Single phases can be looked at here; change them on their round (the schedule is checked there)."""

    audit_area = "workinggroups"
    list_display = ("round", "kind", "starts_at", "ends_at", "sequence")
    list_filter = ("kind", "round__group")
    readonly_fields = ("round", "kind", "starts_at", "ends_at", "uid", "sequence", "updated_at")

    def has_add_permission(self, request):
        return False


@admin.register(RoundRegistration)
class RoundRegistrationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "workinggroups"
    list_display = ("organisation", "round", "registered_by", "registered_at")
    ordering = ("-pk",)  # newest first by key: a page of a long list costs what a short one does
    list_filter = ("round",)
    search_fields = ("organisation__name", "round__name")
    list_select_related = ("organisation", "round", "registered_by")
    filter_horizontal = ("contacts",)
    autocomplete_fields = ("organisation",)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Staff can revoke a feed by deleting it (a new one is made when the person next visits)."""

    audit_area = "workinggroups"
    list_display = ("person", "created_at")
    search_fields = ("person__full_name", "person__user__email")
    fields = ("person", "created_at")
    readonly_fields = ("person", "created_at")

    def has_add_permission(self, request):
        return False
