"""The HTTP API for submitters (django-ninja; OpenAPI at /api/openapi.json, docs at /api/docs).

Thin, like the views: authenticate, call a selector or a service, shape the answer. Who may see what
is the selectors' business (the same rules as the pages); a submission the caller may not see is a
404, so its existence does not leak.

Authentication: a personal API token as `Authorization: Bearer <token>` (created on
/account/api-tokens/ or with `manage.py create_api_token`), or, for reads only, the browser session.
A request that carries an Authorization header is judged by that header alone: a bad or revoked
token is a 401 even when a session cookie comes along. Uploads take a token only (no cookies, so no
CSRF to worry about).

Errors share one shape: `{"detail": "<what went wrong>", "errors": {<field>: <message>}}`.

One module over 600 lines on purpose: it is the whole API of one OpenAPI document, its error shape,
authentication and schemas beside the endpoints they describe; every endpoint is a few lines over a
selector or a service, so a split would scatter one contract across files.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from ninja import NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as InputError
from ninja.operation import PathView
from ninja.security import HttpBearer, SessionAuth
from pydantic import ConfigDict

from consortium.audit.client import client_address
from consortium.common.csv_export import csv_write
from consortium.members.models import Organisation
from consortium.members.permissions import person_of, staff_must_enrol_mfa
from submissions import selectors, services, storage
from submissions.compliance.api import engine_id, rules_id
from submissions.models import CheckRun, Finding, Submission, SubmissionVersion
from workinggroups import selectors as rounds

API_DESCRIPTION = """
Upload result packages to a round and follow their compliance checks.

Authenticate with a personal API token: `Authorization: Bearer <token>`. Create tokens on the
portal's *API tokens* page (/account/api-tokens/) or with `python manage.py create_api_token <email>`.
Reads also accept the browser session; `GET /api/v1/rounds` needs no authentication at all.

Upload with curl:

    curl -H "Authorization: Bearer $TOKEN" -F archive=@Acme.tar.gz -F division=closed \\
         -F category=available https://<portal>/api/v1/rounds/<round slug>/submissions

Errors: `{"detail": "...", "errors": {"<field>": "<message>"}}` with 400 (bad input), 401 (no,
invalid or revoked token), 403 (not allowed, or a staff account's token while its owner has no
two-factor authentication set up), 404 (no such thing, or not visible to you) or 413 (archive too
large).
"""

api = NinjaAPI(
    title="Consortium Portal API",
    version="1",
    description=API_DESCRIPTION,
    urls_namespace="api",
    openapi_url="/openapi.json",
)

# Lists that grow come in pages (issue 15): findings of one version, rounds.
FINDINGS_PAGE_SIZE = 1000
FINDINGS_MAX_PAGE_SIZE = 5000
ROUNDS_PAGE_SIZE = 25
ROUNDS_MAX_PAGE_SIZE = 100


# ---------------------------------------------------------------- authentication


class StaffTokenWithoutMfa(Exception):
    """A valid token whose owner is staff (a staff admin or a dataset admin) without MFA."""


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`: a personal API token (stored hashed; revocable).

    A staff account's token works only while its owner has MFA set up, whatever the token's age (a
    token made before MFA was enforced must not read the API without it); in demo mode the seeded demo
    accounts go without, as on the pages."""

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        user = services.api_token_authenticate(token.strip()) if token.strip() else None
        if user is not None and staff_must_enrol_mfa(user):
            raise StaffTokenWithoutMfa()
        return user


class BrowserSession(SessionAuth):
    """The logged-in browser, for reads (GET only: no CSRF question). Declines when the request
    carries an Authorization header, so that a bad token is never rescued by a cookie."""

    def __call__(self, request: HttpRequest) -> Any | None:
        if request.headers.get("Authorization"):
            return None
        return super().__call__(request)


def anonymous(request: HttpRequest) -> Any | None:
    """No credentials at all: an anonymous caller (for public reads). A given header must be valid."""
    if request.headers.get("Authorization"):
        return None
    return AnonymousUser()


bearer = BearerToken()
session = BrowserSession()
READ_AUTH = [bearer, session]
PUBLIC_AUTH = [bearer, session, anonymous]


def _error(request: HttpRequest, status: int, detail: str, errors: dict[str, str] | None = None) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or {}}, status=status)


def _method_not_allowed(self: PathView) -> HttpResponse:
    """A method the path does not take: 405 with an Allow header, in the API's one error shape
    (django-ninja answers plain text otherwise)."""
    allowed = sorted({method for op in self.operations for method in op.methods})
    body = {"detail": f"Method not allowed here; use {', '.join(allowed)}.", "errors": {}}
    response = HttpResponse(json.dumps(body), status=405, content_type="application/json; charset=utf-8")
    response["Allow"] = ", ".join(allowed)
    return response


