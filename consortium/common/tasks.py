"""Celery tasks of the outbox: thin, take ids, safe to run twice (a message is claimed with a
conditional update before it is sent)."""

from celery import shared_task

from consortium.common.mail import outbox_deliver
from consortium.common.mail import outbox_flush as flush


@shared_task(name="common.outbox_send", bind=True, acks_late=True, ignore_result=True, max_retries=None)
def outbox_send(self, *, message_id: int, **_: object) -> str:
    delivery = outbox_deliver(message_id=message_id)
    if delivery.retry_in is not None:
        # The row carries the attempt count and the limit; the flush sends it too if this message is lost.
        raise self.retry(kwargs={"message_id": message_id}, countdown=delivery.retry_in)
    return delivery.outcome


@shared_task(name="common.outbox_flush", ignore_result=True, acks_late=True)
def outbox_flush(**_: object) -> dict:
    return flush()
