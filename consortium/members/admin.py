"""Admin of organisations, people and roles. Changes are audited (AuditedAdminMixin); a person's
organisation and roles change through the roster services, as on the roster pages, so that the
departure hook and the roster's rules (the last primary contact stays) hold in the admin too."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from consortium.audit.admin_mixins import AuditedAdminMixin, ServiceRefused, ServiceWritesAdminMixin
from consortium.audit.client import client_address
from consortium.audit.services import audit_record
from consortium.members import services
from consortium.members.models import (
    EmailDomain,
    Invitation,
    Membership,
    MembershipTier,
    Organisation,
    OrganisationRole,
    Person,
    User,
)
from consortium.members.selectors import current_membership


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    audit_area = "access"
    ordering = ["email"]
    list_display = ("email", "is_active", "is_staff", "is_superuser", "last_login", "date_joined")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")
    search_fields = ("email", "person__full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined")


@admin.register(EmailDomain)
class EmailDomainAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "members"
    list_display = ("domain", "organisation")
    search_fields = ("domain", "organisation__name")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)


class EmailDomainInline(admin.TabularInline):
    model = EmailDomain
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("tier", "start", "end", "grace_days", "staff_override", "note")


def save_memberships(modeladmin: ServiceWritesAdminMixin, request, organisation: Organisation, formset) -> None:
    """A membership inline's rows through the membership services."""
    formset.save(commit=False)
    for row in formset.new_objects:
        fields = {f: getattr(row, f) for f in services.MEMBERSHIP_FIELDS}
        row.pk = modeladmin.call(request, services.membership_create, organisation=organisation, **fields).pk
    for row, changed in formset.changed_objects:
        modeladmin.call(request, services.membership_update, membership=row, **{f: getattr(row, f) for f in changed})
    for row in formset.deleted_objects:
        modeladmin.call(request, services.membership_delete, membership=row)


