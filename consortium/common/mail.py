"""Outgoing mail and absolute links, shared by every app.

Every mail goes through the outbox (`OutgoingMail`): `mail_enqueue` writes one row per recipient in
the caller's transaction, under an idempotency key, so that a rolled-back change mails nothing and a
repeated call mails nothing new. After commit a Celery task (`common.outbox_send`) claims the row
with a conditional update and sends it, retrying with backoff while the mail server is unreachable;
the periodic `common.outbox_flush` sends whatever is due, so a lost broker message or a worker that
died mid-send never loses a mail. A message may carry a gate: a predicate, registered by the app that
owns the subject (`register_mail_gate`), asked again just before sending; while it says the recipient
may not know, the message is held, and it is withheld for good once `OUTBOX_HOLD_DAYS` have passed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import smtplib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from consortium.common.models import OutgoingMail

logger = logging.getLogger(__name__)
State = OutgoingMail.State

# name -> predicate(recipient email, reference) -> bool. True: send now; False: hold for later.
# Raising LookupError means the subject is gone: the message is withheld.
MailGate = Callable[[str, str], bool]
MAIL_GATES: dict[str, MailGate] = {}


def site_link(path_or_name: str, **kwargs) -> str:
    """An absolute URL for emails and feeds: a path ("/x/") or a URL name with its kwargs."""
    path = path_or_name if path_or_name.startswith("/") else reverse(path_or_name, kwargs=kwargs or None)
    return settings.SITE_URL.rstrip("/") + path


def register_mail_gate(name: str, gate: MailGate) -> None:
    """Called from an app's AppConfig.ready(): `gate` decides whether a recipient may know now."""
    MAIL_GATES[name] = gate


def message_key(key: str, recipient: str) -> str:
    return f"{key}→{recipient.strip().lower()}"[:255]


def mail_enqueue(
    *,
    key: str,
    subject: str,
    body: str,
    recipients: Iterable[str],
    about: str = "",
    gate: str = "",
    gate_ref: str | int = "",
    erase_body_once_sent: bool = False,
) -> int:
    """Queues one message per recipient under `key` (once: a key already queued is skipped) and
    sends them after the surrounding transaction commits. Returns how many are new. A body that
    holds a secret (`erase_body_once_sent`) is emptied in the row once the message is sent."""
    if gate and gate not in MAIL_GATES:
        raise ValueError(f"No mail gate named {gate!r} is registered.")
    subject = f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}"[:300]
    created: list[int] = []
    for recipient in dict.fromkeys(r.strip() for r in recipients if r and r.strip()):
        try:
            with transaction.atomic():
                row = OutgoingMail.objects.create(
                    key=message_key(key, recipient),
                    to=recipient,
                    subject=subject,
                    body=body,
                    about=about[:100],
                    gate=gate,
                    gate_ref=str(gate_ref),
                    erase_body_once_sent=erase_body_once_sent,
                )
        except IntegrityError:
            continue
        created.append(row.pk)
    if created:
        transaction.on_commit(partial(_dispatch, created), robust=True)
    return len(created)


def mail_queued(key: str) -> bool:
    """Whether any message was ever queued under `key` (for any recipient)."""
    return OutgoingMail.objects.filter(key__startswith=f"{key}→").exists()


def _dispatch(message_ids: list[int]) -> None:
    """Announces the messages to a worker. A broker that is down loses nothing: the flush sends them."""
    from celery import current_app

    for pk in message_ids:
        try:
            current_app.send_task("common.outbox_send", kwargs={"message_id": pk}, queue=settings.OUTBOX_QUEUE)
        except Exception:  # the broker is down; the row is committed and the flush will find it
            logger.warning("outbox: could not announce message %s; the periodic flush will send it", pk)
            return


# ---------------------------------------------------------------------------------------- sending


@dataclass(frozen=True)
class Delivery:
    outcome: str  # sent, retry, failed, held, withheld, skipped
    retry_in: int | None = None


def backoff_seconds(attempts: int) -> int:
    """30 s, 60 s, 120 s, … up to OUTBOX_BACKOFF_MAX (one hour by default)."""
    return int(min(settings.OUTBOX_BACKOFF_MAX, settings.OUTBOX_BACKOFF_BASE * 2 ** max(attempts - 1, 0)))


