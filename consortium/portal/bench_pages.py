"""`make bench-pages`: every page a person uses, timed and its queries counted, with the demo data
and with the scale data on top (issue 15: the same queries, within twice the demo time).

Runs in a scratch folder with two databases of its own: the demo data alone (migrate, seed_demo)
and the demo data with `seed_scale` on top; SQLite files, or PostgreSQL when DATABASE_URL is set
(the databases <name>_demo and <name>_scale are dropped and created). One measuring process per
database builds the page list (`consortium.portal.pagecosts.demo_pages`) and logged-in clients,
and fetches each page in process with Django's test client, as the role that uses it; the two take
turns request by request, in alternating order, so that load from other processes weighs on both
alike. Each page: its queries counted once, then the median of REPEAT timed requests.

    python -m consortium.portal.bench_pages [--scale 1] [--repeat 5] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]

# A measuring process: builds the page list and the logged-in clients on its database, then answers
# one page name per line with that page's status, queries and the time of one request (JSON).
MEASURER = r"""
import json, sys, time, django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from consortium.portal.pagecosts import clients_for, demo_pages, measure
pages = {p.name: p for p in demo_pages()}
clients = clients_for(list(pages.values()))
for page in pages.values():
    clients[page.login].get(page.url)  # warm-up
print(json.dumps(list(pages)), flush=True)
counted = {}
for line in sys.stdin:
    page = pages.get(line.strip())
    if page is None:
        print("null", flush=True)
        continue
    if page.name not in counted:  # the first time: count its queries too
        counted[page.name] = measure(page, clients[page.login], repeat=0)
    cost = counted[page.name]
    start = time.perf_counter()
    status = clients[page.login].get(page.url).status_code
    ms = (time.perf_counter() - start) * 1000
    print(json.dumps({"url": page.url, "status": max(status, cost.status), "queries": cost.queries, "ms": ms}),
          flush=True)
"""


class Measurer:
    def __init__(self, env: dict):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", MEASURER], cwd=PROJECT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        self.pages = json.loads(self._line())

    def _line(self) -> str:
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise SystemExit("a measuring process stopped (see its error above)")
        return line

    def ask(self, name: str) -> dict | None:
        self.proc.stdin.write(name + "\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        return json.loads(self._line())

    def close(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(timeout=60)


def _run(args: list[str], env: dict, what: str) -> str:
    start = time.perf_counter()
    out = subprocess.run(args, cwd=PROJECT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{what} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    print(f"  {what}: {time.perf_counter() - start:.1f} s", flush=True)
    return out.stdout


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
    base = {**os.environ, "DEMO_MODE": "true"}
    base.setdefault("DJANGO_SETTINGS_MODULE", "consortium.settings")
    base["PYTHONPATH"] = str(PROJECT) + os.pathsep + base.get("PYTHONPATH", "")
    postgres = base.get("DATABASE_URL", "").startswith("postgres")
    database = "PostgreSQL" if postgres else "SQLite"
    # Two databases: the demo data alone, and the demo data with the scale data on top.
    envs = {}
    for name in ("demo", "scale"):
        folder = scratch / name
        folder.mkdir()
        envs[name] = {**base, "PORTAL_VAR_DIR": str(folder)}
        if postgres:
            envs[name]["DATABASE_URL"] = f"{base['DATABASE_URL'].rstrip('/')}_{name}"
    print(f"bench-pages: {database}, scratch folder {scratch}", flush=True)
    manage = [sys.executable, "manage.py"]
    for name, env in envs.items():
        if postgres:
            _recreate(env["DATABASE_URL"])
        _run([*manage, "migrate", "--noinput", "-v0"], env, f"migrate ({name})")
        _run([*manage, "seed_demo"], env, f"seed_demo ({name})")
    seeded = _run(
        [*manage, "seed_scale", "--scale", str(args.scale)], envs["scale"], f"seed_scale --scale {args.scale}"
    )
    demo_m, scale_m = Measurer(envs["demo"]), Measurer(envs["scale"])
    names = [n for n in demo_m.pages if n in scale_m.pages]
    samples: dict[str, dict[str, list[dict]]] = {n: {"demo": [], "scale": []} for n in names}
    start = time.perf_counter()
    for turn in range(args.repeat):
        for n in names:
            # The two take turns, in alternating order, so that load from elsewhere weighs on both alike.
            order = [("demo", demo_m), ("scale", scale_m)] if turn % 2 == 0 else [("scale", scale_m), ("demo", demo_m)]
            for key, measurer in order:
                samples[n][key].append(measurer.ask(n))
    demo_m.close()
    scale_m.close()
    print(f"  measured {len(names)} pages {args.repeat} times on each database: {time.perf_counter() - start:.0f} s")

    def summary(runs: list[dict]) -> dict:
        return {
            "url": runs[0]["url"],
            "status": max(r["status"] for r in runs),
            "queries": max(r["queries"] for r in runs),
            "ms": round(statistics.median(r["ms"] for r in runs), 2),
        }

    demo = [summary(samples[n]["demo"]) | {"name": n} for n in names]
    by_name = {n: summary(samples[n]["scale"]) | {"name": n} for n in names}

    print()
    print(_machine())
    print(seeded.strip().splitlines()[-1] if seeded.strip() else "")
    print(f"median of {args.repeat} requests per page, the two databases taking turns")
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


def _recreate(url: str) -> None:
    """Drops and creates a scratch PostgreSQL database (its name ends in _demo or _scale)."""
    name = url.rsplit("/", 1)[1]
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", url.rsplit("/", 1)[0] + "/postgres", "-qc", sql], check=True, capture_output=True)


if __name__ == "__main__":
    raise SystemExit(main())
