"""`make bench-pipeline`: the whole submission pipeline, measured end to end.

Uploads every real package in ../shared/mlperf/training_results_v5.1 through the HTTP API of a real
web server (gunicorn) and measures, with one and then two Celery worker processes: upload to the
engine's verdict, upload to the official verdict, upload to last check done, enqueue to start of each
check, and the web process's peak memory while a 1 GB archive is uploaded. Runs in a scratch folder with its own SQLite database and filesystem broker, or against
PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set (use a scratch database!).

    python -m submissions.bench_pipeline [--big-mb 1024] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
BOUNDARY = "----bench" + uuid.uuid4().hex


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _children(pid: int) -> list[int]:
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    except OSError:
        return []
    return [int(x) for x in out.split()]


def _multipart_upload(port: int, token: str, slug: str, path: Path, fields: dict[str, str]) -> dict:
    """Streams a file as multipart/form-data without reading it into memory."""
    head = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    )
    file_head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="archive"; filename="{path.name}"\r\n'
        "Content-Type: application/gzip\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    length = len(head) + len(file_head) + path.stat().st_size + len(tail)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.putrequest("POST", f"/api/v1/rounds/{slug}/submissions")
    conn.putheader("Authorization", f"Bearer {token}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    conn.putheader("Content-Length", str(length))
    conn.endheaders()
    conn.send(head + file_head)
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            conn.send(chunk)
    conn.send(tail)
    response = conn.getresponse()
    body = response.read().decode(errors="replace")
    conn.close()
    if response.status != 201:
        raise RuntimeError(f"upload of {path.name} answered {response.status}: {body[:500]}")
    return json.loads(body)


def _setup_database(env: dict) -> tuple[str, str]:
    """Migrate, then create an open round, registered organisations, a submitter and a token."""
    script = r"""
import io, datetime as dt, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.utils import timezone
from consortium.members.models import *
from submissions.demo import seed_pools
from submissions.services import api_token_create
from workinggroups.models import WorkingGroup, Round, RoundPhase, RoundRegistration
seed_pools()
tier, _ = MembershipTier.objects.get_or_create(slug="bench", defaults={"name": "Bench", "may_submit_results": True})
group, _ = WorkingGroup.objects.get_or_create(slug="training", defaults={"name": "Training", "area": "benchmarks", "purpose": "bench"})
now = timezone.now()
rnd = Round.objects.create(group=group, name=f"Bench {now:%H%M%S}", slug=f"bench-{now:%H%M%S%f}", suite="training",
                           ruleset="5.1.0", divisions=["closed", "open"], published=True)
RoundPhase.objects.create(round=rnd, kind="submission", starts_at=now - dt.timedelta(days=1), ends_at=now + dt.timedelta(days=1))
org = Organisation.objects.create(name=f"Bench org {now:%f}", slug=f"bench-{now:%H%M%S%f}", kind="company")
Membership.objects.create(organisation=org, tier=tier, start=dt.date(2020, 1, 1))
RoundRegistration.objects.create(round=rnd, organisation=org)
user = User.objects.create_user(email=f"bench-{now:%H%M%S%f}@bench.test", password="x" * 16)
person = Person.objects.create(user=user, organisation=org, affiliation="approved", full_name="Bench")
OrganisationRole.objects.create(person=person, organisation=org, role="submitter")
_, raw = api_token_create(user=user, name="bench")
print(rnd.slug, raw)
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    slug, token = out.stdout.strip().splitlines()[-1].split()
    return slug, token


def _query(env: dict, code: str) -> object:
    script = "import django, json\ndjango.setup()\n" + code
    out = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _wait_done(env: dict, version_ids: list[int], timeout: float) -> dict:
    code = f"""
from submissions.models import SubmissionVersion, CheckRun
ids = {version_ids!r}
done = SubmissionVersion.objects.filter(pk__in=ids, checks_finished_at__isnull=False).count()
print(json.dumps(done))
"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _query(env, code) == len(version_ids):
            break
        time.sleep(1)
    stats = f"""
