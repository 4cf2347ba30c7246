"""The outbox for staff: read only, with "send again" for failed or withheld messages."""

from django.contrib import admin, messages

from consortium.common.admin_lists import ListAtScaleMixin
from consortium.common.mail import outbox_resend
from consortium.common.models import OutgoingMail


@admin.register(OutgoingMail)
class OutgoingMailAdmin(ListAtScaleMixin, admin.ModelAdmin):
    list_display = ("created_at", "to", "subject", "state", "attempts", "sent_at", "about")
    list_filter = ("state",)
    search_fields = ("to", "subject", "key", "about")
    date_hierarchy = "created_at"
    actions = ["send_again"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Send again (failed or withheld messages)")
    def send_again(self, request, queryset):
        count = outbox_resend(message_ids=list(queryset.values_list("pk", flat=True)))
        messages.success(request, f"{count} message(s) queued again.")
