"""Demo worker pools and real submissions for `manage.py seed_demo`.

The real MLPerf Training v5.0 and v5.1 packages in ../shared/mlperf (when present) are uploaded as
submissions of the organisations whose results_folder matches, to rounds Training v5.0 and v5.1; their
checks are queued and run as soon as a worker is up (`make run` starts one). Both rounds' publication
moments are past, so the beat publishes each round's record once its checks are done
(`submissions.review.services.rounds_publish_due`), and the results explorer shows both.
The real MLPerf Inference v5.1 submitter folders (closed and open) go the same way to round
Inference v5.1 (ruleset 5.1, the inference checker); its publication moment is past too, so the beat
publishes the submitters whose package passes (result IDs inference-5.1-NNNN, scores by model and
scenario with their units).
"""

import datetime as dt
import io
import tarfile
from pathlib import Path

from django.conf import settings
from django.db import transaction

from consortium.members.models import Organisation
from submissions import services
from submissions.models import CheckKind, Submission, WorkerPool
from submissions.results.services import published_details_record
from submissions.review.models import Publication
from workinggroups.models import Round

DEMO_ROUND = "training-v5-1"
INFERENCE_ROUND = "inference-v5-1"
# Submitter folders whose name is not the organisation's results folder (v5.0 "QCT" is v5.1's
# "Quanta_Cloud_Technology"; Inference v5.1 "RedHat" is Red Hat's "Red_Hat")
FOLDER_ALIASES = {"QCT": "Quanta_Cloud_Technology", "RedHat": "Red_Hat"}
# round slug, folder in ../shared/mlperf, label
DEMO_ROUNDS = [
    ("training-v5-0", "training_results_v5.0", "Training v5.0"),
    (DEMO_ROUND, "training_results_v5.1", "Training v5.1"),
]
POOLS = [
    # name, queue, description, check kinds
    ("cpu-standard", "default", "Example: 2 vCPU, 4 GB. Light checks.",
     [CheckKind.UNPACK, CheckKind.SYSTEMS, CheckKind.SCORES]),
    ("cpu-large", "cpu-large", "Example: 16 vCPU, 64 GB. Result logs and the official verifier.",
     [CheckKind.RESULTS, CheckKind.PACKAGE, CheckKind.OFFICIAL]),
]  # fmt: skip


def shared_results_dir(folder: str = "training_results_v5.1") -> Path:
    return settings.SHARED_DIR / "mlperf" / folder


def _tar_gz(folder: Path) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(folder, arcname=folder.name)
    buf.seek(0)
    return buf


def seed_pools() -> None:
    for name, queue, description, kinds in POOLS:
        WorkerPool.objects.update_or_create(
            name=name, defaults={"queue": queue, "description": description, "check_kinds": [str(k) for k in kinds]}
        )


def seed_submissions(*, today: dt.date, log=print) -> None:
    seed_pools()
    for slug, folder, label in DEMO_ROUNDS:
        seed_round_packages(slug=slug, source=shared_results_dir(folder), label=label, log=log)
    _seed_inference(log)
    _published_details()


def seed_round_packages(*, slug: str, source: Path, label: str, log=print) -> int:
    """Upload each submitter folder of `source` once (idempotent: an organisation that already has a
    submission in the round is skipped)."""
    round_ = Round.objects.filter(slug=slug).first()
    if round_ is None or not source.is_dir():
        missing = f"round {label}" if round_ is None else f"{source} is absent"
        log(f"  no real {label} submissions: {missing}")
        return 0
    added = 0
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        name = FOLDER_ALIASES.get(folder.name, folder.name)
        organisation = Organisation.objects.filter(results_folder__iexact=name).first()
        if organisation is None or Submission.objects.filter(round=round_, organisation=organisation).exists():
            continue
        with transaction.atomic():
            services.submission_upload(
                round=round_, organisation=organisation, division="closed", category="available",
                archive=_tar_gz(folder), original_name=f"{folder.name}.tar.gz", actor=None, source="seed",
                enforce_rules=False,
            )  # fmt: skip
        added += 1
    log(f"  {added} real MLPerf {label} packages queued for checking ({len(POOLS)} example worker pools)")
    return added


def _published_details() -> None:
    """Rounds published before the explorer's details existed get them now (idempotent)."""
    for publication in Publication.objects.select_related("round"):
        published_details_record(round=publication.round)


def _seed_inference(log) -> None:
    round_ = Round.objects.filter(slug=INFERENCE_ROUND).first()
    source = shared_results_dir("inference_results_v5.1")
    if round_ is None or not source.is_dir():
        log("  no real inference submissions: round Inference v5.1 or ../shared/mlperf is missing")
        return
    added = 0
    for division in ("closed", "open"):
        for folder in sorted(p for p in (source / division).iterdir() if p.is_dir()):
            name = FOLDER_ALIASES.get(folder.name, folder.name)
            organisation = Organisation.objects.filter(results_folder__iexact=name).first()
            if (
                organisation is None
                or Submission.objects.filter(round=round_, organisation=organisation, division=division).exists()
            ):
                continue
            with transaction.atomic():
                services.submission_upload(
                    round=round_, organisation=organisation, division=division, category="available",
                    archive=_tar_gz(folder), original_name=f"{folder.name}.tar.gz", actor=None, source="seed",
                    enforce_rules=False,
                )  # fmt: skip
            added += 1
    log(f"  {added} real MLPerf Inference v5.1 submitter folders queued for checking")
