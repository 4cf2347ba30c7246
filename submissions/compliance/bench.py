"""Benchmark: the engine against the official checker (in process) and against the floor.

    python -m submissions.compliance.bench [--jobs N] [--repeat R] [--data PATH] [--no-packages]

On the real MLPerf Training v5.1 results (``../shared/mlperf/training_results_v5.1``), in one run:

* floor: read every file (latin-1, as the official parser) and ``json.loads`` every MLLOG line;
* official: ``mlperf_logging``'s compliance checker on every file, in this process;
* engine: ``check_file`` on every file (with ``--jobs N``: N worker processes);
* packages: the official package checker (on scratch copies, copying not timed) and
  ``check_package`` on the 13 packages.

Each timing is the best of ``--repeat`` runs after a warm-up. Verdicts are compared as well.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .engine import check_file
from .oracle import official_file, official_package
from .package import check_package, mp_context

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "mlperf" / "training_results_v5.1"
TOKEN = ":::MLLOG "


def floor(files: list[Path]) -> int:
    n = 0
    for path in files:
        with open(path, encoding="latin-1") as f:
            for line in f:
                i = line.find(TOKEN)
                if i >= 0:
                    json.loads(line[i + len(TOKEN) :])
                    n += 1
    return n


def engine_serial(files: list[Path]) -> list[str]:
    return [check_file(f, "training", "5.1.0").verdict for f in files]


def _verdict(path: str) -> str:
    return check_file(path, "training", "5.1.0").verdict


def engine_parallel(files: list[Path], jobs: int) -> list[str]:
    with ProcessPoolExecutor(jobs, mp_context=mp_context()) as pool:
        return list(pool.map(_verdict, [str(f) for f in files], chunksize=8))


def official_serial(files: list[Path]) -> list[str]:
    return [official_file(f, "training", "5.1.0").verdict for f in files]


def best_of(repeat: int, fns: dict[str, Callable[[], object]]) -> dict[str, tuple[float, object]]:
    """Best time of each function over ``repeat`` rounds, after a warm-up. The functions take
    turns within a round, so that load from other processes weighs on all of them alike."""
    results = {name: fn() for name, fn in fns.items()}  # warm-up: caches, imports, page cache
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            t = time.perf_counter()
            results[name] = fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return {name: (best[name], results[name]) for name in fns}


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc), {model}, Python {platform.python_version()}, {platform.system()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m submissions.compliance.bench", description=__doc__)
    parser.add_argument("--jobs", type=int, default=1, help="engine worker processes (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (default 3)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the training_results_v5.1 folder")
    parser.add_argument("--no-packages", action="store_true", help="skip the package checker comparison")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"no data at {args.data} (see ../shared/mlperf/README.md)", file=sys.stderr)
        return 2
    files = sorted(args.data.glob("*/results/*/*/result_*.txt"))
    size = sum(f.stat().st_size for f in files)
    print(f"machine: {machine()}")
    print(f"data: {args.data}: {len(files)} files, {size / 1e6:.1f} MB, ruleset training 5.1.0")
    print(f"best of {args.repeat} runs (engine and floor: {2 * args.repeat}, taking turns) after a warm-up\n")

    fast: dict[str, Callable[[], object]] = {
        "floor (read + json.loads)": lambda: floor(files),
        "engine, 1 process": lambda: engine_serial(files),
    }
    if args.jobs > 1:
        fast[f"engine, --jobs {args.jobs}"] = lambda: engine_parallel(files, args.jobs)
    timed = best_of(args.repeat * 2, fast)  # the fast ones are noisier: twice the rounds
    timed.update(best_of(args.repeat, {"official, in process": lambda: official_serial(files)}))
    t_floor, n_lines = timed["floor (read + json.loads)"]
    t_engine, mine = timed["engine, 1 process"]
    t_official, official = timed["official, in process"]
    rows = [(name, timed[name][0]) for name in ("floor (read + json.loads)", "official, in process", *list(fast)[1:])]
    t_jobs = None
    if args.jobs > 1:
        t_jobs, mine_jobs = timed[f"engine, --jobs {args.jobs}"]
        assert mine_jobs == mine
    print(f"{'files':<28}{'seconds':>9}{'ms/file':>9}{'MB/s':>8}")
    for name, t in rows:
        print(f"{name:<28}{t:9.3f}{1000 * t / len(files):9.2f}{size / 1e6 / t:8.1f}")
    disagree = sum(a != ("fail" if b == "crash" else b) for a, b in zip(mine, official, strict=True))  # type: ignore[arg-type]
    print(
        f"\nMLLOG lines: {n_lines}; verdicts: engine {mine.count('pass')} pass / {mine.count('fail')} fail, "  # type: ignore[union-attr]
        f"{disagree} disagreements with the official checker"
    )
    print(f"official / engine: {t_official / t_engine:.1f}x faster (target >= 10x)")
    print(f"engine / floor:    {t_engine / t_floor:.2f}x the floor (target <= 3x)")
    if t_jobs:
        print(f"--jobs {args.jobs}:          {t_engine / t_jobs:.2f}x the 1-process engine")

    if not args.no_packages:
        packages = sorted(p for p in args.data.iterdir() if p.is_dir())
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            copies = []
            for i, p in enumerate(packages):
                copies.append(Path(tmp) / str(i) / p.name)
                shutil.copytree(p, copies[-1])
            official_package(copies[0], "training", "5.1.0", in_place=True)  # warm-up: imports
            t = time.perf_counter()
            official_pkg = [official_package(c, "training", "5.1.0", in_place=True).verdict for c in copies]
            t_off_pkg = time.perf_counter() - t
        t_pkg, mine_pkg = best_of(
            args.repeat,
            {"packages": lambda: [check_package(p, "training", "5.1.0", jobs=args.jobs).verdict for p in packages]},
        )["packages"]
        print(f"\n{'packages':<28}{'seconds':>9}")
        print(f"{'official, in process':<28}{t_off_pkg:9.3f}")
        print(f"{'engine, --jobs ' + str(args.jobs):<28}{t_pkg:9.3f}")
        print(
            f"{len(packages)} packages; official {official_pkg.count('pass')} pass, engine "
            f"{mine_pkg.count('pass')} pass; official / engine: {t_off_pkg / t_pkg:.1f}x"  # type: ignore[union-attr]
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