from submissions.models import SubmissionVersion, CheckRun
ids = {version_ids!r}
vs = list(SubmissionVersion.objects.filter(pk__in=ids))
runs = list(CheckRun.objects.filter(version_id__in=ids).select_related("version"))
print(json.dumps({{
  "first_upload": min(v.uploaded_at for v in vs).timestamp(),
  "last_done": max((r.finished_at or r.queued_at) for r in runs).timestamp(),
  "waits": [(r.started_at - r.queued_at).total_seconds() for r in runs if r.started_at],
  "per_version": [(max(r.finished_at for r in runs if r.version_id == v.pk and r.finished_at) - v.uploaded_at).total_seconds() for v in vs],
  "engine": [(r.finished_at - r.version.uploaded_at).total_seconds() for r in runs if r.kind == "package_rules" and r.finished_at],
  "official": [(r.finished_at - r.version.uploaded_at).total_seconds() for r in runs if r.kind == "official_verifier" and r.finished_at],
  "verdicts": sorted({{v.verdict for v in vs}}),
  "unfinished": sum(1 for v in vs if v.checks_finished_at is None),
}}))
"""
    return _query(env, stats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=PROJECT.parent / "shared" / "mlperf" / "training_results_v5.1")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--big-mb", type=int, default=1024, help="size of the big upload (0: skip)")
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"no real data at {args.data}")

    scratch = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    env = {
        **os.environ,
        "PORTAL_VAR_DIR": str(scratch),
        "DJANGO_SETTINGS_MODULE": "consortium.settings",
        "SUBMISSION_UPLOADS_PER_DAY": "100000",
        "PYTHONPATH": str(PROJECT),
        "WORKER_HEARTBEAT_INTERVAL": "2",
    }
    env.setdefault("DATABASE_URL", f"sqlite:///{scratch / 'bench.sqlite3'}")
    packages = sorted(p for p in args.data.iterdir() if p.is_dir())
    archives = []
    for p in packages:
        target = scratch / f"{p.name}.tar.gz"
        with tarfile.open(target, "w:gz") as tf:
            tf.add(p, arcname=p.name)
        archives.append(target)

    port = _free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "consortium.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}", "--timeout", "600"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"database: {env['DATABASE_URL'].split(':', 1)[0]}, broker: {'redis' if env.get('REDIS_URL') else 'filesystem'}"
    )
    print(f"packages: {len(archives)} ({sum(a.stat().st_size for a in archives) / 1e6:.1f} MB compressed)")
    try:
        for n in args.workers:
            slug, token = _setup_database(env)
            queues = "default,cpu-large"
            workers = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "consortium",
                        "worker",
                        "-Q",
                        queues,
                        "-c",
                        "1",
                        "-n",
                        f"bench{i}-{uuid.uuid4().hex[:6]}@%h",
                        "--without-mingle",
                        "--without-gossip",
                        "-l",
                        "warning",
                    ],
                    cwd=PROJECT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for i in range(n)
            ]
            time.sleep(3)  # let the workers connect before the clock starts (not synchronisation of results)
            started = time.monotonic()
            ids = [
                _multipart_upload(port, token, slug, a, {"division": "closed", "category": "available"})["version"]
                for a in archives
            ]
            upload_s = time.monotonic() - started
            stats = _wait_done(env, ids, timeout=1800)
            for w in workers:
                w.terminate()
            for w in workers:
                w.wait(timeout=60)
            total = stats["last_done"] - stats["first_upload"]
            waits = sorted(stats["waits"])
            print(f"\n{n} worker process(es), concurrency 1 each:")
            print(f"  uploads through the API: {upload_s:.1f} s for {len(ids)} packages")
            print(
                f"  first upload to last check done: {total:.1f} s ({stats['unfinished']} unfinished; verdicts {stats['verdicts']})"
            )
            print(
                f"  per package, upload to its last check: median {statistics.median(stats['per_version']):.1f} s, "
                f"max {max(stats['per_version']):.1f} s"
            )
            for label, key in (("engine verdict (package rules done)", "engine"), ("official verdict", "official")):
                values = sorted(stats[key])
                print(
                    f"  upload to {label}: median {statistics.median(values):.1f} s, "
                    f"p95 {values[int(0.95 * (len(values) - 1))]:.1f} s, max {values[-1]:.1f} s"
                )
            print(
                f"  enqueue to start of a check: median {statistics.median(waits):.2f} s, "
                f"p95 {waits[int(0.95 * (len(waits) - 1))]:.2f} s, max {waits[-1]:.2f} s"
            )
        if args.big_mb:
            slug, token = _setup_database(env)
            big = scratch / "big.tar.gz"
            with big.open("wb") as fh:
                block = os.urandom(1024 * 1024)
                fh.write(b"\x1f\x8b\x08\x00")  # a gzip header: the upload checks the type as it streams
                for _ in range(args.big_mb):
                    fh.write(block)
            pids = _children(web.pid) or [web.pid]
            before = max(_peak_rss_mb(p) for p in pids)
            t0 = time.monotonic()
            _multipart_upload(port, token, slug, big, {"division": "closed", "category": "available"})
            took = time.monotonic() - t0
            peak = max(_peak_rss_mb(p) for p in pids)
            print(
                f"\n{args.big_mb} MB archive upload: {took:.1f} s; web worker peak RSS {peak:.0f} MB "
                f"(before: {before:.0f} MB); target < 150 MB"
            )
    finally:
        web.terminate()
        web.wait(timeout=30)
        print(f"\nscratch folder: {scratch}")


if __name__ == "__main__":
    main()
