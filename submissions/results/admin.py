"""The explorer's details of the published record in the admin: read-only (they are written once,
at publication, by submissions.results.services)."""

from django.contrib import admin

from submissions.results.models import PublishedResultDetail, PublishedScoreDetail
from submissions.review.admin import ReadOnlyAdmin


@admin.register(PublishedResultDetail)
class PublishedResultDetailAdmin(ReadOnlyAdmin):
    list_display = ("result", "suite", "host_processor", "host_processor_count")
    list_filter = ("suite",)
    list_select_related = ("result",)
    search_fields = ("result__result_id", "host_processor")


@admin.register(PublishedScoreDetail)
class PublishedScoreDetailAdmin(ReadOnlyAdmin):
    list_display = ("score", "model", "scenario", "accuracy")
    list_select_related = ("score__result",)
    search_fields = ("score__result__result_id", "model")