PathView._not_allowed = _method_not_allowed  # type: ignore[method-assign]


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(
        request,
        401,
        "Authentication required: send a valid, unrevoked personal API token as 'Authorization: Bearer <token>'.",
    )
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(StaffTokenWithoutMfa)
def _staff_token_without_mfa(request: HttpRequest, exc: StaffTokenWithoutMfa) -> HttpResponse:
    return _error(
        request,
        403,
        "This token belongs to a staff account without two-factor authentication, which staff need for "
        f"the API as for the staff pages. Set it up at {reverse('mfa_activate_totp')}; the token works "
        "again once it is set.",
        {"authorization": "staff accounts need MFA to use the API"},
    )


@api.exception_handler(InputError)
def _invalid_input(request: HttpRequest, exc: InputError) -> HttpResponse:
    """Ninja's parameter validation, in the API's one error shape (400, not 422)."""
    errors: dict[str, str] = {}
    for e in exc.errors:
        loc = [str(p) for p in e.get("loc", ())]
        field = ".".join(loc[1:]) or (loc[0] if loc else "request")
        errors.setdefault(field, str(e.get("msg", "invalid")))
    detail = "Invalid input: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
    return _error(request, 400, detail, errors)


# ---------------------------------------------------------------- schemas (for the OpenAPI document)


class ErrorOut(Schema):
    detail: str
    errors: dict[str, str] = {}


class UploadOut(Schema):
    submission: int
    version: int
    number: int
    sha256: str
    size: int
    in_time: bool
    url: str
    status_url: str
    findings_url: str


class CheckRunOut(Schema):
    kind: str
    state: str
    attempt: int
    progress_done: int
    progress_total: int
    worker: str
    queued_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    message: str


class VersionOut(Schema):
    id: int
    number: int
    sha256: str
    size: int
    original_name: str
    source: str
    uploaded_at: dt.datetime
    in_time: bool
    state: str
    verdict: str
    engine_verdict: str
    official_verdict: str
    disagreement: bool
    checks_finished_at: dt.datetime | None
    check_runs: list[CheckRunOut]


class SubmissionOut(Schema):
    id: int
    round: str
    organisation: str
    organisation_name: str
    division: str
    category: str
    url: str
    findings_url: str
    official_version: int | None
    verdict: str | None
    versions: list[VersionOut]


class FindingOut(Schema):
    severity: str
    check: str
    key: str | None
    line: int | None
    message: str


class FileFindingsOut(Schema):
    path: str
    verdict: str
    findings: list[FindingOut]


class ScoreOut(Schema):
    """Strong scaling: exactly these three. HPC weak scaling adds scaling="weak", number_of_models and
    instance_scale (kept as extra fields so that strong-scaling entries carry no nulls)."""

    model_config = ConfigDict(extra="allow")

    system: str
    benchmark: str
    minutes: float


class PackageOut(Schema):
    path: str
    submitter: str
    verdict: str
    findings: list[FindingOut]
    files: list[FileFindingsOut]
    scores: list[ScoreOut]


class InferenceScoreOut(Schema):
    """A passing result folder's score as the official MLPerf Inference checker computes it."""

    system: str
    model: str
    scenario: str
    value: float
    units: str
    accuracy: float | None
    accuracy_metric: str
    power: float | None
    power_units: str


class InferencePackageOut(PackageOut):
    """The package of an inference round: its scores are `inference_scores` (`scores`, times to
    train, is empty)."""

    inference_scores: list[InferenceScoreOut]


class FindingsOut(Schema):
    usage: str | None
    ruleset: str | None
    engine: str
    rules: str
    submission: int
    version: int
    verdict: str
    packages: list[InferencePackageOut | PackageOut]
    page: int = 1
    pages: int = 1
    count: int = 0


class RoundOut(Schema):
    slug: str
    name: str
    group: str
    suite: str
    ruleset: str
    benchmarks: list[str]
    divisions: list[str]
    published: bool
    current_phase: str | None
    submission_window_open: bool
    deadline: dt.datetime | None
    grace_minutes: int
    deadline_with_grace: dt.datetime | None
    upload_url: str


# ---------------------------------------------------------------- uploads

