"""CSV exports of grants, acceptances and access requests for dataset admins."""

from collections.abc import Iterable

from django.http import HttpResponse
from django.utils import timezone

from consortium.common.csv_export import csv_write
from consortium.licensing.models import Acceptance, AccessRequest, Grant


def _iso(value) -> str:
    return value.isoformat() if value else ""


def grant_rows(grants: Iterable[Grant]):
    yield [
        "grant_id", "dataset", "person_email", "organisation", "state", "suspension_cause", "starts_at",
        "ends_at", "rests_on", "granted_by", "ended_at", "reason",
    ]  # fmt: skip
    for g in grants:
        yield [
            g.pk,
            g.dataset.slug,
            g.person.user.email if g.person_id else "",
            str(g.organisation or ""),
            g.state,
            g.suspension_cause,
            _iso(g.starts_at),
            _iso(g.ends_at),
            "; ".join(g.rests_on),
            g.granted_by.email if g.granted_by_id else "",
            _iso(g.ended_at),
            g.reason,
        ]


def acceptance_rows(acceptances: Iterable[Acceptance]):
    yield [
        "acceptance_id", "agreement", "version", "text_sha256", "person_email", "typed_name",
        "on_behalf_of", "accepted_at", "ip_address", "user_agent",
    ]  # fmt: skip
    for a in acceptances:
        yield [
            a.pk,
            a.agreement_version.agreement.slug,
            a.version_label,
            a.text_sha256,
            a.person.user.email,
            a.typed_name,
            str(a.organisation or ""),
            _iso(a.accepted_at),
            a.ip_address or "",
            a.user_agent,
        ]


def request_rows(requests: Iterable[AccessRequest]):
    yield [
        "request_id", "dataset", "person_email", "organisation", "state", "submitted_at", "decided_at",
        "reviewer", "reason", "purpose", "answers",
    ]  # fmt: skip
    for r in requests:
        yield [
            r.pk,
            r.dataset.slug,
            r.person.user.email,
            str(r.organisation or ""),
            r.state,
            _iso(r.submitted_at),
            _iso(r.decided_at),
            r.reviewer.email if r.reviewer_id else "",
            r.reason,
            r.purpose,
            " | ".join(f"{a.get('question')}: {a.get('answer')}" for a in r.answers or []),
        ]


EXPORTS = {
    "grants": (
        lambda: Grant.objects.select_related("dataset", "person__user", "organisation", "granted_by", "acceptance"),
        grant_rows,
    ),
    "acceptances": (
        lambda: Acceptance.objects.select_related("agreement_version__agreement", "person__user", "organisation"),
        acceptance_rows,
    ),
    "requests": (
        lambda: AccessRequest.objects.select_related("dataset", "person__user", "organisation", "reviewer"),
        request_rows,
    ),
}


def csv_response(kind: str, queryset=None) -> HttpResponse:
    all_rows, rows = EXPORTS[kind]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-{timezone.now():%Y%m%d-%H%M}.csv"'
    csv_write(response, rows(queryset if queryset is not None else all_rows()))
    return response
