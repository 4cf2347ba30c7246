"""Benchmark: the inference checker as a whole process, on one core.

    python -m submissions.compliance.inference.bench [--data DIR] [--repeat R] [--copies N]

Runs ``python -m submissions.compliance --usage inference --ruleset 5.1 --format json closed open``
on the real v5.1 subset (``../shared/mlperf/inference_results_v5.1``) pinned to one core
(``taskset -c 0`` where there is one), ``--repeat`` times, and prints the best and the median wall
time, with Python's own start-up for scale. With ``--copies N`` it also times a synthetic round of
N copies of the subset (hard links in a temporary folder, each copy's submitters renamed), the size
of the whole round for N = 17, and checks that every copy gets the same verdicts. The verdicts are
compared with ``inference_results_v5.1.official.tsv`` on every run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[3]
DEFAULT_DATA = PROJECT.parent / "shared" / "mlperf" / "inference_results_v5.1"


def _pin() -> list[str]:
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def _command(dirs: list[Path]) -> list[str]:
    checker = [sys.executable, "-m", "submissions.compliance", "--usage", "inference", "--ruleset", "5.1"]
    return [*_pin(), *checker, "--format", "json", *map(str, dirs)]


def _time(cmd: list[str], repeat: int) -> tuple[list[float], list[float], str]:
    """Wall and CPU (user + system) seconds of each run of ``cmd``."""
    times, cpu, out = [], [], ""
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=PROJECT, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"the checker failed: {proc.stderr}")
        out = proc.stdout
    return times, cpu, out


def _oracle(data: Path) -> dict[str, tuple[str, float | None]]:
    rows = {}
    for line in (data.parent / (data.name + ".official.tsv")).read_text().splitlines():
        path, verdict, score, *_ = [*line.split("\t"), "", ""]
        rows[path] = (verdict, float(score) if score else None)
    return rows


def _verdicts(doc: dict[str, Any]) -> dict[str, tuple[str, float | None]]:
    return {r["path"]: (r["verdict"], r["score"]) for r in doc["results"]}


def _synthetic(data: Path, copies: int, into: Path) -> list[Path]:
    for division in ("closed", "open"):
        (into / division).mkdir(parents=True)
        for sub in sorted(p for p in (data / division).iterdir() if p.is_dir()):
            for i in range(copies):
                dst = into / division / f"{sub.name}_c{i:02d}"
                shutil.copytree(sub, dst, copy_function=_link)
                for system in (dst / "systems").glob("*.json"):
                    # the system description names its submitter: a copy gets its own
                    d = json.loads(system.read_text())
                    d["submitter"] = dst.name
                    system.unlink()
                    system.write_text(json.dumps(d))
    return [into / "closed", into / "open"]


def _link(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _row(name: str, times: list[float], cpu: list[float]) -> str:
    return f"| {name} | {min(times):.3f} | {statistics.median(times):.3f} | {min(cpu):.3f} |"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m submissions.compliance.inference.bench")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--copies", type=int, default=0, help="also time N copies of the subset (17: round size)")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    startup, startup_cpu, _ = _time([*_pin(), sys.executable, "-c", "pass"], args.repeat)
    subset, subset_cpu, out = _time(_command([args.data / "closed", args.data / "open"]), args.repeat)
    got, want = _verdicts(json.loads(out)), _oracle(args.data)
    same = sum(got.get(p) == v for p, v in want.items())
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load {load}")
    print(f"pinned to one core: {bool(_pin())}; repeat {args.repeat}")
    print("| run | best wall s | median wall s | best CPU s |\n|---|---:|---:|---:|")
    print(_row("python start-up alone", startup, startup_cpu))
    print(_row(f"subset: {len(got)} results, whole process", subset, subset_cpu))
    if args.copies:
        with tempfile.TemporaryDirectory(prefix="inference-bench-") as tmp:
            dirs = _synthetic(args.data, args.copies, Path(tmp))
            big, big_cpu, out = _time(_command(dirs), max(3, args.repeat // 2))
            doc = json.loads(out)
            results = doc["results"]
            per_copy: dict[str, set[tuple[str, float | None]]] = {}
            for r in results:
                division, submitter, rest = r["path"].split("/", 2)
                original = f"{division}/{submitter.rsplit('_c', 1)[0]}/{rest}"
                per_copy.setdefault(original, set()).add((r["verdict"], r["score"]))
            consistent = all(len(v) == 1 and next(iter(v)) == want.get(k) for k, v in per_copy.items())
            print(_row(f"{args.copies} copies: {len(results)} results, whole process", big, big_cpu))
            print(f"every copy has the official verdicts and scores: {consistent}")
    print(f"verdicts and scores equal to the official checker's: {same}/{len(want)}")
    return 0 if same == len(want) else 1


if __name__ == "__main__":
    sys.exit(main())
