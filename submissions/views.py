"""Submission pages: thin views over selectors and services."""

from itertools import groupby

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from consortium.audit.client import client_address
from consortium.common.forms import add_service_errors, error_text
from consortium.common.pagination import paginate
from consortium.members.permissions import is_staff_admin, person_of
from submissions import permissions, selectors, services, storage
from submissions.forms import FindingFilterForm, FixWindowForm, UploadForm
from submissions.models import CheckKind, CheckRun
from submissions.presentation import findings_grouped
from workinggroups import selectors as rounds
from workinggroups.models import Round
from workinggroups.schedules import SUBMISSION

# The places (the package, a system description, a result file) shown on one page of findings.
FINDING_PLACES_PER_PAGE = 50

# Within a place, what the binding checks say comes first.
FINDING_CHECK_ORDER = [
    CheckKind.UNPACK,
    CheckKind.OFFICIAL,
    CheckKind.SYSTEMS,
    CheckKind.PACKAGE,
    CheckKind.RESULTS,
    CheckKind.SCORES,
]


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    subs = (
        selectors.submissions_visible_to(request.user)
        .order_by("-round__created_at", "organisation__name", "pk")
        .prefetch_related("versions")
    )
    page = paginate(request, subs)
    grouped = [(r, [_with_counting(s) for s in items]) for r, items in groupby(page, key=lambda s: s.round)]
    person = person_of(request.user)
    open_rounds = [
        r
        for r in rounds.rounds_in_phase(rounds.rounds_visible_to(request.user), (SUBMISSION,), timezone.now())
        if rounds.round_submission_window_open(r)
        and person
        and person.organisation
        and permissions.upload_refusal(request.user, r, person.organisation) is None
    ]
    return render(request, "submissions/mine.html", {"grouped": grouped, "open_rounds": open_rounds, "page": page})


def _with_counting(submission):
    """The submission with `latest` and `counting` versions taken from its prefetched versions (newest
    first): the one that counts is the latest uploaded in time."""
    versions = list(submission.versions.all())
    submission.latest = versions[0] if versions else None
    submission.counting = next((v for v in versions if v.in_time), None)
    return submission


def _upload_round(request: HttpRequest, slug: str) -> tuple[Round, object]:
    round = rounds.round_for(request.user, slug)
    if round is None:
        raise Http404("No such round.")
    person = person_of(request.user)
    if person is None or person.organisation is None:
        raise PermissionDenied("Only submitters of member organisations upload submissions.")
    refusal = permissions.upload_refusal(request.user, round, person.organisation)
    if refusal:
        raise PermissionDenied(refusal)
    return round, person.organisation


@csrf_exempt  # only so that the archive's upload handler is set before anything reads the body
@login_required
def upload(request: HttpRequest, slug: str) -> HttpResponse:
    """The upload form. The archive streams straight into the store (size and type checked as it
    comes, and an oversized Content-Length refused before the body is read), as on the API."""
    round, organisation = _upload_round(request, slug)
    handler = None
    if request.method == "POST":
        too_large = storage.content_length_refusal(request.META)
        if too_large:
            return _upload_page(request, round, organisation, UploadForm(divisions=round.divisions), 413, too_large)
        handler = storage.ArchiveUploadHandler(request)
        request.upload_handlers = [handler]
    try:
        return _upload_form(request, round, organisation, handler)
    finally:
        if handler is not None:
            handler.discard()  # whatever was not moved into the store


@csrf_protect
def _upload_form(request: HttpRequest, round: Round, organisation, handler) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, divisions=round.divisions)
    status = 200
    if request.method == "POST":
        status = 400
        if handler is not None and handler.refusal is not None:
            status = 413 if isinstance(handler.refusal, storage.ArchiveTooLarge) else 400
            form.is_valid()
            form.errors.pop("archive", None)
            add_service_errors(form, handler.refusal)
        elif form.is_valid():
            archive = form.cleaned_data["archive"]
            try:
                version = services.submission_upload(
                    round=round,
                    organisation=organisation,
                    division=form.cleaned_data["division"],
                    category=form.cleaned_data["category"],
                    archive=getattr(archive, "stored", archive),
                    original_name=archive.name,
                    actor=request.user,
                    source="web",
                    ip_address=client_address(request),
                )
            except ValidationError as exc:
                if isinstance(exc, storage.ArchiveTooLarge):
                    status = 413
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Version {version.number} uploaded; its checks are queued.")
                url = f"/submissions/{version.submission_id}/"
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = url
                    return response
                return redirect(url)
    return _upload_page(request, round, organisation, form, status)


def _upload_page(request, round: Round, organisation, form, status: int, error: str = "") -> HttpResponse:
    return render(
        request,
        "submissions/upload.html",
        {
            "round": round,
            "organisation": organisation,
            "form": form,
            "max_bytes": settings.SUBMISSION_MAX_ARCHIVE_BYTES,
            "deadline": rounds.round_deadline_with_grace(round),
            "window_open": rounds.round_submission_window_open(round),
            "upload_error": error,
        },
        status=status,
    )


