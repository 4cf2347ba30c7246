"""`make bench-explorer`: the results explorer's pages on a large published record.

Builds, in a scratch database (a fresh SQLite file in a temporary folder, or the database of
DATABASE_URL when set: use a scratch one!), 40 published rounds × 50 organisations × 10 systems =
20,000 published results with two scores each (40,000 rows of the explorer) and their details, then
times each page through Django's test client (median of 5, after a warm-up) and counts its queries.

    python -m submissions.results.bench [--results 20000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", type=int, default=20_000, help="published results (default 20,000)")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="bench-explorer-")
    os.environ.setdefault("PORTAL_VAR_DIR", scratch)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consortium.settings")
    os.environ["DEBUG"] = "True"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    took = _seed(args.results)
    client = Client()
    pages = [
        "/results/",
        "/results/?benchmark=retinanet&sort=-score",
        "/results/?q=System%207&accelerator_count=64",
        "/results/?page=400",
        "/results/?derived=per_accelerator&sort=-derived",
        "/results/charts/",
        "/results/charts/?benchmark=retinanet&derived=per_accelerator",
        "/results/1.0-0001/",
        "/results/compare/?ids=1.0-0001,2.0-0002,3.0-0003",
        "/results/systems/Bench%20Org%201/s0/",
        "/api/v1/results?page=100",
        "/results/export.csv?benchmark=retinanet",
    ]
    print(f"# explorer bench: {args.results:,} published results, {2 * args.results:,} rows; seeded in {took:.1f} s")
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{connection.vendor}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )
    print("| page | median ms | max ms | queries | bytes |")
    print("|---|---:|---:|---:|---:|")
    for url in pages:
        _get(client, url)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                body = _get(client, url)
            times.append((time.perf_counter() - start) * 1000)
        median, worst, queries = statistics.median(times), max(times), len(ctx.captured_queries)
        print(f"| `{url}` | {median:.0f} | {worst:.0f} | {queries} | {len(body):,} |")


def _get(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return b"".join(response.streaming_content) if response.streaming else response.content


def _seed(n_results: int) -> float:
    from django.utils import timezone

    from consortium.members.models import Organisation
    from submissions.models import Submission, SubmissionVersion
    from submissions.results.models import PublishedResultDetail, PublishedScoreDetail
    from submissions.review.models import Publication, PublishedResult, PublishedScore
    from workinggroups.models import Round, RoundPhase, WorkingGroup

    start = time.perf_counter()
    now = timezone.now()
    group = WorkingGroup.objects.create(name="Bench", slug="bench", area="training", purpose="bench")
    n_rounds, n_orgs = 40, 50
    per = max(1, n_results // (n_rounds * n_orgs))
    orgs = Organisation.objects.bulk_create(
        Organisation(name=f"Bench Org {i}", slug=f"bench-org-{i}", kind="company", results_folder=f"Bench Org {i}")
        for i in range(n_orgs)
    )
    accelerators = ["GPU A100", "GPU H100", "GPU B200", "TPU v5", "Accel MI300X"]
    for r in range(n_rounds):
        round = Round.objects.create(
            group=group,
            name=f"Bench v{r + 1}.0",
            slug=f"bench-v{r + 1}-0",
            suite="training",
            ruleset="5.1.0",
            published=True,
        )
        RoundPhase.objects.create(
            round=round,
            kind="publication",
            starts_at=now - dt.timedelta(days=400 - r),
            ends_at=now - dt.timedelta(days=400 - r),
        )
        Publication.objects.create(
            round=round, published_at=now, record_version=f"{r + 1}.0", result_count=n_orgs * per
        )
        subs = Submission.objects.bulk_create(
            Submission(round=round, organisation=o, division="closed", category="available") for o in orgs
        )
        versions = SubmissionVersion.objects.bulk_create(
            SubmissionVersion(
                submission=s,
                number=1,
                sha256=f"{r:04d}{i:04d}".ljust(64, "0"),
                size=1,
                original_name="p.tar.gz",
                uploaded_at=now,
                source="seed",
                in_time=True,
                state="unpacked",
                verdict="passed",
            )
            for i, s in enumerate(subs)
        )
        results = []
        for i, (s, v) in enumerate(zip(subs, versions, strict=True)):
            for k in range(per):
                n = i * per + k + 1
                count = 2 ** (k % 8 + 1)
                results.append(
                    PublishedResult(
                        round=round,
                        result_id=f"{r + 1}.0-{n:04d}",
                        position=n,
                        submission=s,
                        version=v,
                        version_sha256=v.sha256,
                        organisation=s.organisation,
                        organisation_name=s.organisation.name,
                        submitter_folder=s.organisation.name,
                        system=f"s{k}",
                        system_name=f"System {k} of {s.organisation.name}",
                        division="closed",
                        availability="Available on-premise",
                        accelerator=accelerators[k % 5],
                        accelerator_count=count,
                        nodes=max(1, count // 8),
                        framework=f"PyTorch 2.{k % 4}",
                        published_at=now,
                    )
                )
        results = PublishedResult.objects.bulk_create(results)
        PublishedResultDetail.objects.bulk_create(
            PublishedResultDetail(
                result=p,
                suite="training",
                host_processor="CPU X",
                host_processor_count=2,
                description={"system_name": p.system_name},
            )
            for p in results
        )
        scores = PublishedScore.objects.bulk_create(
            PublishedScore(result=p, benchmark=b, score=(100.0 / p.accelerator_count) * (1 + r / 100) + j)
            for p in results
            for j, b in enumerate(("retinanet", "llama2_70b_lora"))
        )
        PublishedScoreDetail.objects.bulk_create(
            PublishedScoreDetail(
                score=s,
                model=s.benchmark,
                runs=[{"file": "result_0.txt", "minutes": s.score, "compliant": True, "counted": True}],
            )
            for s in scores
        )
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
