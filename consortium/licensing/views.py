"""Member pages of dataset licensing. Thin: every access question goes to access.access_decision,
every change to a service."""

from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from consortium.audit.client import client_address
from consortium.common.forms import add_service_errors, error_text
from consortium.licensing import downloads, permissions, selectors, services
from consortium.licensing.access import Missing, access_decision, access_decisions, cooldown_ends
from consortium.licensing.forms import AcceptanceForm, AccessRequestForm, CatalogueFilterForm
from consortium.licensing.models import AccessRequest, Dataset
from consortium.members.permissions import person_of
from consortium.members.selectors import organisation_people


def with_dataset(view):
    """Loads the dataset by slug among those the user may see (404 otherwise)."""

    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args, **kwargs):
        try:
            dataset = selectors.dataset_for(request.user, slug)
        except Dataset.DoesNotExist as exc:
            raise Http404("No such dataset.") from exc
        return view(request, dataset, *args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class Step:
    label: str
    url: str
    method: str = "get"
    primary: bool = True


def next_steps(request: HttpRequest, dataset: Dataset, decision) -> list[Step]:
    """What the person can do next, from what the predicate says is missing."""
    slug = {"slug": dataset.slug}
    if decision.allowed:
        return [Step("Download", reverse("licensing:download", kwargs=slug))]
    steps: list[Step] = []
    codes = set(decision.codes)
    if Missing.LOGIN in codes:
        return [Step("Log in to get access", f"{reverse('account_login')}?next={request.path}")]
    cooling_down = False
    if Missing.REQUEST_REJECTED in codes and decision.access_request is not None:
        again = cooldown_ends(decision.access_request, dataset)
        cooling_down = again is not None and again > timezone.now()
    if codes & {Missing.REQUEST_NEEDED, Missing.REQUEST_RETURNED} or (
        Missing.REQUEST_REJECTED in codes and not cooling_down
    ):
        label = "Edit and resubmit your request" if Missing.REQUEST_RETURNED in codes else "Request access"
        steps.append(Step(label, reverse("licensing:request_access", kwargs=slug)))
    if (
        dataset.requires_approval
        and codes & {Missing.GRANT_EXPIRED, Missing.GRANT_REVOKED}
        and not codes & {Missing.REQUEST_PENDING, Missing.REQUEST_RETURNED, Missing.REQUEST_REJECTED}
    ):
        steps.append(Step("Request access again", reverse("licensing:request_access", kwargs=slug)))
    if codes & {Missing.REQUEST_PENDING, Missing.REQUEST_RETURNED}:
        steps.append(Step("Withdraw request", reverse("licensing:withdraw_request", kwargs=slug), "post", False))
    if codes & {Missing.AGREEMENT_NOT_ACCEPTED, Missing.REACCEPTANCE_REQUIRED}:
        steps.append(Step("Read and accept the agreement", reverse("licensing:accept", kwargs=slug)))
    if codes & {Missing.ORGANISATION_NOT_SIGNED, Missing.ORGANISATION_REACCEPTANCE_REQUIRED}:
        person = decision.person
        if permissions.can_sign_for(request.user, person.organisation if person else None):
            steps.append(Step(f"Read and sign for {person.organisation}", reverse("licensing:accept", kwargs=slug)))
    if codes and codes <= services.SELF_SERVICE and not dataset.requires_approval:
        steps.append(Step("Get access", reverse("licensing:get_access", kwargs=slug), "post"))
    if decision.agreement and decision.agreement.due and not steps:
        steps.append(Step("Accept the new version", reverse("licensing:accept", kwargs=slug), "get", False))
    return steps


def catalogue(request: HttpRequest) -> HttpResponse:
    form = CatalogueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    datasets = list(selectors.catalogue(request.user, q=filters.get("q", ""), policy=filters.get("policy", "")))
    person = person_of(request.user)
    rows = (
        list(zip(datasets, access_decisions(person, datasets), strict=True))
        if person
        else [(d, None) for d in datasets]
    )
    template = "licensing/_catalogue_rows.html" if request.htmx else "licensing/catalogue.html"
    return render(request, template, {"form": form, "rows": rows})


@with_dataset
def dataset_detail(request: HttpRequest, dataset: Dataset) -> HttpResponse:
    decision = access_decision(request.user, dataset)
    person = decision.person
    signatories = []
    if (
        dataset.agreement_id
        and dataset.agreement.signed_by_organisation
        and person
        and person.is_approved_member
        and not decision.allowed
    ):
        signatories = [
            p for p in organisation_people(person.organisation) if any(r.role == "signatory" for r in p.roles.all())
        ]
    return render(
        request,
        "licensing/dataset.html",
        {
            "dataset": dataset,
            "decision": decision,
            "steps": next_steps(request, dataset, decision),
            "licences": selectors.licences_of(dataset),
            "subsets": dataset.subsets.all(),
            "open_request": selectors.open_request_for(person, dataset),
            "signatories": signatories,
            "is_admin": permissions.can_administer_licensing(request.user),
        },
    )


@never_cache
@require_GET
@with_dataset
def access_json(request: HttpRequest, dataset: Dataset) -> JsonResponse:
    """The predicate's answer for the asking user, for scripts and htmx."""
    decision = access_decision(request.user, dataset)
    return JsonResponse(
        {
            "dataset": dataset.slug,
            "allowed": decision.allowed,
            "missing": [{"code": r.code, "message": r.message} for r in decision.missing],
            "notes": decision.notes,
            "grant": decision.grant.pk if decision.grant else None,
        }
    )


def _person_required(request: HttpRequest):
    person = person_of(request.user)
    if person is None:
        raise PermissionDenied("Your account has no member profile.")
    return person


@require_POST
@login_required
@with_dataset
def get_access(request: HttpRequest, dataset: Dataset) -> HttpResponse:
    person = _person_required(request)
    try:
        services.grant_take_up(dataset=dataset, person=person, actor=request.user, ip_address=client_address(request))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"You now have access to {dataset}.")
    return redirect("licensing:dataset", slug=dataset.slug)


