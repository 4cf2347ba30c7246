"""Review and publication pages: thin views over the review's selectors and services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from consortium.audit.client import client_address
from consortium.common.forms import add_service_errors, error_text
from submissions import selectors as submission_selectors
from submissions.review import forms, permissions, selectors, services
from submissions.review.models import Objection, Vote
from workinggroups import selectors as rounds


def _round(request: HttpRequest, slug: str):
    round = rounds.round_for(request.user, slug)
    if round is None:
        raise Http404("No such round.")
    return round


def _review_round(request: HttpRequest, slug: str):
    round = _round(request, slug)
    if not permissions.can_view_review(request.user, round):
        raise Http404("No such round in review (or you may not see its review).")
    return round


@login_required
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """The chair's review dashboard of a round."""
    round = _round(request, slug)
    if not permissions.is_review_chair(request.user, round):
        raise PermissionDenied("The review dashboard is for the round's chairs and staff.")
    context = selectors.review_dashboard(round)
    context.update(round=round, vote_form=forms.VoteForm(), tie_break_order=selectors.round_tie_break_order(round))
    return render(request, "submissions/review/dashboard.html", context)


@require_POST
@login_required
def tie_break(request: HttpRequest, slug: str) -> HttpResponse:
    round = _round(request, slug)
    try:
        services.round_tie_break_set(
            actor=request.user, round=round, order=request.POST.get("order", "").replace(",", " ").split()
        )
        messages.success(request, "Tie-break order saved.")
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, error_text(exc))
    return redirect("submissions:review_dashboard", slug=slug)


@require_POST
@login_required
def assign_reviews(request: HttpRequest, slug: str) -> HttpResponse:
    round = _round(request, slug)
    try:
        made = services.review_assignments_make(actor=request.user, round=round)
        messages.success(request, f"{len(made)} review assignments added.")
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, error_text(exc))
    return redirect("submissions:review_dashboard", slug=slug)


@login_required
def objection_new(request: HttpRequest, slug: str) -> HttpResponse:
    round = _review_round(request, slug)
    organisation = permissions.submitting_organisation_of(request.user, round)
    if organisation is None:
        raise PermissionDenied("Only submitters and primary contacts of a submitting organisation file objections.")
    others = [
        s
        for s in submission_selectors.round_submissions_for(request.user, round)
        if s.organisation_id != organisation.pk
    ]
    form = forms.ObjectionForm(request.POST or None, submissions=others)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            submission = next(s for s in others if s.pk == form.cleaned_data["against"])
            try:
                objection = services.objection_file(
                    actor=request.user,
                    submission=submission,
                    summary=form.cleaned_data["summary"],
                    rule=form.cleaned_data["rule"],
                    details=form.cleaned_data["details"],
                    fix_required=form.cleaned_data["fix_required"],
                    evidence=form.cleaned_data["evidence"],
                    ip_address=client_address(request),
                )
                messages.success(request, f"Objection {objection.pk} filed against {submission.organisation}.")
                return redirect("submissions:objection", pk=objection.pk)
            except PermissionDenied as exc:
                form.add_error(None, error_text(exc))
            except ValidationError as exc:
                add_service_errors(form, exc)
    return render(request, "submissions/review/objection_new.html", {"round": round, "form": form}, status=status)


def _objection(request: HttpRequest, pk: int) -> Objection:
    objection = selectors.objection_for(request.user, pk)
    if objection is None:
        raise Http404("No such objection (or you may not see it).")
    return objection


