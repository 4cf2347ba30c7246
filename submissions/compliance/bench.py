"""Benchmark: the compliance command as a whole process, beside the official checker and the floor.

    python -m submissions.compliance.bench [--repeat R] [--data ROUND ...]

Each measurement is a whole process (interpreter start, imports, output), pinned to one core,
``--jobs 1``, the three taking turns in each round so that other load weighs on all alike:

* floor: one process that reads every result file (latin-1, as the official parser) and
  ``json.loads`` every MLLOG line;
* official: one process that runs ``mlperf_logging``'s compliance checker on every result file,
  in process (``oracle.official_file``: one import, then file after file);
* engine: ``python -m submissions.compliance --ruleset R --jobs 1 --format json <every package>``,
  one process per round (a command takes one ruleset).

Default data: ``../shared/mlperf/training_results_v5.1`` alone, then v5.0 and v5.1 together.
Times are the best of ``--repeat`` rounds, wall clock and CPU (user + system, from the child's
resource usage); the ratios are printed for both. The engine's file verdicts are compared with
the official ones.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import cast

from .oracle import official_file

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "mlperf"
ROUNDS = {"training_results_v5.1": "5.1.0", "training_results_v5.0": "5.0.0"}
TOKEN = ":::MLLOG "


def result_files(round_dir: Path) -> list[Path]:
    return sorted(round_dir.glob("*/results/*/*/result_*.txt"))


def packages(round_dir: Path) -> list[Path]:
    return sorted(
        p for p in round_dir.iterdir() if p.is_dir() and ((p / "results").is_dir() or (p / "systems").is_dir())
    )


def _floor(paths: list[str]) -> None:
    """Child: read every file and json.loads every MLLOG line."""
    n = 0
    for path in paths:
        with open(path, encoding="latin-1") as f:
            for line in f:
                i = line.find(TOKEN)
                if i >= 0:
                    json.loads(line[i + len(TOKEN) :])
                    n += 1
    print(json.dumps({"lines": n}))


def _official(ruleset: str, paths: list[str]) -> None:
    """Child: the official compliance checker on every file, in this one process."""
    verdicts = {p: official_file(p, "training", ruleset).verdict for p in paths}
    print(json.dumps(verdicts))


class Timer:
    """Children's CPU time, measured as the growth of RUSAGE_CHILDREN around each process."""

    def __init__(self, core: int | None) -> None:
        self.core = core

    def _pin(self) -> None:
        assert self.core is not None  # only given as preexec_fn when there is a core
        os.sched_setaffinity(0, {self.core})

    def __call__(self, argv: list[str]) -> tuple[float, float, str]:
        import resource

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            argv,
            capture_output=True,
            preexec_fn=self._pin if self.core is not None else None,
            check=False,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if done.returncode not in (0, 1):  # the engine exits 1 when something fails
            raise RuntimeError(f"{argv[:4]} exited {done.returncode}: {done.stderr.decode()[-500:]}")
        return wall, cpu, done.stdout.decode()


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


def measure(rounds: list[Path], repeat: int, timer: Timer) -> dict[str, object]:
    py = sys.executable
    files = [str(f) for r in rounds for f in result_files(r)]
    commands: dict[str, list[list[str]]] = {
        "floor": [[py, "-m", "submissions.compliance.bench", "--child-floor", *files]],
        "official": [
            [py, "-m", "submissions.compliance.bench", "--child-official", ROUNDS[r.name], *map(str, result_files(r))]
            for r in rounds
        ],
        "engine": [
            [py, "-m", "submissions.compliance", "--ruleset", ROUNDS[r.name], "--jobs", "1", "--format", "json"]
            + [str(p) for p in packages(r)]
            for r in rounds
        ],
    }
    best = {name: [float("inf"), float("inf")] for name in commands}
    outputs: dict[str, list[str]] = {}
    for _ in range(repeat):
        for name, argvs in commands.items():
            wall = cpu = 0.0
            outs = []
            for argv in argvs:  # a round of several rulesets: one process each, times added
                w, c, out = timer(argv)
                wall, cpu = wall + w, cpu + c
                outs.append(out)
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
            outputs[name] = outs
    # verdicts: the engine's file reports against the official checker's
    official: dict[str, str] = {}
    for out in outputs["official"]:
        official.update(json.loads(out))
    mine: dict[str, str] = {}
    for out in outputs["engine"]:
        doc = json.loads(out)
        for package in doc["packages"]:
            for f in package["files"]:
                mine[os.path.join(package["path"], f["path"])] = f["verdict"]
    disagree = sum(mine.get(p) != ("fail" if v == "crash" else v) for p, v in official.items())
    size = sum(os.path.getsize(f) for f in files)
    return {
        "files": len(files),
        "mb": size / 1e6,
        "packages": sum(len(packages(r)) for r in rounds),
        "lines": json.loads(outputs["floor"][0])["lines"],
        "best": best,
        "disagree": disagree,
        "engine_fail": sum(v == "fail" for v in mine.values()),
    }


def report(title: str, m: dict[str, object]) -> None:
    best = cast("dict[str, list[float]]", m["best"])  # measure() puts it there
    print(f"\n{title}: {m['packages']} packages, {m['files']} result files, {m['mb']:.1f} MB, {m['lines']} MLLOG lines")
    print(f"{'whole process':<34}{'wall s':>9}{'CPU s':>9}")
    labels = {
        "floor": "floor (read + json.loads)",
        "official": "official checker, in process",
        "engine": "engine command, --jobs 1",
    }
    for name, (wall, cpu) in best.items():
        print(f"{labels[name]:<34}{wall:9.3f}{cpu:9.3f}")
    (fw, fc), (ow, oc), (ew, ec) = best["floor"], best["official"], best["engine"]
    print(f"official / engine: {ow / ew:5.1f}x wall, {oc / ec:5.1f}x CPU   (target >= 10x)")
    print(f"engine / floor:    {ew / fw:5.2f}x wall, {ec / fc:5.2f}x CPU   (target <= 3x)")
    print(f"verdicts: {m['engine_fail']} files fail; {m['disagree']} disagreements with the official checker")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child-floor"]:
        _floor(argv[1:])
        return 0
    if argv[:1] == ["--child-official"]:
        _official(argv[1], argv[2:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m submissions.compliance.bench", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the three measurements (default 3)")
    parser.add_argument("--data", type=Path, default=SHARED, help="the folder holding training_results_v5.x")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the processes to one core")
    args = parser.parse_args(argv)
    v51, v50 = args.data / "training_results_v5.1", args.data / "training_results_v5.0"
    if not v51.is_dir():
        print(f"no data at {v51} (see ../shared/mlperf/README.md)", file=sys.stderr)
        return 2
    core = None
    if not args.no_pin and hasattr(os, "sched_getaffinity"):
        core = max(os.sched_getaffinity(0))
    timer = Timer(core)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"date: {when}; each process pinned to CPU {core}; best of {args.repeat}")
    report("training v5.1 (ruleset 5.1.0)", measure([v51], args.repeat, timer))
    if v50.is_dir():
        report(
            "training v5.0 + v5.1 (5.0.0 and 5.1.0, one process per round, times added)",
            measure([v50, v51], args.repeat, timer),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
