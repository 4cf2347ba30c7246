"""`make bench-load`: a load test against gunicorn and PostgreSQL with the scale data (issue 15).

Sets everything up and tears it down again: its own PostgreSQL database (dropped and created;
default `portal_scale_load` on 127.0.0.1), migrate, collectstatic, seed_demo, seed_scale, a gunicorn server in
production mode (DEBUG off) on a free loopback port, then locust, headless, with USERS concurrent
users for DURATION seconds (a mix of each role's main pages and of API calls with a token,
consortium/portal/locustfile.py), stopping by itself; it prints requests per second, the p50, p95
and p99 response times and the errors, overall and per page.

    python -m consortium.portal.bench_load [--users 50] [--duration 60] [--scale 1] [--workers 4]
        [--database portal_scale_load] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import http.client
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
PG = "postgres://postgres@127.0.0.1:5432"

SPEC = r"""
import json, os, django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
from consortium.members.models import User
from consortium.portal.pagecosts import demo_pages
from submissions.models import Submission
from submissions.services import api_token_create
pages = demo_pages()
sessions = {}
for login in {p.login for p in pages if p.login}:
    client = Client()
    client.force_login(User.objects.get(email=login))
    sessions[login] = client.cookies[settings.SESSION_COOKIE_NAME].value
submitter = User.objects.get(email="submitter@example.org")
_, token = api_token_create(user=submitter, name="bench-load")
api = [("API rounds", "/api/v1/rounds")]
for s in Submission.objects.filter(organisation__slug="nvidia").order_by("-pk")[:20]:
    api += [("API submission", f"/api/v1/submissions/{s.pk}"), ("API findings", f"/api/v1/submissions/{s.pk}/findings")]
spec = {"pages": [{"name": p.name, "login": p.login, "url": p.url} for p in pages], "sessions": sessions,
        "session_cookie": settings.SESSION_COOKIE_NAME, "token": token, "api": api}
open(os.environ["BENCH_LOAD_SPEC"], "w").write(json.dumps(spec))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], env: dict, what: str) -> str:
    start = time.perf_counter()
    out = subprocess.run(args, cwd=PROJECT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{what} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    print(f"  {what}: {time.perf_counter() - start:.1f} s", flush=True)
    return out.stdout


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql],
        check=True, capture_output=True, text=True,
    )  # fmt: skip


def _wait_for(port: int, deadline: float) -> None:
    """Until the server answers anything at all on its port."""
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/", headers={"X-Forwarded-Proto": "https"})
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    raise SystemExit(f"the server did not answer on port {port} in time")


def _machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return f"{os.cpu_count()} CPUs, {cpu}, Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"


def _report(prefix: Path) -> dict:
    rows = list(csv.DictReader((prefix.parent / f"{prefix.name}_stats.csv").open()))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    pages = sorted((r for r in rows if r["Name"] != "Aggregated"), key=lambda r: -float(r["95%"] or 0))
    print()
    print(f"{'request':44} {'count':>6} {'fail':>5} {'p50':>6} {'p95':>6} {'p99':>6} {'req/s':>6}")
    for r in [*pages[:25], total]:
        print(
            f"{r['Name'][:44]:44} {r['Request Count']:>6} {r['Failure Count']:>5} {r['50%']:>6} {r['95%']:>6} "
            f"{r['99%']:>6} {float(r['Requests/s']):>6.1f}"
        )
    failures = prefix.parent / f"{prefix.name}_failures.csv"
    errors = list(csv.DictReader(failures.open())) if failures.exists() else []
    for e in errors[:10]:
        print(f"  error: {e['Method']} {e['Name']}: {e['Error']} ({e['Occurrences']}×)")
    summary = {
        "requests": int(total["Request Count"]),
        "failures": int(total["Failure Count"]),
        "rps": round(float(total["Requests/s"]), 1),
        "p50_ms": float(total["50%"]),
        "p95_ms": float(total["95%"]),
        "p99_ms": float(total["99%"]),
    }
    print()
    print(
        f"overall: {summary['requests']} requests, {summary['rps']} requests/s, p50 {summary['p50_ms']:.0f} ms, "
        f"p95 {summary['p95_ms']:.0f} ms, p99 {summary['p99_ms']:.0f} ms, errors {summary['failures']}"
    )
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10.0, help="users started per second")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--scale", type=float, default=1.0, help="seed_scale's scale factor")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--database", default="portal_scale_load", help="PostgreSQL database (dropped first!)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7", help="Redis for the cache and sessions")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", type=Path, help="also write the summary to this file")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="bench-load-"))
    spec = scratch / "spec.json"
    env = {
        **os.environ,
        "PORTAL_VAR_DIR": str(scratch),
        "DATABASE_URL": f"{PG}/{args.database}",
        "REDIS_URL": args.redis,
        "DEBUG": "false",
        "DEMO_MODE": "true",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "BENCH_LOAD_SPEC": str(spec),
        "DJANGO_SETTINGS_MODULE": "consortium.settings",
        "PYTHONPATH": str(PROJECT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    print(f"bench-load: PostgreSQL database {args.database}, scratch folder {scratch}", flush=True)
    _psql(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    _psql(f'CREATE DATABASE "{args.database}"')
    server = None
    try:
        manage = [sys.executable, "manage.py"]
        _run([*manage, "migrate", "--noinput", "-v0"], env, "migrate")
        _run([*manage, "collectstatic", "--noinput", "-v0"], env, "collectstatic")
        _run([*manage, "seed_demo"], env, "seed_demo")
        seeded = _run([*manage, "seed_scale", "--scale", str(args.scale)], env, f"seed_scale --scale {args.scale}")
        _run([sys.executable, "-c", SPEC], env, "sessions, token and page list")
        port = _free_port()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        server = subprocess.Popen(
            [str(gunicorn), "consortium.wsgi", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
             "--access-logfile", "-", "--log-level", "warning"],
            cwd=PROJECT, env=env, stdout=(scratch / "gunicorn.log").open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        _wait_for(port, time.monotonic() + 60)
        print(f"  gunicorn: {args.workers} workers on 127.0.0.1:{port}", flush=True)
        locust = Path(sys.executable).with_name("locust")
        prefix = scratch / "locust"
        started = time.perf_counter()
        run = subprocess.run(
            [str(locust), "-f", str(PROJECT / "consortium/portal/locustfile.py"), "--headless",
             "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.duration}s",
             "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--only-summary", "--stop-timeout", "10",
             "--exit-code-on-error", "0"],
            cwd=PROJECT, env=env, capture_output=True, text=True, timeout=args.duration + 120,
        )  # fmt: skip
        if run.returncode:
            raise SystemExit(f"locust failed ({run.returncode}):\n{run.stderr[-3000:]}")
        print(f"  locust: {args.users} users for {args.duration} s ({time.perf_counter() - started:.0f} s)")
        print()
        print(_machine())
        print(seeded.strip().splitlines()[-1])
        summary = _report(prefix)
        if args.json:
            args.json.write_text(json.dumps({"machine": _machine(), **vars(args), **summary}, default=str, indent=1))
        return 0
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        if not args.keep:
            _psql(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


if __name__ == "__main__":
    raise SystemExit(main())
