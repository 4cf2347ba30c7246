"""Published rounds for the explorer's tests: real packages on disk (system descriptions with host
processors, several benchmarks, five result files each with their own times), published by the
review's own service (so the explorer's details are filled as in production)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.utils import timezone

from submissions import services as submission_services
from submissions.models import Score, Submission, SubmissionVersion
from submissions.review import services as review_services
from tests.review.factories import new_org, review_round

DAY = dt.timedelta(days=1)


def log_lines(org: str, minutes: float) -> str:
    start = 1_000
    stop = start + int(minutes * 60_000)
    return (
        "\n".join(
            [
                f':::MLLOG {{"key": "submission_org", "value": "{org}", "time_ms": 1, "metadata": {{"lineno": 1}}}}',
                ':::MLLOG {"key": "init_start", "value": null, "time_ms": 2, "metadata": {"lineno": 2}}',
                f':::MLLOG {{"key": "run_start", "value": null, "time_ms": {start}, "metadata": {{"lineno": 3}}}}',
                f':::MLLOG {{"key": "run_stop", "value": null, "time_ms": {stop}, '
                '"metadata": {"status": "success"}}',
            ]
        )
        + "\n"
    )


def system_json(org: str, name: str, *, nodes: int, per_node: int, accelerator: str, framework: str) -> dict:
    return {
        "submitter": org,
        "division": "closed",
        "status": "Available on-premise",
        "system_name": name,
        "number_of_nodes": str(nodes),
        "host_processor_model_name": "Example CPU 9000",
        "host_processors_per_node": "2",
        "accelerators_per_node": str(per_node),
        "accelerator_model_name": accelerator,
        "framework": framework,
    }


def published_package(round, organisation, systems: list[dict], *, verdict: str = "passed") -> Submission:
    """systems: [{"system", "name", "nodes", "per_node", "accelerator", "framework", "scores": {bench: [runs]}}];
    each benchmark's score is the mean of its runs without the fastest and the slowest."""
    submission = Submission.objects.create(
        round=round, organisation=organisation, division="closed", category="available"
    )
    folder = organisation.results_folder or organisation.name
    version = SubmissionVersion.objects.create(
        submission=submission,
        number=1,
        sha256=hashlib.sha256(f"{organisation.slug}-{round.slug}".encode()).hexdigest(),
        size=100,
        original_name=f"{folder}.tar.gz",
        uploaded_at=timezone.now() - 40 * DAY,
        source="seed",
        in_time=True,
        state="unpacked",
        verdict=verdict,
    )
    root = submission_services.version_folder(version) / "package" / folder
    (root / "systems").mkdir(parents=True, exist_ok=True)
    for s in systems:
        desc = system_json(
            organisation.name,
            s["name"],
            nodes=s["nodes"],
            per_node=s["per_node"],
            accelerator=s.get("accelerator", "Example GPU X1"),
            framework=s.get("framework", "PyTorch 2.5"),
        )
        (root / "systems" / f"{s['system']}.json").write_text(json.dumps(desc))
        for bench, runs in s["scores"].items():
            bdir = root / "results" / s["system"] / bench
            bdir.mkdir(parents=True, exist_ok=True)
            for n, minutes in enumerate(runs):
                (bdir / f"result_{n}.txt").write_text(log_lines(organisation.name, minutes))
            kept = sorted(runs)[1:-1] if len(runs) > 2 else runs
            Score.objects.create(version=version, system=s["system"], benchmark=bench, minutes=sum(kept) / len(kept))
    return submission


def system(
    system: str, name: str, *, nodes=1, per_node=8, accelerator="Example GPU X1", framework="PyTorch 2.5", **scores
):
    return {
        "system": system,
        "name": name,
        "nodes": nodes,
        "per_node": per_node,
        "accelerator": accelerator,
        "framework": framework,
        "scores": scores,
    }


def published_round(group, *, name: str, slug: str, packages: list[tuple], phase: str = "published", suite="training"):
    """packages: [(organisation, [system(...), ...])]. Returns the round, published (when the phase
    is "published"; otherwise only frozen and in review)."""
    round = review_round(group, phase=phase, slug=slug, name=name)
    if suite != "training":
        type(round).objects.filter(pk=round.pk).update(suite=suite, ruleset="")
        round.refresh_from_db()
    for organisation, systems in packages:
        published_package(round, organisation, systems)
    if phase == "published":
        review_services.round_publish(round=round)
    return round


def two_rounds(group, org):
    """Training v5.0 and v5.1, three organisations, several systems and benchmarks; and a third
    round in review (frozen, not published) whose results must never show."""
    initech, _ = new_org("Initech", "initech", submitter_email="sub@initech.test")
    globex, _ = new_org("Hooli", "hooli", submitter_email="sub@hooli.test")
    v50 = published_round(
        group,
        name="Training v5.0",
        slug="training-v5-0",
        packages=[
            (
                org,
                [system("dgx8", "Acme DGX 8", per_node=8, retinanet=[30, 31, 32, 33, 34], bert=[10, 11, 12, 13, 14])],
            ),
            (
                initech,
                [
                    system(
                        "box64",
                        "Initech Box 64",
                        nodes=8,
                        per_node=8,
                        accelerator="Example GPU X2",
                        framework="JAX 0.4",
                        retinanet=[8, 9, 10, 11, 12],
                    )
                ],
            ),
        ],
    )
    v51 = published_round(
        group,
        name="Training v5.1",
        slug="training-v5-1",
        packages=[
            (
                org,
                [
                    system("dgx8", "Acme DGX 8", per_node=8, retinanet=[25, 26, 27, 28, 29]),
                    system("dgx64", "Acme DGX 64", nodes=8, per_node=8, retinanet=[5, 6, 7, 8, 9]),
                ],
            ),
            (
                globex,
                [
                    system(
                        "hx16",
                        "Hooli HX 16",
                        nodes=2,
                        per_node=8,
                        accelerator="Example GPU X2",
                        framework='=HYPERLINK("http://x")',
                        retinanet=[15, 16, 17, 18, 19],
                        flux1=[40, 41, 42, 43, 44],
                    )
                ],
            ),
        ],
    )
    hidden = published_round(
        group,
        name="Training v6.0",
        slug="training-v6-0",
        phase="objection_review",
        packages=[
            (org, [system("secret", "Acme Secret Prototype", retinanet=[1, 2, 3, 4, 5])]),
        ],
    )
    return v50, v51, hidden
