"""Celery tasks of the review: thin and safe to run twice."""

from celery import shared_task

from submissions.review.services import rounds_publish_due as publish


@shared_task(name="submissions.rounds_publish_due", ignore_result=True)
def rounds_publish_due(**_: object) -> int:
    """Beat: publish every round whose publication moment has passed (a second run publishes nothing)."""
    return len(publish())