@login_required
@with_dataset
def request_access(request: HttpRequest, dataset: Dataset) -> HttpResponse:
    person = _person_required(request)
    if not dataset.requires_approval:
        messages.info(request, f"{dataset} does not need a request: follow the steps on this page.")
        return redirect("licensing:dataset", slug=dataset.slug)
    open_request = selectors.open_request_for(person, dataset)
    if open_request is not None and open_request.state == AccessRequest.State.SUBMITTED:
        messages.info(request, "Your request is waiting for a dataset admin's decision.")
        return redirect("licensing:dataset", slug=dataset.slug)
    form = AccessRequestForm(request.POST or None, dataset=dataset, request_obj=open_request)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if open_request is not None:
                    services.access_request_resubmit(
                        access_request=open_request,
                        purpose=form.cleaned_data["purpose"],
                        answers=form.answers(),
                        actor=request.user,
                        ip_address=client_address(request),
                    )
                else:
                    services.access_request_submit(
                        dataset=dataset,
                        person=person,
                        purpose=form.cleaned_data["purpose"],
                        answers=form.answers(),
                        actor=request.user,
                        ip_address=client_address(request),
                    )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Your request for {dataset} was sent to the dataset admins.")
                return redirect("licensing:dataset", slug=dataset.slug)
    return render(
        request,
        "licensing/request_form.html",
        {"dataset": dataset, "form": form, "open_request": open_request},
        status=status,
    )


@require_POST
@login_required
@with_dataset
def withdraw_request(request: HttpRequest, dataset: Dataset) -> HttpResponse:
    person = _person_required(request)
    open_request = selectors.open_request_for(person, dataset)
    if open_request is None:
        messages.error(request, "You have no open request for this dataset.")
    else:
        try:
            services.access_request_withdraw(
                access_request=open_request, actor=request.user, ip_address=client_address(request)
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, "Your request was withdrawn.")
    return redirect("licensing:dataset", slug=dataset.slug)