def _visible_submission(request: HttpRequest, pk: int):
    submission = selectors.submission_for(request.user, pk)
    if submission is None:
        raise Http404("No such submission, or you may not see it.")
    return submission


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _visible_submission(request, pk)
    versions = selectors.submission_versions(submission)
    shown = versions[0] if versions else None
    if versions and request.GET.get("version"):
        shown = next((v for v in versions if str(v.number) == request.GET["version"]), shown)
    form = FindingFilterForm(request.GET or None, kinds=CheckKind.choices)
    filters = form.cleaned_data if form.is_valid() else {}
    findings = list(selectors.version_findings(shown, **{k: v for k, v in filters.items() if v})) if shown else []
    groups = findings_grouped(findings, check_order=FINDING_CHECK_ORDER)
    groups_page = paginate(request, groups, per_page=FINDING_PLACES_PER_PAGE, param="findings_page")
    return render(
        request,
        "submissions/detail.html",
        {
            "submission": submission,
            "versions": versions,
            "shown": shown,
            "finding_groups": groups_page,
            "findings_count": len(findings),
            "filter_form": form,
            "counted": selectors.official_version(submission),
            "can_rerun": permissions.can_rerun_checks(request.user, submission),
            "can_cancel": permissions.can_cancel_checks(request.user, submission),
            "can_fix": permissions.can_open_fix_window(request.user, submission),
            "fix_form": FixWindowForm(),
            "fix_windows": submission.fix_windows.all(),
        },
    )


@login_required
def checks_partial(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """The live part of the page: check states and progress, polled by htmx while checks run."""
    submission = _visible_submission(request, pk)
    version = next((v for v in selectors.submission_versions(submission) if v.number == number), None)
    if version is None:
        raise Http404("No such version.")
    context = {
        "submission": submission,
        "version": version,
        "can_rerun": permissions.can_rerun_checks(request.user, submission),
        "can_cancel": permissions.can_cancel_checks(request.user, submission),
    }
    response = render(request, "submissions/_checks.html", context)
    if version.verdict != version.Verdict.PENDING:
        # The rest of the page (findings, versions, scores, verdict) refreshes once on this event.
        response["HX-Trigger"] = "checks-finished"
    return response


def _run_of(request: HttpRequest, pk: int, run_id: int) -> CheckRun:
    submission = _visible_submission(request, pk)
    return get_object_or_404(
        CheckRun.objects.select_related("version__submission__round__group"), pk=run_id, version__submission=submission
    )


@require_POST
@login_required
def run_rerun(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    run = _run_of(request, pk, run_id)
    try:
        services.run_rerun(run=run, actor=request.user, ip_address=client_address(request))
        messages.success(request, f"{run.get_kind_display()} queued again (attempt {run.attempt + 1}).")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect("submissions:detail", pk=pk)


@require_POST
@login_required
def run_cancel(request: HttpRequest, pk: int, run_id: int) -> HttpResponse:
    run = _run_of(request, pk, run_id)
    try:
        services.run_cancel(run=run, actor=request.user, ip_address=client_address(request))
        messages.success(request, f"{run.get_kind_display()} cancelled.")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect("submissions:detail", pk=pk)


@require_POST
@login_required
def fix_window(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _visible_submission(request, pk)
    form = FixWindowForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the closing time and a reason for the fix window.")
        return redirect("submissions:detail", pk=pk)
    try:
        services.fix_window_open(
            submission=submission,
            actor=request.user,
            closes_at=form.cleaned_data["closes_at"],
            reason=form.cleaned_data["reason"],
            ip_address=client_address(request),
        )
        messages.success(request, "Fix window opened: the organisation may upload a new version until it closes.")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect("submissions:detail", pk=pk)


@login_required
def round_submissions(request: HttpRequest, slug: str) -> HttpResponse:
    round = rounds.round_for(request.user, slug)
    if round is None:
        raise Http404("No such round.")
    page = paginate(request, selectors.round_submissions_for(request.user, round).prefetch_related("versions"))
    for s in page:
        _with_counting(s)
    return render(
        request,
        "submissions/round.html",
        {"round": round, "submissions": page, "deadline": rounds.round_deadline_with_grace(round)},
    )


def round_results(request: HttpRequest, slug: str) -> HttpResponse:
    """Public: the published results of a round (scores of passing counting versions)."""
    round = rounds.round_for(request.user, slug)
    if round is None:
        raise Http404("No such round.")
    rows = selectors.published_results(round)
    by_benchmark = [(b, list(items)) for b, items in groupby(rows, key=lambda r: r["benchmark"])]
    phase = rounds.round_phase(round, "publication")
    return render(
        request,
        "submissions/results.html",
        {
            "round": round,
            "by_benchmark": by_benchmark,
            "published": permissions.results_published(round),
            "still_checking": selectors.results_still_checking(round),
            "publication": phase.starts_at if phase else None,
        },
    )


def _staff_only(request: HttpRequest) -> None:
    if not is_staff_admin(request.user):
        raise PermissionDenied("Staff only.")


@login_required
def disagreements(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    return render(request, "submissions/disagreements.html", {"versions": selectors.disagreements()})


@login_required
def workers(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    template = "submissions/_workers.html" if request.htmx else "submissions/workers.html"
    return render(request, template, selectors.worker_overview())