UPLOAD_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["archive", "division", "category"],
                    "properties": {
                        "archive": {
                            "type": "string",
                            "format": "binary",
                            "description": "The result package: .tar.gz, .tgz, .tar or .zip",
                        },
                        "division": {"type": "string", "enum": list(Submission.Division.values)},
                        "category": {
                            "type": "string",
                            "enum": list(Submission.Category.values),
                            "description": "; ".join(f"{v}: {label}" for v, label in Submission.Category.choices),
                        },
                        "organisation": {
                            "type": "string",
                            "description": "Organisation slug; default: your own organisation",
                        },
                    },
                }
            }
        },
    }
}


def _validation_error(exc: ValidationError) -> tuple[str, dict[str, str]]:
    if hasattr(exc, "error_dict"):
        errors = {field: " ".join(messages) for field, messages in exc.message_dict.items()}
        return " ".join(errors.values()), errors
    return " ".join(exc.messages), {}


def _upload_form(request: HttpRequest) -> tuple[Any, Any, storage.ArchiveUploadHandler] | HttpResponse:
    """Parses the multipart form with the archive streaming straight into the store's incoming/
    folder (size and type checked as it comes); any malformed body is a 400 in the API's shape."""
    content_type = request.content_type or ""
    if content_type != "multipart/form-data":
        message = f"Send the upload as multipart/form-data (got {content_type or 'no Content-Type'!r})."
        return _error(request, 400, message, {"archive": message})
    handler = storage.ArchiveUploadHandler(request)
    request.upload_handlers = [handler]
    try:
        post, files = request.POST, request.FILES
    except (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent, UnicodeError, ValueError) as exc:
        handler.upload_interrupted()
        message = f"The request body is not a valid multipart/form-data form: {exc}"
        return _error(request, 400, message, {"archive": message})
    if handler.refusal is not None:
        handler.discard()
        detail, errors = _validation_error(handler.refusal)
        return _error(request, 413 if isinstance(handler.refusal, storage.ArchiveTooLarge) else 400, detail, errors)
    return post, files, handler


@api.post(
    "/v1/rounds/{slug}/submissions",
    auth=[bearer],
    response={201: UploadOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 413: ErrorOut},
    openapi_extra=UPLOAD_FORM,
    url_name="upload",
    summary="Upload a result package to a round",
    tags=["submissions"],
)
def upload(request: HttpRequest, slug: str):
    """A new version of your organisation's submission in this division (multipart form).

    The archive streams to disk; a new immutable version is stored and its checks are queued. Follow
    them at `status_url`."""
    # Before anything reads the body: refuse an oversized upload without receiving it.
    too_large = storage.content_length_refusal(request.META)
    if too_large:
        return _error(request, 413, too_large, {"archive": too_large})
    user = request.auth
    round = rounds.round_for(user, slug)
    if round is None:
        return _error(request, 404, f"No round {slug!r} (or it is not published).")
    form = _upload_form(request)
    if isinstance(form, HttpResponse):
        return form
    post, files, handler = form
    try:
        return _upload_record(request, round, user, post, files)
    finally:
        handler.discard()  # whatever of the body was not moved into the store


def _upload_record(request: HttpRequest, round: Any, user: Any, post: Any, files: Any):
    archive = files.get("archive")
    if not isinstance(archive, storage.ReceivedArchive):
        message = "Attach the package as the multipart file field 'archive' (curl: -F archive=@package.tar.gz)."
        return _error(request, 400, message, {"archive": message})
    org_slug = (post.get("organisation") or "").strip()
    if org_slug:
        organisation = Organisation.objects.filter(slug=org_slug).first()
        if organisation is None:
            message = f"No organisation {org_slug!r}."
            return _error(request, 400, message, {"organisation": message})
    else:
        person = person_of(user)
        organisation = person.organisation if person is not None and person.is_approved_member else None
        if organisation is None:
            return _error(
                request, 403, "You are not an approved member of an organisation; only its submitters upload."
            )
    try:
        version = services.submission_upload(
            round=round,
            organisation=organisation,
            division=(post.get("division") or "").strip(),
            category=(post.get("category") or "").strip(),
            archive=archive.stored,
            original_name=archive.name or "",
            actor=user,
            source=SubmissionVersion.Source.API,
            ip_address=client_address(request),
        )
    except PermissionDenied as exc:
        return _error(request, 403, str(exc) or "You may not upload to this round.")
    except ValidationError as exc:
        detail, errors = _validation_error(exc)
        return _error(request, 413 if isinstance(exc, storage.ArchiveTooLarge) else 400, detail, errors)
    submission_id = version.submission_id
    return Status(
        201,
        {
            "submission": submission_id,
            "version": version.pk,
            "number": version.number,
            "sha256": version.sha256,
            "size": version.size,
            "in_time": version.in_time,
            "url": request.build_absolute_uri(reverse("submissions:detail", kwargs={"pk": submission_id})),
            "status_url": request.build_absolute_uri(
                reverse("api:submission", kwargs={"submission_id": submission_id})
            ),
            "findings_url": request.build_absolute_uri(
                reverse("api:findings", kwargs={"submission_id": submission_id})
            ),
        },
    )