@login_required
@with_dataset
def accept(request: HttpRequest, dataset: Dataset) -> HttpResponse:
    if dataset.agreement_id is None:
        raise Http404("This dataset has no agreement.")
    person = _person_required(request)
    decision = access_decision(person, dataset)
    status_ = decision.agreement
    version = status_.current if status_ else None
    organisation = person.organisation if person.is_approved_member else None
    by_organisation = dataset.agreement.signed_by_organisation
    may_sign = not by_organisation or permissions.can_sign_for(request.user, organisation)
    status = 200
    page_errors: list[str] = []
    if request.method == "POST":
        if not may_sign:
            raise PermissionDenied("Only your organisation's signatory may sign this agreement.")
        form = AcceptanceForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                services.agreement_accept(
                    dataset=dataset,
                    person=person,
                    version_id=form.cleaned_data["version_id"],
                    text_sha256=form.cleaned_data["text_sha256"],
                    typed_name=form.cleaned_data["typed_name"],
                    actor=request.user,
                    ip_address=client_address(request),
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                )
            except ValidationError as exc:
                if version is not None and form.data.get("version_id") != str(version.pk):
                    # A stale form: show the version now in force, with a fresh form for it.
                    page_errors = exc.messages
                    form = AcceptanceForm(initial={"version_id": version.pk, "text_sha256": version.text_sha256})
                else:
                    add_service_errors(form, exc)
            else:
                who = f" for {organisation}" if by_organisation else ""
                messages.success(request, f"You accepted “{dataset.agreement}” version {version.label}{who}.")
                return redirect("licensing:dataset", slug=dataset.slug)
    else:
        form = AcceptanceForm(
            initial={"version_id": version.pk, "text_sha256": version.text_sha256} if version else None
        )
    return render(
        request,
        "licensing/accept.html",
        {
            "dataset": dataset,
            "agreement": dataset.agreement,
            "version": version,
            "form": form,
            "decision": decision,
            "already": status_ is not None and status_.accepted_current,
            "acceptance": status_.acceptance if status_ else None,
            "may_sign": may_sign,
            "by_organisation": by_organisation,
            "organisation": organisation,
            "person": person,
            "page_errors": page_errors,
        },
        status=status,
    )


@never_cache
@login_required
@with_dataset
def download(request: HttpRequest, dataset: Dataset) -> HttpResponse:
    """The page of short-lived links, for people the predicate allows."""
    decision = access_decision(request.user, dataset)
    if not decision.allowed:
        return render(
            request,
            "licensing/download.html",
            {"dataset": dataset, "decision": decision, "links": []},
            status=403,
        )
    links = downloads.download_links_issue(
        dataset=dataset, decision=decision, actor=request.user, ip_address=client_address(request)
    )
    return render(
        request,
        "licensing/download.html",
        {
            "dataset": dataset,
            "decision": decision,
            "links": links,
            "lifetime_minutes": downloads.link_lifetime() // 60,
            "licences": selectors.licences_of(dataset),
        },
    )


@never_cache
@login_required
def download_file(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ticket = downloads.download_authorise(token=token, user=request.user)
    except downloads.DownloadRefused as refused:
        return render(request, "licensing/download_refused.html", {"message": refused.message}, status=refused.status)
    downloads.download_record(ticket=ticket, actor=request.user, ip_address=client_address(request))
    stored = ticket.subset.file if ticket.subset else ticket.dataset.file
    if stored:
        return FileResponse(stored.open("rb"), as_attachment=True, filename=stored.name.rsplit("/", 1)[-1])
    name, content = downloads.generated_file(ticket)
    response = HttpResponse(content, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    person = person_of(request.user)
    grants = list(selectors.grants_of(person))
    rows = list(zip(grants, access_decisions(person, [g.dataset for g in grants]), strict=True)) if person else []
    return render(
        request,
        "licensing/mine.html",
        {
            "rows": rows,
            "requests": selectors.requests_of(person),
            "acceptances": selectors.acceptances_of(person),
            "person": person,
        },
    )