@login_required
def objection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    objection = _objection(request, pk)
    organisation = permissions.organisation_of(request.user)
    acts = organisation is not None and permissions.acts_for(request.user, organisation)
    is_party = acts and organisation.pk in (objection.submission.organisation_id, objection.filed_by_organisation_id)
    return render(
        request,
        "submissions/review/objection.html",
        {
            "objection": objection,
            "evidence": selectors.evidence_context(objection),
            "responses": selectors.objection_responses(objection),
            "can_respond": is_party and objection.state in Objection.OPEN_STATES,
            "can_withdraw": acts
            and organisation.pk == objection.filed_by_organisation_id
            and objection.state in Objection.OPEN_STATES,
            "is_chair": permissions.is_review_chair(request.user, objection.round),
            "response_form": forms.ResponseForm(),
            "decision_form": forms.DecisionForm(),
            "votes": objection.votes.all(),
        },
    )


def _objection_action(request: HttpRequest, pk: int, action, success: str, form_class=None) -> HttpResponse:
    objection = _objection(request, pk)
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("submissions:objection", pk=pk)
    try:
        action(objection, form.cleaned_data if form else {})
        messages.success(request, success)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, error_text(exc))
    return redirect("submissions:objection", pk=pk)


@require_POST
@login_required
def objection_respond(request: HttpRequest, pk: int) -> HttpResponse:
    ip = client_address(request)
    return _objection_action(
        request,
        pk,
        lambda o, d: services.objection_respond(
            actor=request.user, objection=o, body=d["body"], acknowledges_fix=d["acknowledges_fix"], ip_address=ip
        ),
        "Answer recorded.",
        forms.ResponseForm,
    )


@require_POST
@login_required
def objection_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    ip = client_address(request)
    return _objection_action(
        request,
        pk,
        lambda o, d: services.objection_withdraw(
            actor=request.user, objection=o, reason=d.get("reason", ""), ip_address=ip
        ),
        "Objection withdrawn.",
        forms.ReasonForm,
    )


@require_POST
@login_required
def objection_decide(request: HttpRequest, pk: int) -> HttpResponse:
    ip = client_address(request)
    return _objection_action(
        request,
        pk,
        lambda o, d: services.objection_decide(
            actor=request.user, objection=o, outcome=d["outcome"], note=d["note"], ip_address=ip
        ),
        "Decision recorded.",
        forms.DecisionForm,
    )


@require_POST
@login_required
def objection_close(request: HttpRequest, pk: int) -> HttpResponse:
    ip = client_address(request)
    return _objection_action(
        request,
        pk,
        lambda o, d: services.objection_close(actor=request.user, objection=o, note=d["reason"], ip_address=ip),
        "Objection closed.",
        forms.ReasonForm,
    )


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Objections against the person's organisation (and those it filed)."""
    organisation = permissions.organisation_of(request.user)
    if organisation is None:
        raise PermissionDenied("The objections inbox is for people of member organisations.")
    seen: dict[int, bool] = {}

    def visible(o: Objection) -> bool:
        if o.round_id not in seen:
            seen[o.round_id] = permissions.can_view_review(request.user, o.round)
        return seen[o.round_id]

    against = [o for o in selectors.objections_against(request.user) if visible(o)]
    filed = [o for o in selectors.objections_filed_by(request.user) if visible(o)]
    return render(
        request, "submissions/review/inbox.html", {"organisation": organisation, "against": against, "filed": filed}
    )


@require_POST
@login_required
def vote_new(request: HttpRequest, slug: str) -> HttpResponse:
    round = _round(request, slug)
    form = forms.VoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        return redirect("submissions:review_dashboard", slug=slug)
    objection = None
    if form.cleaned_data.get("objection"):
        objection = Objection.objects.filter(pk=form.cleaned_data["objection"], round=round).first()
    try:
        vote = services.vote_open(
            actor=request.user,
            round=round,
            question=form.cleaned_data["question"],
            options=form.cleaned_data["options"],
            closes_at=form.cleaned_data["closes_at"],
            objection=objection,
        )
        messages.success(request, "Vote opened.")
        return redirect("submissions:ballot", pk=vote.pk)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, error_text(exc))
    return redirect("submissions:review_dashboard", slug=slug)


