"""`make bench-pages`: every page a person uses, timed and its queries counted, with the demo data
and then with the scale data on top (issue 15: the same queries, within twice the demo time).

Runs in a scratch folder with its own SQLite database (or PostgreSQL when DATABASE_URL is set: use a
scratch database, it is flushed first). Steps, each a fresh process: migrate, seed_demo, measure,
seed_scale, measure. A measurement fetches each page of `consortium.portal.pagecosts.demo_pages`
in process with Django's test client, as the role that uses it: one warm-up, one request whose
queries are counted, then REPEAT timed requests (the median is reported).

    python -m consortium.portal.bench_pages [--scale 1] [--repeat 5] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]

MEASURE = r"""
import json, os, sys, django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from consortium.portal.pagecosts import clients_for, demo_pages, measure
pages = demo_pages()
clients = clients_for(pages)
rows = []
for page in pages:
    cost = measure(page, clients[page.login], repeat=int(os.environ["BENCH_REPEAT"]))
    rows.append({"name": page.name, "url": page.url, "status": cost.status, "queries": cost.queries,
                 "ms": round(cost.seconds * 1000, 2)})
print("BENCH-JSON " + json.dumps(rows))
"""


def _run(args: list[str], env: dict, what: str) -> str:
    start = time.perf_counter()
    out = subprocess.run(args, cwd=PROJECT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{what} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    print(f"  {what}: {time.perf_counter() - start:.1f} s", flush=True)
    return out.stdout


def _measure(env: dict, what: str) -> list[dict]:
    out = _run([sys.executable, "-c", MEASURE], env, f"measure {what}")
    line = next(x for x in out.splitlines() if x.startswith("BENCH-JSON "))
    return json.loads(line.removeprefix("BENCH-JSON "))


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} CPUs, {cpu}, Python {platform.python_version()}, load average {load:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="seed_scale's scale factor (default 1)")
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per page (default 5)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    env = {**os.environ, "PORTAL_VAR_DIR": str(scratch), "DEMO_MODE": "true", "BENCH_REPEAT": str(args.repeat)}
    env.setdefault("DJANGO_SETTINGS_MODULE", "consortium.settings")
    env["PYTHONPATH"] = str(PROJECT) + os.pathsep + env.get("PYTHONPATH", "")
    database = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    print(f"bench-pages: {database}, scratch folder {scratch}", flush=True)
    manage = [sys.executable, "manage.py"]
    if database == "PostgreSQL" and _has_tables(env):
        _run([*manage, "flush", "--noinput"], env, "flush the scratch database")
    _run([*manage, "migrate", "--noinput", "-v0"], env, "migrate")
    _run([*manage, "seed_demo"], env, "seed_demo")
    demo = _measure(env, "with the demo data")
    seeded = _run([*manage, "seed_scale", "--scale", str(args.scale)], env, f"seed_scale --scale {args.scale}")
    scale = _measure(env, "with the scale data")
    by_name = {row["name"]: row for row in scale}

    print()
    print(_machine())
    print(seeded.strip().splitlines()[-1] if seeded.strip() else "")
    print(f"{'page':44} {'queries':>13} {'demo ms':>9} {'scale ms':>9} {'ratio':>6}")
    worse_queries, slower, errors = [], [], []
    rows = []
    for d in demo:
        s = by_name.get(d["name"])
        if s is None:
            continue
        ratio = s["ms"] / d["ms"] if d["ms"] else float("nan")
        flag = ""
        if s["queries"] > d["queries"]:
            worse_queries.append(d["name"])
            flag += " QUERIES"
        if ratio > 2:
            slower.append(d["name"])
            flag += " >2x"
        if d["status"] != 200 or s["status"] != 200:
            errors.append(d["name"])
            flag += f" HTTP {d['status']}/{s['status']}"
        queries = f"{d['queries']:>5} -> {s['queries']:<5}"
        print(f"{d['name'][:44]:44} {queries} {d['ms']:>9.1f} {s['ms']:>9.1f} {ratio:>5.2f}x{flag}")
        rows.append({"name": d["name"], "demo": d, "scale": s, "ratio": round(ratio, 2)})
    print()
    print(f"{len(rows)} pages; more queries with the scale data: {len(worse_queries)} {worse_queries or ''}")
    print(f"over twice the demo time: {len(slower)} {slower or ''}; errors: {len(errors)} {errors or ''}")
    total_demo = sum(r["demo"]["ms"] for r in rows)
    total_scale = sum(r["scale"]["ms"] for r in rows)
    print(f"all pages, one request each: {total_demo:.0f} ms with the demo data, {total_scale:.0f} ms with scale")
    if args.json:
        args.json.write_text(json.dumps({"machine": _machine(), "database": database, "pages": rows}, indent=1))
    return 1 if worse_queries or errors else 0


def _has_tables(env: dict) -> bool:
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.db import connection; "
         "print(len(connection.introspection.table_names()))"],
        cwd=PROJECT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    return out.returncode == 0 and out.stdout.strip() not in ("", "0")


if __name__ == "__main__":
    raise SystemExit(main())