def _permanent(exc: Exception) -> bool:
    """A refusal that no retry can cure: the server rejected the recipient or the message (5xx).
    Anything about the connection, authentication or our sender is transient: staff fix the setup
    and the message still goes."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPDataError):
        return exc.smtp_code >= 500
    return not isinstance(exc, smtplib.SMTPException | OSError)


def _message_id(message: OutgoingMail) -> str:
    """Stable per message, so that a receiving server (or a person) can tell a repeat apart."""
    digest = hashlib.sha256(message.key.encode()).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return f"<{digest}@{domain}>"


def _gate_allows(message: OutgoingMail) -> bool | None:
    """True: may know now; False: not yet; None: never (the subject is gone or the gate unknown)."""
    gate = MAIL_GATES.get(message.gate)
    if gate is None:
        return None
    try:
        return bool(gate(message.to, message.gate_ref))
    except LookupError:
        return None


# A held message is asked again this often (each flush asks the ones due, oldest first).
HOLD_RECHECK = dt.timedelta(minutes=5)


def _hold_or_withhold(message: OutgoingMail, allowed: bool | None, now: dt.datetime, from_state: str) -> str:
    expired = message.created_at < now - dt.timedelta(days=settings.OUTBOX_HOLD_DAYS)
    state = State.WITHHELD if allowed is None or expired else State.HELD
    OutgoingMail.objects.filter(pk=message.pk, state=from_state).update(
        state=state, claimed_at=None, due_at=now + HOLD_RECHECK
    )
    return state


def outbox_deliver(*, message_id: int, connection=None) -> Delivery:
    """Claims one due message (a second caller gets "skipped"), asks its gate, and sends it."""
    now = timezone.now()
    claimed = OutgoingMail.objects.filter(pk=message_id, state=State.PENDING, due_at__lte=now).update(
        state=State.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return Delivery("skipped")
    message = OutgoingMail.objects.get(pk=message_id)
    mine = OutgoingMail.objects.filter(pk=message_id, state=State.SENDING, claimed_at=now)
    if message.gate:
        allowed = _gate_allows(message)
        if not allowed:
            # Held does not count as an attempt.
            OutgoingMail.objects.filter(pk=message_id).update(attempts=F("attempts") - 1)
            return Delivery(_hold_or_withhold(message, allowed, now, State.SENDING))
    email = EmailMessage(
        message.subject,
        message.body,
        settings.DEFAULT_FROM_EMAIL,
        [message.to],
        headers={"Message-ID": _message_id(message), "X-Portal-Mail-Key": message.key},
        connection=connection,
    )
    try:
        email.send()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if _permanent(exc) or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            mine.update(state=State.FAILED, last_error=error, claimed_at=None)
            logger.error("outbox: message %s failed for good: %s", message_id, error)
            return Delivery("failed")
        wait = backoff_seconds(message.attempts)
        mine.update(
            state=State.PENDING, last_error=error, claimed_at=None, due_at=timezone.now() + dt.timedelta(seconds=wait)
        )
        logger.warning("outbox: message %s not sent (%s); next try in %s s", message_id, error, wait)
        return Delivery("retry", retry_in=wait)
    sent: dict = {"state": State.SENT, "sent_at": timezone.now(), "last_error": "", "claimed_at": None}
    if message.erase_body_once_sent:
        sent["body"] = ""
    mine.update(**sent)
    return Delivery("sent")


def outbox_flush(*, now: dt.datetime | None = None, limit: int = 500, budget_seconds: float = 20.0) -> dict:
    """The periodic pass: recover claims of senders that died, release held messages whose
    recipient may now know, and send what is due (stopping at the first unreachable server)."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT)
    result = {
        "recovered": OutgoingMail.objects.filter(state=State.SENDING, claimed_at__lt=stale).update(
            state=State.PENDING, claimed_at=None, due_at=now
        ),
        "released": 0,
        "withheld": 0,
        "sent": 0,
        "failed": 0,
        "retry": 0,
    }
    held = OutgoingMail.objects.filter(state=State.HELD, due_at__lte=now).order_by("due_at", "pk")
    for message in held[:limit]:
        allowed = _gate_allows(message)
        if allowed:
            result["released"] += OutgoingMail.objects.filter(pk=message.pk, state=State.HELD).update(
                state=State.PENDING, due_at=timezone.now()
            )
        elif _hold_or_withhold(message, allowed, now, State.HELD) == State.WITHHELD:
            result["withheld"] += 1
    due = list(
        OutgoingMail.objects.filter(state=State.PENDING, due_at__lte=timezone.now())
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not due:
        return result
    deadline = time.monotonic() + budget_seconds
    connection = get_connection()
    try:
        for pk in due:
            delivery = outbox_deliver(message_id=pk, connection=connection)
            if delivery.outcome in result:
                result[delivery.outcome] += 1
            if delivery.outcome == "retry" or time.monotonic() > deadline:
                break  # the server is unreachable (or the pass took long enough): the next tick goes on
    finally:
        try:
            connection.close()
        except Exception:  # closing a connection that broke must not hide what was sent
            logger.debug("outbox: closing the mail connection failed", exc_info=True)
    return result


def outbox_resend(*, message_ids: Iterable[int]) -> int:
    """Staff send failed or withheld messages again (after fixing the cause)."""
    ids = list(message_ids)
    count = OutgoingMail.objects.filter(pk__in=ids, state__in=[State.FAILED, State.WITHHELD]).update(
        state=State.PENDING, due_at=timezone.now(), attempts=0, claimed_at=None
    )
    transaction.on_commit(partial(_dispatch, ids), robust=True)
    return count
