"""The review and the published record in the admin: read-only lists for staff. Every change goes
through the review services (pages and API), so that the audit log and the notices see it."""

from django.contrib import admin

from consortium.common.admin_lists import ListAtScaleMixin
from submissions.review.models import (
    Ballot,
    Correction,
    Objection,
    ObjectionEvidence,
    ObjectionResponse,
    Publication,
    PublishedResult,
    PublishedScore,
    ReviewAssignment,
    RoundReview,
    Vote,
    VoteOption,
    Withdrawal,
)


class ReadOnlyAdmin(ListAtScaleMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RoundReview)
class RoundReviewAdmin(ReadOnlyAdmin):
    list_display = ("round",)
    list_select_related = ("round",)


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdmin):
    list_display = ("summary", "round", "submission", "filed_by_organisation", "state", "outcome", "filed_at")
    list_filter = ("state", "outcome", "fix_required", "round")
    list_select_related = ("round", "submission__organisation", "submission__round", "filed_by_organisation")
    search_fields = ("summary", "rule", "filed_by_organisation__name", "submission__organisation__name")


@admin.register(ObjectionEvidence)
class ObjectionEvidenceAdmin(ReadOnlyAdmin):
    list_display = ("objection", "path", "line")
    list_select_related = ("objection",)
    search_fields = ("path",)


@admin.register(ObjectionResponse)
class ObjectionResponseAdmin(ReadOnlyAdmin):
    list_display = ("objection", "organisation", "created_at", "acknowledges_fix")
    list_select_related = ("objection", "organisation")


@admin.register(ReviewAssignment)
class ReviewAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("round", "reviewer", "reviewed", "assigned_at", "done_at")
    list_filter = ("round",)
    list_select_related = ("round", "reviewer", "reviewed")
    search_fields = ("reviewer__name", "reviewed__name")


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    list_display = ("question", "round", "state", "opened_at", "closes_at", "winner")
    list_filter = ("state", "round")
    list_select_related = ("round", "winner")
    search_fields = ("question",)


@admin.register(VoteOption)
class VoteOptionAdmin(ReadOnlyAdmin):
    list_display = ("vote", "position", "key", "label", "outcome")
    list_select_related = ("vote",)


@admin.register(Ballot)
class BallotAdmin(ReadOnlyAdmin):
    list_display = ("vote", "organisation", "cast_at")
    list_select_related = ("vote", "organisation")
    search_fields = ("organisation__name",)


@admin.register(Withdrawal)
class WithdrawalAdmin(ReadOnlyAdmin):
    list_display = ("submission", "withdrawn_at", "withdrawn_by")
    list_select_related = ("submission__organisation", "submission__round", "withdrawn_by")


@admin.register(Publication)
class PublicationAdmin(ReadOnlyAdmin):
    list_display = ("round", "record_version", "published_at", "result_count")
    list_select_related = ("round",)


@admin.register(PublishedResult)
class PublishedResultAdmin(ReadOnlyAdmin):
    list_display = ("result_id", "organisation_name", "system_name", "division", "availability", "published_at")
    list_filter = ("division", "availability", "round")
    list_select_related = ("round",)
    search_fields = ("result_id", "organisation_name", "system_name", "submitter_folder")


@admin.register(PublishedScore)
class PublishedScoreAdmin(ReadOnlyAdmin):
    list_display = ("result", "benchmark", "scaling", "score", "units")
    list_filter = ("benchmark", "scaling")
    list_select_related = ("result",)
    search_fields = ("result__result_id", "benchmark")


@admin.register(Correction)
class CorrectionAdmin(ReadOnlyAdmin):
    list_display = ("result", "field", "old_value", "new_value", "corrected_by", "corrected_at")
    list_select_related = ("result", "corrected_by")
    search_fields = ("result__result_id", "field", "reason")