def _vote(request: HttpRequest, pk: int) -> Vote:
    vote = selectors.vote_for(request.user, pk)
    if vote is None:
        raise Http404("No such vote (or you may not see it).")
    return vote


@login_required
def ballot(request: HttpRequest, pk: int) -> HttpResponse:
    """The ballot page: the options, the open ballots so far, and a form for the organisation."""
    vote = _vote(request, pk)
    status = 200
    if request.method == "POST":
        options = list(vote.options.all())
        if len(options) == 2:
            ranking = [request.POST.get("choice", "")]
        else:
            ranked = sorted(((int(request.POST.get(f"rank-{o.key}") or 0), o.key) for o in options), key=lambda r: r[0])
            ranking = [key for rank, key in ranked if rank > 0]
        try:
            services.ballot_cast(actor=request.user, vote=vote, ranking=ranking, ip_address=client_address(request))
            messages.success(request, "Your organisation's ballot is recorded.")
            return redirect("submissions:ballot", pk=pk)
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, error_text(exc))
            status = 400
        vote = _vote(request, pk)
    organisation = permissions.submitting_organisation_of(request.user, vote.round)
    own = next((b for b in vote.ballots.all() if organisation and b.organisation_id == organisation.pk), None)
    labels = {o.key: o.label for o in vote.options.all()}
    return render(
        request,
        "submissions/review/ballot.html",
        {
            "vote": vote,
            "options": vote.options.all(),
            "ballots": [(b, [labels.get(k, k) for k in b.ranking]) for b in vote.ballots.all()],
            "count": services.vote_count(vote),
            "labels": labels,
            "organisation": organisation,
            "own": own,
            "can_vote": organisation is not None and own is None and vote.state == Vote.State.OPEN,
            "is_chair": permissions.is_review_chair(request.user, vote.round),
            "ranked": vote.options.count() > 2,
        },
        status=status,
    )


@require_POST
@login_required
def vote_close(request: HttpRequest, pk: int) -> HttpResponse:
    vote = _vote(request, pk)
    try:
        vote = services.vote_close(actor=request.user, vote=vote)
        messages.success(request, f"Vote closed: {vote.winner.label if vote.winner else 'no ballots'}.")
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, error_text(exc))
    return redirect("submissions:ballot", pk=pk)


@login_required
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    submission = submission_selectors.submission_for(request.user, pk)
    if submission is None:
        raise Http404("No such submission (or you may not see it).")
    if not permissions.can_withdraw(request.user, submission):
        raise PermissionDenied(f"Only submitters and primary contacts of {submission.organisation} withdraw it.")
    form = forms.ReasonForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.submission_withdraw(
                    actor=request.user,
                    submission=submission,
                    reason=form.cleaned_data["reason"],
                    ip_address=client_address(request),
                )
                messages.success(request, f"{submission} is withdrawn; it will not be published.")
                return redirect("submissions:detail", pk=pk)
            except (PermissionDenied, ValidationError) as exc:
                form.add_error(None, error_text(exc))
    return render(request, "submissions/review/withdraw.html", {"submission": submission, "form": form}, status=status)


# ---------------------------------------------------------------- the published record (public)


def published(request: HttpRequest, slug: str) -> HttpResponse:
    """The round's public results, built from the published record."""
    round = _round(request, slug)
    publication = selectors.round_publication(round)
    results = list(selectors.published_record(round)) if publication else []
    benchmarks = selectors.record_benchmarks(results)
    rows = [
        (r, [next((s for s in r.scores.all() if s.benchmark == b and s.scaling == "strong"), None) for b in benchmarks])
        for r in results
    ]
    phase = rounds.round_phase(round, "publication")
    return render(
        request,
        "submissions/review/published.html",
        {
            "round": round,
            "publication": publication,
            "benchmarks": benchmarks,
            "rows": rows,
            "publication_moment": phase.starts_at if phase else None,
        },
    )
