from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from consortium.audit.admin_mixins import AuditedAdminMixin
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


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "members"
    list_display = ("name", "kind", "country", "tier_now", "status_now", "founding_member", "results_folder")
    list_filter = ("kind", "country", "founding_member", "memberships__tier")
    search_fields = ("name", "slug", "email_domains__domain", "results_folder")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [EmailDomainInline, MembershipInline]

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
class MembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "members"
    list_display = ("organisation", "tier", "start", "end", "status_display", "staff_override")
    list_filter = (MembershipStatusFilter, "tier", "staff_override")
    search_fields = ("organisation__name",)
    list_select_related = ("organisation", "tier")
    autocomplete_fields = ("organisation",)
    date_hierarchy = "start"

    @admin.display(description="Status")
    def status_display(self, obj):
        return obj.status_label


class RoleInline(admin.TabularInline):
    model = OrganisationRole
    extra = 0
    fields = ("organisation", "role", "granted_by", "granted_at")
    readonly_fields = ("granted_by", "granted_at")


@admin.register(Person)
class PersonAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "roster"
    list_display = ("display_name", "email", "organisation", "affiliation", "github_handle", "is_demo")
    list_filter = ("affiliation", "is_demo", "roles__role")
    search_fields = ("full_name", "user__email", "organisation__name", "github_handle")
    list_select_related = ("user", "organisation")
    autocomplete_fields = ("organisation", "user")
    inlines = [RoleInline]


@admin.register(OrganisationRole)
class OrganisationRoleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_area = "roster"
    list_display = ("person", "organisation", "role", "granted_by", "granted_at")
    list_filter = ("role",)
    search_fields = ("person__full_name", "person__user__email", "organisation__name")
    list_select_related = ("person__user", "organisation", "granted_by")
    autocomplete_fields = ("person", "organisation")


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
