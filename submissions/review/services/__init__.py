"""Writes of the review and publication of a round. Keyword-only, typed, atomic; every change is in
the audit log and every notice goes, after commit, to exactly those who may see the submission."""

# The package is split by topic; callers import the public names from here.
from submissions.review.services.assignments import review_assignments_make, review_mark_done, round_result_counts
from submissions.review.services.objections import (
    EXCERPT_CHARS,
    MAX_EVIDENCE,
    objection_close,
    objection_decide,
    objection_file,
    objection_refusal,
    objection_respond,
    objection_withdraw,
    parties_of,
)
from submissions.review.services.phases import phase_refusal, review_audience
from submissions.review.services.publication import (
    CORRECTABLE,
    publication_waits_for,
    publishable_versions,
    published_score,
    record_version,
    result_correct,
    round_publish,
    round_tie_break_set,
    rounds_publish_due,
)
from submissions.review.services.votes import ballot_cast, vote_close, vote_count, vote_open
from submissions.review.services.withdrawals import submission_withdraw

__all__ = [
    "CORRECTABLE",
    "EXCERPT_CHARS",
    "MAX_EVIDENCE",
    "ballot_cast",
    "objection_close",
    "objection_decide",
    "objection_file",
    "objection_refusal",
    "objection_respond",
    "objection_withdraw",
    "parties_of",
    "phase_refusal",
    "publication_waits_for",
    "publishable_versions",
    "published_score",
    "record_version",
    "result_correct",
    "review_assignments_make",
    "review_audience",
    "review_mark_done",
    "round_publish",
    "round_result_counts",
    "round_tie_break_set",
    "rounds_publish_due",
    "submission_withdraw",
    "vote_close",
    "vote_count",
    "vote_open",
]
