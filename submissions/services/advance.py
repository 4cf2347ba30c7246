"""The pipeline: which checks a version needs next, and its verdict when all are final."""

from __future__ import annotations

from django.utils import timezone

from submissions.models import (
    CheckKind,
    CheckRun,
    SubmissionVersion,
)
from submissions.notices import version_notify
from submissions.services.dispatch import run_create

State = CheckRun.State


# For a suite with a ruleset, the checks that follow the result files check (which computes the
# engine's report): the slices of that report, and the official verifier.
AFTER_ENGINE_REPORT = [CheckKind.SYSTEMS, CheckKind.PACKAGE, CheckKind.SCORES, CheckKind.OFFICIAL]


# ---------------------------------------------------------------- the pipeline


def version_advance(*, version: SubmissionVersion) -> None:
    """Queues the checks whose prerequisites are done, and settles the verdict when all are final.
    Idempotent: each kind is created once per version.

    Order, for a round with a ruleset: unpack → result files (computes the engine's report on the
    whole package, once) → system descriptions, package rules and scores (slices of that report, so
    the engine's verdict and all its findings follow within seconds) and the official verifier (the
    second opinion, binding, slower). Without a ruleset: unpack → the generic system descriptions."""
    version = SubmissionVersion.objects.select_related("submission__round").get(pk=version.pk)
    runs = {r.kind: r for r in version.check_runs.all()}
    unpack = runs.get(CheckKind.UNPACK)
    _, ruleset = _round_rules(version)
    if unpack is not None and unpack.state == State.PASSED:
        results = runs.get(CheckKind.RESULTS)
        due = [CheckKind.RESULTS] if ruleset else [CheckKind.SYSTEMS]
        if ruleset and results is not None and results.is_final:
            due += AFTER_ENGINE_REPORT
        for kind in due:
            if kind not in runs:
                created = run_create(version=version, kind=kind)
                if created:
                    runs[kind] = created
    if runs and all(r.is_final for r in runs.values()) and not _more_to_come(runs, unpack, ruleset):
        _settle(version, runs, ruleset)


def _more_to_come(runs: dict[str, CheckRun], unpack: CheckRun | None, ruleset: str | None) -> bool:
    if unpack is None or unpack.state != State.PASSED:
        return False
    expected = {CheckKind.UNPACK, *([CheckKind.RESULTS, *AFTER_ENGINE_REPORT] if ruleset else [CheckKind.SYSTEMS])}
    return not expected <= set(runs)


def _settle(version: SubmissionVersion, runs: dict[str, CheckRun], ruleset: str | None) -> None:
    V = SubmissionVersion.Verdict
    states = {k: r.state for k, r in runs.items()}
    official = runs.get(CheckKind.OFFICIAL)
    if states.get(CheckKind.UNPACK) != State.PASSED:
        verdict = V.ERRORED if states.get(CheckKind.UNPACK) in (State.ERRORED, State.CANCELLED) else V.FAILED
    elif official is not None:
        # The official verifier's verdict is binding; when it could not run, the version could not be checked.
        binding: dict[str, SubmissionVersion.Verdict] = {State.PASSED: V.PASSED, State.FAILED: V.FAILED}
        verdict = binding.get(official.state, V.ERRORED)
    elif any(s in (State.ERRORED, State.CANCELLED) for s in states.values()):
        verdict = V.ERRORED
    else:
        verdict = V.FAILED if State.FAILED in states.values() else V.PASSED
    fresh = SubmissionVersion.objects.get(pk=version.pk)
    engine, official_v = fresh.engine_verdict, fresh.official_verdict
    official_as_pass_fail = {"pass": "pass", "fail": "fail", "crash": "fail"}.get(official_v, "")
    disagreement = bool(engine and official_as_pass_fail and engine != official_as_pass_fail)
    updated = SubmissionVersion.objects.filter(pk=version.pk, checks_finished_at=None).update(
        verdict=verdict, disagreement=disagreement, checks_finished_at=timezone.now()
    )
    if updated:
        # Queued in this transaction (the outbox sends it after commit): a verdict is never without its mail.
        version_notify(version_id=version.pk)


def _round_rules(version: SubmissionVersion) -> tuple[str | None, str | None]:
    round = version.submission.round
    if round.has_ruleset and round.ruleset:
        return round.suite, round.ruleset
    return None, None