# ---------------------------------------------------------------- submissions


def _run_body(run: CheckRun) -> dict[str, Any]:
    return {
        "kind": run.kind,
        "state": run.state,
        "attempt": run.attempt,
        "progress_done": run.progress_done,
        "progress_total": run.progress_total,
        "worker": run.worker,
        "queued_at": run.queued_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "message": run.message,
    }


def _version_body(version: SubmissionVersion) -> dict[str, Any]:
    return {
        "id": version.pk,
        "number": version.number,
        "sha256": version.sha256,
        "size": version.size,
        "original_name": version.original_name,
        "source": version.source,
        "uploaded_at": version.uploaded_at,
        "in_time": version.in_time,
        "state": version.state,
        "verdict": version.verdict,
        "engine_verdict": version.engine_verdict,
        "official_verdict": version.official_verdict,
        "disagreement": version.disagreement,
        "checks_finished_at": version.checks_finished_at,
        "check_runs": [_run_body(r) for r in version.check_runs.all()],
    }


def _not_visible(request: HttpRequest, submission_id: int) -> HttpResponse:
    return _error(request, 404, f"No submission {submission_id} (or you may not see it).")


@api.get(
    "/v1/submissions/{submission_id}",
    auth=READ_AUTH,
    response={200: SubmissionOut, 401: ErrorOut, 404: ErrorOut},
    url_name="submission",
    summary="A submission, its versions and their checks",
    tags=["submissions"],
)
def submission_detail(request: HttpRequest, submission_id: int):
    """The submission, every version (newest first) with its check runs (state and progress), and
    the verdict of the version that counts (the latest uploaded in time)."""
    submission = selectors.submission_for(request.auth, submission_id)
    if submission is None:
        return _not_visible(request, submission_id)
    counting = selectors.official_version(submission)
    return {
        "id": submission.pk,
        "round": submission.round.slug,
        "organisation": submission.organisation.slug,
        "organisation_name": submission.organisation.name,
        "division": submission.division,
        "category": submission.category,
        "url": request.build_absolute_uri(reverse("submissions:detail", kwargs={"pk": submission.pk})),
        "findings_url": request.build_absolute_uri(reverse("api:findings", kwargs={"submission_id": submission.pk})),
        "official_version": counting.number if counting else None,
        "verdict": counting.verdict if counting else None,
        "versions": [_version_body(v) for v in selectors.submission_versions(submission)],
    }


# ---------------------------------------------------------------- findings


def _is_package_level(path: str) -> bool:
    return not path or path.startswith("systems/")


def _verdict(findings: list[Finding]) -> str:
    return "fail" if any(f.severity == Finding.Severity.ERROR for f in findings) else "pass"


def findings_document(version: SubmissionVersion, findings: list[Finding]) -> dict[str, Any]:
    """The version's findings in the compliance engine's JSON format (one package). Files appear
    when they have findings; findings without a path or under systems/ belong to the package."""
    submission = version.submission
    round = submission.round
    checked = bool(round.has_ruleset and round.ruleset)
    package_findings = [f for f in findings if _is_package_level(f.path)]
    files: dict[str, list[Finding]] = {}
    for f in findings:
        if not _is_package_level(f.path):
            files.setdefault(f.path, []).append(f)
    root = services.version_package_root(version)
    organisation = submission.organisation
    return {
        "usage": round.suite if checked else None,
        "ruleset": round.ruleset if checked else None,
        "engine": engine_id(),
        "rules": rules_id(round.suite, round.ruleset) if checked else rules_id(),
        "submission": submission.pk,
        "version": version.number,
        "verdict": version.verdict,
        "packages": [
            {
                "path": version.original_name,
                "submitter": root.name if root else (organisation.results_folder or organisation.name),
                "verdict": _verdict(package_findings),
                "findings": [f.to_dict() for f in package_findings],
                "files": [
                    {"path": path, "verdict": _verdict(items), "findings": [f.to_dict() for f in items]}
                    for path, items in sorted(files.items())
                ],
                "scores": [s.to_dict() for s in version.scores.all()],
                **(
                    {"inference_scores": [s.to_dict() for s in version.inference_scores.all()]}
                    if round.suite == "inference"
                    else {}
                ),
            }
        ],
    }


CSV_COLUMNS = ["path", "line", "severity", "check", "key", "message"]