@admin.register(Organisation)
class OrganisationAdmin(ServiceWritesAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "members"
    list_display = ("name", "kind", "country", "tier_now", "status_now", "founding_member", "results_folder")
    list_filter = ("kind", "country", "founding_member", "memberships__tier")
    search_fields = ("name", "slug", "email_domains__domain", "results_folder")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [EmailDomainInline, MembershipInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is Membership:
            save_memberships(self, request, form.instance, formset)
        else:
            super().save_formset(request, form, formset, change)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("memberships__tier")

    @admin.display(description="Tier")
    def tier_now(self, obj):
        m = current_membership(obj)
        return m.tier if m else "—"

    @admin.display(description="Status")
    def status_now(self, obj):
        m = current_membership(obj)
        return m.status_label if m else "No membership"


@admin.register(MembershipTier)
class MembershipTierAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "members"
    list_display = (
        "name",
        "may_submit_results",
        "votes",
        "board_seat",
        "annual_dues_usd",
        "is_example",
        "rank",
    )
    list_filter = ("may_submit_results", "board_seat", "is_example")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class MembershipStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Membership.Status.choices

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(pk__in=[m.pk for m in queryset if m.status == self.value()])


@admin.register(Membership)
class MembershipAdmin(ServiceWritesAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "members"
    list_display = ("organisation", "tier", "start", "end", "status_display", "staff_override")
    list_filter = (MembershipStatusFilter, "tier", "staff_override")
    search_fields = ("organisation__name",)
    list_select_related = ("organisation", "tier")
    autocomplete_fields = ("organisation",)
    date_hierarchy = "start"

    def get_readonly_fields(self, request, obj=None):
        return ("organisation",) if obj is not None else ()  # a term belongs to one organisation

    def save_model(self, request, obj, form, change):
        if change:
            fields = {f: getattr(obj, f) for f in form.changed_data}
            self.call(request, services.membership_update, membership=obj, **fields)
        else:
            fields = {f: getattr(obj, f) for f in services.MEMBERSHIP_FIELDS}
            obj.pk = self.call(request, services.membership_create, organisation=obj.organisation, **fields).pk

    def delete_model(self, request, obj):
        self.call(request, services.membership_delete, membership=obj)

    @admin.display(description="Status")
    def status_display(self, obj):
        return obj.status_label


class RoleInline(admin.TabularInline):
    model = OrganisationRole
    extra = 0
    fields = ("organisation", "role", "granted_by", "granted_at")
    readonly_fields = ("granted_by", "granted_at")


def save_roles(modeladmin: ServiceWritesAdminMixin, request, person: Person, formset) -> None:
    """A role inline's rows through role_grant and role_revoke: grants first, so that a primary
    contact can be handed over in one save; a changed row is the old role revoked, the new granted."""
    formset.save(commit=False)
    changed = [(OrganisationRole.objects.get(pk=row.pk), row) for row, _ in formset.changed_objects]
    for row in [*formset.new_objects, *(new for _, new in changed)]:
        modeladmin.call(request, services.role_grant, person=person, organisation=row.organisation, role=row.role)
    for row in [*(old for old, _ in changed), *formset.deleted_objects]:
        modeladmin.call(request, services.role_revoke, person=row.person, organisation=row.organisation, role=row.role)


@admin.register(Person)
class PersonAdmin(ServiceWritesAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "roster"
    list_display = ("display_name", "email", "organisation", "affiliation", "github_handle", "is_demo")
    list_filter = ("affiliation", "is_demo", "roles__role")
    search_fields = ("full_name", "user__email", "organisation__name", "github_handle")
    list_select_related = ("user", "organisation")
    autocomplete_fields = ("organisation", "user")
    ordering = ("full_name", "id")  # one table's index (the model's ordering sorts through users)
    # Set by the roster services when the organisation changes (or on approval), never by hand.
    readonly_fields = ("affiliation", "affiliated_since")
    inlines = [RoleInline]
    actions = ["approve_people", "remove_from_organisation"]

    def save_model(self, request, obj, form, change):
        if not change:
            organisation, obj.organisation = obj.organisation, None
            super().save_model(request, obj, form, change)
            if organisation is not None:
                self.call(request, services.person_affiliate, person=obj, organisation=organisation)
                obj.refresh_from_db()
            return
        changed = set(form.changed_data)
        before = Person.objects.select_related("organisation").get(pk=obj.pk)
        if "organisation" in changed:
            if before.organisation_id is not None:
                self.call(
                    request,
                    services.person_remove_from_organisation,
                    person=before,
                    reason="Organisation changed in the admin",
                )
            if obj.organisation_id is not None:
                self.call(request, services.person_affiliate, person=before, organisation=obj.organisation)
        if changed & {"full_name", "github_handle"}:
            services.person_update_profile(person=before, full_name=obj.full_name, github_handle=obj.github_handle)
        # What no service owns (the account, the demo flag) is saved as such and audited.
        rest = sorted(changed - {"organisation", "full_name", "github_handle"})
        if rest:
            Person.objects.filter(pk=obj.pk).update(**{f: getattr(obj, f) for f in rest})
        if rest or changed & {"full_name", "github_handle"}:
            audit_record(
                actor=request.user,
                action="roster.person_changed",
                target=obj,
                organisation=obj.organisation,
                ip_address=client_address(request),
                data={"changed": {f: str(form.cleaned_data.get(f)) for f in sorted(changed - {"organisation"})}},
            )
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        if formset.model is OrganisationRole:
            save_roles(self, request, form.instance, formset)
        else:
            super().save_formset(request, form, formset, change)

    def delete_model(self, request, obj):
        if obj.organisation_id is not None:  # a leaver first: the hooks end what rested on the organisation
            self.call(request, services.person_remove_from_organisation, person=obj, reason="Deleted in the admin")
        super().delete_model(request, obj)

    @admin.action(description="Approve the selected people waiting for approval", permissions=["change"])
    def approve_people(self, request, queryset):
        self._each(request, queryset, services.person_approve, "approved")

    @admin.action(description="Remove the selected people from their organisation", permissions=["change"])
    def remove_from_organisation(self, request, queryset):
        self._each(
            request, queryset, services.person_remove_from_organisation, "removed", reason="Removed in the admin"
        )

    def _each(self, request, queryset, service, done: str, **kwargs):
        count = 0
        for person in queryset.select_related("organisation"):
            try:
                self.call(request, service, person=person, **kwargs)
            except ServiceRefused as exc:
                self.message_user(request, f"{person}: {exc}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"{count} {'person' if count == 1 else 'people'} {done}.", messages.SUCCESS)


@admin.register(OrganisationRole)
class OrganisationRoleAdmin(ServiceWritesAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Roles through role_grant and role_revoke (a changed role is the old one revoked, the new one granted)."""

    audit_area = "roster"
    list_display = ("person", "organisation", "role", "granted_by", "granted_at")
    ordering = ("-pk",)  # newest first by key: a page of a long list costs what a short one does
    list_filter = ("role",)
    search_fields = ("person__full_name", "person__user__email", "organisation__name")
    list_select_related = ("person__user", "organisation", "granted_by")
    autocomplete_fields = ("person", "organisation")

    def save_model(self, request, obj, form, change):
        if change:
            if not form.changed_data:
                return
            old = OrganisationRole.objects.select_related("person", "organisation").get(pk=obj.pk)
            granted = self.call(
                request, services.role_grant, person=obj.person, organisation=obj.organisation, role=obj.role
            )
            self.call(request, services.role_revoke, person=old.person, organisation=old.organisation, role=old.role)
        else:
            granted = self.call(
                request, services.role_grant, person=obj.person, organisation=obj.organisation, role=obj.role
            )
        obj.pk = granted.pk

    def delete_model(self, request, obj):
        self.call(request, services.role_revoke, person=obj.person, organisation=obj.organisation, role=obj.role)


@admin.register(Invitation)
class InvitationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "roster"
    list_display = ("email", "organisation", "state_display", "created_at", "expires_at", "invited_by")
    list_filter = ("organisation",)
    search_fields = ("email", "organisation__name")
    readonly_fields = ("token_hash", "accepted_at", "accepted_by", "created_at")
    list_select_related = ("organisation", "invited_by")

    @admin.display(description="State")
    def state_display(self, obj):
        return obj.state.label
