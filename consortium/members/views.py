"""Member directory, organisation pages, rosters, invitations and the person's profile. Thin views."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from consortium.audit.client import client_address
from consortium.common.forms import add_service_errors, error_text
from consortium.common.pagination import paginate
from consortium.members import permissions, selectors, services
from consortium.members.forms import DirectoryFilterForm, InvitationForm, ProfileForm, ReasonForm, RoleForm
from consortium.members.models import Invitation, Organisation, Person


@login_required
def directory(request: HttpRequest) -> HttpResponse:
    form = DirectoryFilterForm(request.GET or None, countries=selectors.directory_countries())
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.organisation_directory(**{k: v for k, v in filters.items() if v})
    template = "members/_directory_rows.html" if request.htmx else "members/directory.html"
    return render(request, template, {"form": form, "rows": paginate(request, rows)})


@login_required
def organisation(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        org = selectors.organisation_detail(slug)
    except Organisation.DoesNotExist as exc:
        raise Http404("No such organisation.") from exc
    show_people = permissions.can_view_roster_names(request.user, org)
    return render(
        request,
        "members/organisation.html",
        {
            "organisation": org,
            "membership": selectors.current_membership(org),
            "memberships": org.memberships.all(),
            "contacts": selectors.organisation_contacts(org),
            "people": paginate(request, selectors.organisation_people(org)) if show_people else None,
            "can_manage": permissions.can_manage_roster(request.user, org),
        },
    )


def roster_manager_required(view):
    """Loads the organisation and allows only its primary contacts and staff admins."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, slug: str, *args, **kwargs):
        org = get_object_or_404(Organisation, slug=slug)
        if not permissions.can_manage_roster(request.user, org):
            raise PermissionDenied("Only the organisation's primary contacts and staff manage its roster.")
        return view(request, org, *args, **kwargs)

    return wrapper


@roster_manager_required
def roster(request: HttpRequest, org: Organisation) -> HttpResponse:
    invite_form = InvitationForm(request.POST or None)
    if request.method == "POST" and invite_form.is_valid():
        data = invite_form.cleaned_data
        try:
            invitation, _ = services.invitation_create(
                organisation=org,
                email=data["email"],
                roles=data["roles"],
                actor=request.user,
                confirm_outside_domains=data["confirm_outside_domains"],
                ip_address=client_address(request),
            )
        except ValidationError as exc:
            add_service_errors(invite_form, exc)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("members:roster", slug=org.slug)
    return render(
        request,
        "members/roster.html",
        {
            "organisation": org,
            "people": paginate(request, selectors.organisation_people(org)),
            "pending": paginate(request, selectors.organisation_pending_people(org), param="pending_page"),
            "invitations": selectors.organisation_invitations(org),
            "invite_form": invite_form,
            "role_choices": RoleForm.base_fields["role"].choices,
        },
        status=400 if request.method == "POST" else 200,
    )


def _roster_action(request: HttpRequest, org: Organisation, action, success: str) -> HttpResponse:
    try:
        action()
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, success)
    return redirect("members:roster", slug=org.slug)


def _person_in(org: Organisation, person_id: int) -> Person:
    return get_object_or_404(Person.objects.select_related("user"), pk=person_id, organisation=org)


@require_POST
@roster_manager_required
def person_approve(request: HttpRequest, org: Organisation, person_id: int) -> HttpResponse:
    person = _person_in(org, person_id)
    return _roster_action(
        request,
        org,
        lambda: services.person_approve(person=person, actor=request.user, ip_address=client_address(request)),
        f"{person} is now a member of {org}.",
    )


@require_POST
@roster_manager_required
def person_decline(request: HttpRequest, org: Organisation, person_id: int) -> HttpResponse:
    person = _person_in(org, person_id)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _roster_action(
        request,
        org,
        lambda: services.person_decline(
            person=person, actor=request.user, reason=reason, ip_address=client_address(request)
        ),
        f"Declined {person}.",
    )


@require_POST
@roster_manager_required
def person_remove(request: HttpRequest, org: Organisation, person_id: int) -> HttpResponse:
    person = _person_in(org, person_id)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _roster_action(
        request,
        org,
        lambda: services.person_remove_from_organisation(
            person=person, actor=request.user, reason=reason, ip_address=client_address(request)
        ),
        f"{person} was removed from {org}.",
    )


@require_POST
@roster_manager_required
def role_change(request: HttpRequest, org: Organisation, person_id: int, change: str) -> HttpResponse:
    if change not in ("grant", "revoke"):
        raise Http404("Unknown role change.")
    person = _person_in(org, person_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
        return redirect("members:roster", slug=org.slug)
    role = form.cleaned_data["role"]
    label = dict(form.fields["role"].choices)[role]
    service = services.role_grant if change == "grant" else services.role_revoke
    done = "now has" if change == "grant" else "no longer has"
    return _roster_action(
        request,
        org,
        lambda: service(
            person=person, organisation=org, role=role, actor=request.user, ip_address=client_address(request)
        ),
        f"{person} {done} the role {label}.",
    )


@require_POST
@roster_manager_required
def invitation_revoke(request: HttpRequest, org: Organisation, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id, organisation=org)
    return _roster_action(
        request,
        org,
        lambda: services.invitation_revoke(
            invitation=invitation, actor=request.user, ip_address=client_address(request)
        ),
        f"The invitation to {invitation.email} was revoked.",
    )


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link. Anyone may open it; accepting needs the invited account."""
    found = services.invitation_by_token(token)
    error = None
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{request.build_absolute_uri('/accounts/login/')}?next={request.path}")
        try:
            services.invitation_accept(token=token, user=request.user, ip_address=client_address(request))
        except ValidationError as exc:
            error = error_text(exc)
        else:
            messages.success(request, f"Welcome to {found.organisation}.")
            return redirect("members:organisation", slug=found.organisation.slug)
    return render(
        request,
        "members/invitation.html",
        {"invitation": found, "error": error, "state": found.state if found else None},
        status=400 if error else (404 if found is None else 200),
    )


@login_required
def invitation_inbox(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "members/invitation_inbox.html",
        {"invitations": selectors.pending_invitations_for(request.user)},
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    person = services.person_get_or_create(user=request.user)
    form = ProfileForm(
        request.POST or None, initial={"full_name": person.full_name, "github_handle": person.github_handle}
    )
    if request.method == "POST" and form.is_valid():
        services.person_update_profile(person=person, **form.cleaned_data)
        messages.success(request, "Your profile was saved.")
        return redirect("members:profile")
    roles = person.roles.select_related("organisation") if person.organisation_id else []
    return render(
        request,
        "members/profile.html",
        {"form": form, "person": person, "roles": roles},
        status=400 if request.method == "POST" else 200,
    )