def findings_csv(findings: list[Finding]) -> str:
    out = io.StringIO()
    csv_write(out, [CSV_COLUMNS, *((f.path, f.line, f.severity, f.check_id, f.key, f.message) for f in findings)])
    return out.getvalue()


@api.get(
    "/v1/submissions/{submission_id}/findings",
    auth=READ_AUTH,
    response={200: FindingsOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut},
    url_name="findings",
    summary="The findings of a version, as the compliance engine's JSON or as CSV",
    tags=["submissions"],
)
def submission_findings(
    request: HttpRequest,
    submission_id: int,
    version: int | None = None,
    format: Literal["json", "csv"] = "json",
    severity: Literal["", "error", "warning", "advisory"] = "",
    check: str = "",
    page: int = 1,
    page_size: int = Query(FINDINGS_PAGE_SIZE, ge=1, le=FINDINGS_MAX_PAGE_SIZE),
):
    """The current findings (each check's latest attempt) of the latest version, or of
    `?version=<number>`. `?format=csv` gives CSV (path, line, severity, check, key, message) as a
    download; `?severity=` and `?check=<check kind>` filter. JSON comes in pages of `?page_size=`
    findings (default 1,000): `?page=` (past the end: the last page); `page`, `pages` and `count` say
    where you are. The CSV download holds every finding."""
    submission = selectors.submission_for(request.auth, submission_id)
    if submission is None:
        return _not_visible(request, submission_id)
    versions = submission.versions.select_related("submission__round", "submission__organisation")
    chosen = versions.filter(number=version).first() if version is not None else versions.order_by("-number").first()
    if chosen is None:
        return _error(request, 404, f"Submission {submission_id} has no version {version}.")
    current = selectors.version_findings(chosen, severity=severity, check=check)
    if format == "csv":
        response = HttpResponse(findings_csv(list(current)), content_type="text/csv; charset=utf-8")
        name = f"submission-{submission.pk}-v{chosen.number}-findings.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    found = Paginator(current, page_size).get_page(page)
    document = findings_document(chosen, list(found))
    document.update(page=found.number, pages=found.paginator.num_pages, count=found.paginator.count)
    return document


# ---------------------------------------------------------------- rounds


def _round_body(request: HttpRequest, round: Any) -> dict[str, Any]:
    current = rounds.round_current_phase(round)
    return {
        "slug": round.slug,
        "name": round.name,
        "group": round.group.slug,
        "suite": round.suite,
        "ruleset": round.ruleset,
        "benchmarks": list(round.benchmarks or []),
        "divisions": list(round.divisions or []),
        "published": round.published,
        "current_phase": current.kind if current else None,
        "submission_window_open": rounds.round_submission_window_open(round),
        "deadline": rounds.round_deadline(round),
        "grace_minutes": round.grace_minutes,
        "deadline_with_grace": rounds.round_deadline_with_grace(round),
        "upload_url": request.build_absolute_uri(reverse("api:upload", kwargs={"slug": round.slug})),
    }


@api.get(
    "/v1/rounds",
    auth=PUBLIC_AUTH,
    response={200: list[RoundOut], 401: ErrorOut},
    url_name="rounds",
    summary="The rounds you may see, with their phase and whether uploads are open",
    tags=["rounds"],
)
def round_list(
    request: HttpRequest,
    response: HttpResponse,
    page: int = 1,
    page_size: int = Query(ROUNDS_PAGE_SIZE, ge=1, le=ROUNDS_MAX_PAGE_SIZE),
):
    """Published rounds for everyone (no authentication needed); unpublished ones too for the chairs
    of their group and for staff, newest first. Deadlines are ISO 8601 in UTC; uploads are accepted
    until `deadline_with_grace`. In pages of `?page_size=` rounds (default 25, at most 100): `?page=`
    (past the end: the last page); the `X-Total-Count` header gives the number of rounds and a
    `Link` header the next page."""
    found = Paginator(rounds.rounds_visible_to(request.auth).order_by("-created_at", "-pk"), page_size).get_page(page)
    response["X-Total-Count"] = str(found.paginator.count)
    if found.has_next():
        response["Link"] = f'<{request.path}?page={found.next_page_number()}&page_size={page_size}>; rel="next"'
    return [_round_body(request, r) for r in found]


# ---------------------------------------------------------------- anything else under /api/


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Routed after the API's own URLs (consortium/urls.py): a path the API does not have is a 404 in
    the API's error shape, not the site's HTML page."""
    return _error(request, 404, f"No such API endpoint: {request.path}. The endpoints are listed at /api/docs.")
