"""Checking a submitter's package, as ``mlperf_logging/package_checker/package_checker.py`` does.

    <Submitter>/systems/<system>.json
    <Submitter>/results/<system>/<benchmark>/result_<n>.txt          (training)
    <Submitter>/results/<system>/<strong|weak>/<benchmark>/result_<n>.txt   (hpc)

The checks, in the official order: system descriptions (rulesets >= 1.0.0), then per benchmark
folder: the system description's division, allowed benchmarks (others are skipped with a
warning), the exact number of result files (weak scaling: at least), each file's compliance,
power results when present, olympic tolerance (one non-compliant run, unet3d four), unique seeds
and the RCP check (closed division).

Differences from the official checker, on purpose:

* it never writes into the package (the official RCP step writes ``scaling.json``);
* where the official checker crashes (a missing system description, a line without
  ``metadata``, ...) the package fails with a finding; the remaining checks still run so that
  the report is useful;
* symlinks that lead outside the package are not followed: they are reported and fail the package.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import rcp as rcp_mod
from .engine import FileFacts, check_file_facts
from .findings import ADVISORY, ERROR, WARNING, Check, FileReport, Finding, PackageReport, Score
from .rules import allowed_benchmarks, result_file_counts, validate
from .scores import (
    SummarizerCrash,
    SystemColumns,
    benchmark_score,
    shipped_scaling_factor,
    system_columns,
    weak_scaling_score,
)
from .systems import _check_systems, _load_json

ProgressCallback = Callable[[int, int], None]

# rulesets for which the official checker checks system descriptions, seeds and RCPs
CHECKED_RULESETS = rcp_mod.RCP_RULESETS
RESULT_NAME_PREFIX = "result_"


def is_package(path: str | os.PathLike[str]) -> bool:
    p = Path(path)
    return p.is_dir() and ((p / "systems").is_dir() or (p / "results").is_dir())


@dataclass(slots=True)
class _BenchmarkDir:
    system: str
    benchmark: str
    path: str  # as the official checker builds it: <package>/results/<system>/<benchmark>
    rel: str
    closed: bool
    weak: bool
    result_files: list[str] = field(default_factory=list)  # glob order, as the RCP checker sees it
    rcp_bypass: bool = False
    seed_bypass: bool = False
    has_params_file: bool = False


class _Package:
    def __init__(self, path: str | os.PathLike[str], usage: str, ruleset: str) -> None:
        self.given = os.fspath(path)
        self.root = os.path.normpath(os.path.abspath(self.given))
        self.real_root = os.path.realpath(self.root)
        self.usage = usage
        self.ruleset = ruleset
        self.report = PackageReport(path=self.given, submitter=os.path.basename(self.real_root))
        self.findings = self.report.findings
        # the result summarizer's system columns (or why it has none), per system
        self.columns: dict[str, tuple[SystemColumns | None, str]] = {}

    # -- helpers -------------------------------------------------------------------------

    def rel(self, path: str) -> str:
        return os.path.relpath(path, self.root)

    def error(self, check: str, message: str, key: str | None = None, crash: bool = False) -> None:
        self.findings.append(Finding(ERROR, check, message, key=key))
        if crash:
            self.report.official_crash = True

    def crash(self, message: str, check: str = Check.PACKAGE_CRASH, key: str | None = None) -> None:
        self.error(check, message + " (the official package checker crashes here)", key=key, crash=True)

    def inside(self, path: str) -> bool:
        """Whether ``path`` (after following symlinks) stays inside the package."""
        real = os.path.realpath(path)
        return real == self.real_root or real.startswith(self.real_root + os.sep)

    def guard(self, path: str) -> bool:
        if self.inside(path):
            return True
        self.error(
            Check.PACKAGE_SYMLINK,
            f"{self.rel(path)} is a symlink that leads outside the package; it is not followed",
        )
        return False

    def sub_folders(self, folder: str) -> list[str]:
        # _get_sub_folders: os.listdir order, directories only (symlinks followed, if inside)
        out = []
        for name in os.listdir(folder):
            sub = os.path.join(folder, name)
            if os.path.isdir(sub) and self.guard(sub):
                out.append(sub)
        return out


def check_package(
    path: str | os.PathLike[str],
    usage: str = "training",
    ruleset: str = "5.1.0",
    *,
    jobs: int = 1,
    progress: ProgressCallback | None = None,
) -> PackageReport:
    """Check a submitter package; the verdict is the official package checker's.

    ``progress(done, total)`` is called after each result file is checked."""
    validate(usage, ruleset)
    pkg = _Package(path, usage, ruleset)
    try:
        _check_package(pkg, jobs, progress)
    except OSError as exc:  # the package vanished or is unreadable half way: never crash
        pkg.crash(f"cannot read the package: {exc}")
    except Exception as exc:  # a bug of the engine: a failed check with the reason, never a crash
        pkg.error(Check.ENGINE_ERROR, f"the engine could not check this package: {type(exc).__name__}: {exc}")
    return pkg.report


def check_systems(path: str | os.PathLike[str], usage: str = "training", ruleset: str = "5.1.0") -> list[Finding]:
    """Only the system descriptions (``systems/*.json``), as the official package checker checks
    them first; the same findings as in :func:`check_package`."""
    validate(usage, ruleset)
    pkg = _Package(path, usage, ruleset)
    if ruleset in CHECKED_RULESETS:
        try:
            _check_systems(pkg)
        except OSError as exc:
            pkg.crash(f"cannot read the package: {exc}")
    return pkg.findings


def _check_package(pkg: _Package, jobs: int, progress: ProgressCallback | None) -> None:
    if pkg.ruleset in CHECKED_RULESETS:
        _check_systems(pkg)
    dirs = _benchmark_dirs(pkg)
    # every result file of every benchmark folder, checked (in parallel when asked)
    tasks: list[tuple[_BenchmarkDir, str]] = []
    for bdir in dirs:
        for f in sorted(bdir.result_files):
            tasks.append((bdir, f))
    results = _check_files(pkg, tasks, jobs, progress)
    for bdir in dirs:
        _check_benchmark(pkg, bdir, results)
    pkg.report.files = [results[f][0] for _, f in tasks]


def _read_params(path: str) -> tuple[bool, bool]:
    # the official loop compares readlines() entries (newline included) with the bare flag
    with open(path) as f:
        lines = f.readlines()
    return "rcp-bypass" in lines, "seed-checker-bypass" in lines


def _benchmark_dirs(pkg: _Package) -> list[_BenchmarkDir]:
    result_folder = os.path.join(pkg.root, "results")
    if not os.path.isdir(result_folder):
        pkg.crash("the package has no results/ folder", check=Check.PACKAGE_LAYOUT)
        return []
    if not pkg.guard(result_folder):
        return []
    allowed = allowed_benchmarks(pkg.usage, pkg.ruleset)
    out: list[_BenchmarkDir] = []
    for system_folder in pkg.sub_folders(result_folder):
        if pkg.usage == "hpc":
            benchmark_folders: list[str] = []
            for scaling_folder in pkg.sub_folders(system_folder):
                if os.path.basename(scaling_folder) not in {"strong", "weak"}:
                    pkg.crash(
                        f"{pkg.rel(scaling_folder)}: hpc results must be under strong/ or weak/",
                        check=Check.PACKAGE_LAYOUT,
                    )
                    continue
                benchmark_folders.extend(pkg.sub_folders(scaling_folder))
        else:
            benchmark_folders = pkg.sub_folders(system_folder)
        system_rcp_bypass = system_seed_bypass = False
        params_path = os.path.join(system_folder, "package_checker_params")
        if os.path.exists(params_path):
            try:
                system_rcp_bypass, system_seed_bypass = _read_params(params_path)
            except (OSError, ValueError) as exc:
                pkg.crash(f"{pkg.rel(params_path)}: unreadable: {exc}")
        for benchmark_folder in benchmark_folders:
            parts = benchmark_folder.split(os.sep)
            benchmark = parts[-1]
            weak = pkg.usage == "hpc" and parts[-2] == "weak"
            system = parts[-3] if pkg.usage == "hpc" else parts[-2]
            rel = pkg.rel(benchmark_folder)
            closed = _division_is_closed(pkg, system, rel)
            if benchmark not in allowed:
                pkg.findings.append(
                    Finding(
                        WARNING,
                        Check.PACKAGE_BENCHMARK_NOT_ALLOWED,
                        f"{rel}: {benchmark!r} is not a {pkg.usage} {pkg.ruleset} benchmark; "
                        f"the folder is skipped (allowed: {', '.join(allowed)})",
                    )
                )
                continue
            bdir = _BenchmarkDir(system, benchmark, benchmark_folder, rel, closed, weak)
            bdir.rcp_bypass, bdir.seed_bypass = system_rcp_bypass, system_seed_bypass
            _list_results(pkg, bdir)
            out.append(bdir)
    return out


def _division_is_closed(pkg: _Package, system: str, rel: str) -> bool:
    desc = os.path.join(pkg.root, "systems", system + ".json")
    if not os.path.isfile(desc):
        pkg.crash(f"{rel}: no system description systems/{system}.json", check=Check.PACKAGE_SYSTEM_MISSING)
        return False
    if not pkg.guard(desc):
        return False
    try:
        contents = _load_json(desc)
        return bool(contents["division"] == "closed")
    except (OSError, ValueError) as exc:
        pkg.crash(f"systems/{system}.json: not a readable JSON file: {exc}", check=Check.SYSTEM_UNREADABLE)
    except Exception:
        pkg.crash(f"systems/{system}.json has no 'division'", check=Check.SYSTEM_MISSING_FIELD, key="division")
    return False


def _list_results(pkg: _Package, bdir: _BenchmarkDir) -> None:
    folder = bdir.path
    escaped = os.path.join(glob.escape(pkg.root), os.path.relpath(folder, pkg.root))
    # the official patterns, with the package's own path escaped (it may differ from the path
    # the official checker was given); system and benchmark names stay patterns, as there
    result_files = glob.glob(escaped + "/result_*.txt")
    all_files = glob.glob(escaped + "/*")
    params_path = os.path.join(folder, "package_checker_params")
    params_files = 0
    if os.path.exists(params_path):
        params_files = 1
        try:
            rcp_bypass, seed_bypass = _read_params(params_path)
            bdir.rcp_bypass = bdir.rcp_bypass or rcp_bypass
            bdir.seed_bypass = bdir.seed_bypass or seed_bypass
        except (OSError, ValueError) as exc:
            pkg.crash(f"{pkg.rel(params_path)}: unreadable: {exc}")
    bdir.has_params_file = bool(params_files)
    bdir.result_files = [f for f in result_files if pkg.guard(f)]
    expected = result_file_counts(pkg.usage).get(bdir.benchmark)
    found = len(result_files)
    if expected is None:
        pkg.crash(f"{bdir.rel}: no result file count known for {bdir.benchmark!r}")
    elif bdir.weak:
        if found < expected:
            pkg.error(
                Check.PACKAGE_RESULT_COUNT,
                f"{bdir.rel}: expected at least {expected} result files, found {found}",
            )
    elif found != expected:
        pkg.error(
            Check.PACKAGE_RESULT_COUNT,
            f"{bdir.rel}: expected exactly {expected} result_*.txt files, found {found}",
        )
    if len(all_files) > len(result_files) + params_files:
        pkg.findings.append(
            Finding(
                WARNING,
                Check.PACKAGE_UNKNOWN_FILES,
                f"{bdir.rel}: {len(all_files) - len(result_files) - params_files} file(s) not named result_*.txt",
            )
        )
    for f in sorted(all_files):
        name = os.path.basename(f)
        if name in ("package_checker_params", "scaling.json", "power"):
            continue
        stem = name[len(RESULT_NAME_PREFIX) : -len(".txt")] if name.endswith(".txt") else ""
        if not (name.startswith(RESULT_NAME_PREFIX) and stem.isdigit() and stem.isascii()):
            pkg.findings.append(
                Finding(
                    ADVISORY,
                    Check.ADVISORY_RESULT_NAME,
                    f"{pkg.rel(f)}: not named result_<n>.txt",
                )
            )


def _check_one(args: tuple[str, str, str, str, str | None, bool]) -> tuple[FileReport, FileFacts]:
    path, usage, ruleset, rel, org, want_rcp = args
    facts = FileFacts(rcp=rcp_mod.RcpReader(ruleset) if want_rcp else None)
    report, _ = check_file_facts(path, usage, ruleset, display_path=rel, expected_org=org, facts=facts)
    return report, facts


def mp_context() -> Any:
    """Worker processes: fork when this process has a single thread (cheap, and no re-import of
    ``__main__``), forkserver otherwise (forking a threaded process is unsafe)."""
    import threading

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _check_files(
    pkg: _Package,
    tasks: list[tuple[_BenchmarkDir, str]],
    jobs: int,
    progress: ProgressCallback | None,
) -> dict[str, tuple[FileReport, FileFacts]]:
    want_rcp = pkg.ruleset in CHECKED_RULESETS
    args = [
        (f, pkg.usage, pkg.ruleset, pkg.rel(f), pkg.report.submitter, want_rcp and bdir.closed) for bdir, f in tasks
    ]
    results: dict[str, tuple[FileReport, FileFacts]] = {}
    total = len(args)
    # a daemonic process (a Celery prefork worker) may not start processes: check in process
    if jobs > 1 and total > 1 and not multiprocessing.current_process().daemon:
        with ProcessPoolExecutor(max_workers=min(jobs, total), mp_context=mp_context()) as pool:
            for i, (a, res) in enumerate(zip(args, pool.map(_check_one, args, chunksize=4), strict=True), 1):
                results[a[0]] = res
                if progress is not None:
                    progress(i, total)
    else:
        for i, a in enumerate(args, 1):
            results[a[0]] = _check_one(a)
            if progress is not None:
                progress(i, total)
    return results


def _check_benchmark(pkg: _Package, bdir: _BenchmarkDir, results: dict[str, tuple[FileReport, FileFacts]]) -> None:
    files = sorted(bdir.result_files)
    reports = [results[f][0] for f in files]
    for r in reports:
        if r.official_crash:
            pkg.crash(f"{r.path}: the official compliance checker cannot check this file", check=Check.PACKAGE_CRASH)
    error_set = {os.path.splitext(os.path.basename(f))[0] for f, r in zip(files, reports, strict=True) if not r.passed}
    power_folder = os.path.join(bdir.path, "power")
    if os.path.exists(power_folder):
        error_set |= _check_power(pkg, bdir, power_folder, files)
    n = len(error_set)
    unet3d = bdir.benchmark == "unet3d"
    if (n == 1 and not unet3d) or (0 < n <= 4 and unet3d):
        pkg.findings.append(
            Finding(
                WARNING,
                Check.PACKAGE_NONCOMPLIANT_ACCEPTED,
                f"{bdir.rel}: {n} run(s) do not comply ({', '.join(sorted(error_set))}); "
                "accepted under olympic scoring",
            )
        )
    elif n > 0:
        pkg.error(
            Check.PACKAGE_NONCOMPLIANT_RUNS,
            f"{bdir.rel}: {n} runs do not comply ({', '.join(sorted(error_set))}); "
            f"at most {4 if unet3d else 1} may be dropped by olympic scoring",
        )
    if pkg.ruleset in CHECKED_RULESETS and bdir.closed and not bdir.seed_bypass:
        _check_seeds(pkg, bdir, files, results)
    if pkg.ruleset in CHECKED_RULESETS and bdir.closed and bdir.benchmark != "minigo":
        _check_rcp(pkg, bdir, results)
    _score(pkg, bdir, [results[f] for f in bdir.result_files])  # glob order, as the summarizer


def _check_rcp(pkg: _Package, bdir: _BenchmarkDir, results: dict[str, tuple[FileReport, FileFacts]]) -> None:
    readers = [results[f][1].rcp for f in bdir.result_files]  # glob order, like the RCP checker
    try:
        res = rcp_mod.check_directory(readers, pkg.usage, pkg.ruleset, bdir.rcp_bypass)
    except rcp_mod.RcpCrash as exc:
        pkg.crash(f"{bdir.rel}: the RCP check cannot run: {exc}", check=Check.PACKAGE_RCP)
        return
    if not res.passed:
        pkg.error(Check.PACKAGE_RCP, f"{bdir.rel}: RCP test failed: {res.message}")
    elif "rcp_bypass" in res.message:
        pkg.findings.append(Finding(WARNING, Check.PACKAGE_RCP_BYPASSED, f"{bdir.rel}: RCP test failed; {res.message}"))


def _no_score(pkg: _Package, bdir: _BenchmarkDir, reason: str) -> None:
    pkg.findings.append(Finding(ADVISORY, Check.ADVISORY_NO_SCORE, f"{bdir.rel}: no score: {reason}"))


def _system_columns(pkg: _Package, bdir: _BenchmarkDir) -> SystemColumns | None:
    """The result summarizer's row for the system, or None (and an advisory) where it has none."""
    if bdir.system not in pkg.columns:
        rel = f"systems/{bdir.system}.json"
        path = os.path.join(pkg.root, rel)
        try:
            if not os.path.isfile(path):
                pkg.columns[bdir.system] = (None, f"no {rel}; the official result summarizer skips the system")
            else:
                pkg.columns[bdir.system] = (system_columns(_load_json(path)), "")
        except Exception as exc:  # unreadable JSON, an int() that fails, ...: the summarizer raises
            reason = exc if isinstance(exc, SummarizerCrash) else f"{type(exc).__name__}: {exc}"
            pkg.columns[bdir.system] = (None, f"{rel}: {reason}; the official result summarizer crashes here")
    columns, why = pkg.columns[bdir.system]
    if columns is None:
        _no_score(pkg, bdir, why)
    return columns


def _score(pkg: _Package, bdir: _BenchmarkDir, runs: list[tuple[FileReport, FileFacts]]) -> None:
    columns = _system_columns(pkg, bdir)
    if columns is None:
        return
    if bdir.weak:
        _weak_score(pkg, bdir, runs, columns)
        return
    try:
        # the summarizer reads scaling.json before its own RCP step (re)writes it: the factor the
        # package ships, never the one the package checker would write
        factor = shipped_scaling_factor(os.path.join(bdir.path, "scaling.json"))
    except SummarizerCrash as exc:
        _no_score(pkg, bdir, f"scaling.json: {exc}; the official result summarizer crashes here")
        return
    minutes = benchmark_score(bdir.benchmark, runs, factor)
    if minutes is not None:
        pkg.report.scores.append(score_for(bdir, minutes, columns))


def score_for(bdir: _BenchmarkDir, minutes: float, columns: SystemColumns) -> Score:
    return Score(
        system=bdir.system,
        benchmark=bdir.benchmark,
        minutes=minutes,
        system_name=columns.system_name,
        accelerator=columns.accelerator,
        accelerator_count=columns.accelerator_count,
    )


def _weak_score(
    pkg: _Package, bdir: _BenchmarkDir, runs: list[tuple[FileReport, FileFacts]], columns: SystemColumns
) -> None:
    """The result summarizer's weak-scaling metrics; an advisory says why there are none."""
    required = result_file_counts(pkg.usage).get(bdir.benchmark)
    if required is None:  # already a package.crash finding (no result file count)
        return
    weak, reason = weak_scaling_score(runs, required)
    if weak is None:
        pkg.findings.append(
            Finding(ADVISORY, Check.ADVISORY_NO_WEAK_SCORE, f"{bdir.rel}: no weak-scaling score: {reason}")
        )
        return
    pkg.report.scores.append(
        Score(
            system=bdir.system,
            benchmark=bdir.benchmark,
            minutes=weak.time_to_train_all,
            scaling="weak",
            number_of_models=weak.number_of_models,
            instance_scale=weak.instance_scale,
            system_name=columns.system_name,
            accelerator=columns.accelerator,
            accelerator_count=columns.accelerator_count,
        )
    )


def _check_seeds(
    pkg: _Package, bdir: _BenchmarkDir, files: list[str], results: dict[str, tuple[FileReport, FileFacts]]
) -> None:
    errors: list[str] = []
    seen: dict[Any, str] = {}
    for f in files:
        report, facts = results[f]
        if facts.seed_error is not None:
            errors.append(f"{report.path}: {facts.seed_error}")
            continue
        if not facts.seeds:
            errors.append(f"{report.path} logs no seed")
        for record in facts.seeds:
            try:
                other = seen.get(record)
            except TypeError:
                pkg.crash(f"{report.path}: a seed's metadata cannot be compared", check=Check.PACKAGE_SEEDS)
                return
            if other is not None:
                errors.append(
                    f"{report.path} logs seed {record[2]} at {record[0]}:{record[1]}, like {other} on the same line"
                )
            else:
                seen[record] = report.path
    for message in errors:
        pkg.error(Check.PACKAGE_SEEDS, f"{bdir.rel}: seed check failed: {message}", key="seed")


def _check_power(pkg: _Package, bdir: _BenchmarkDir, power_folder: str, files: list[str]) -> set[str]:
    """``PowerChecker.check_power``: power results per run, consistently named and counted."""
    errors: set[str] = set()
    node_lens: list[int] = []
    sw_lens: list[int] = []

    def in_range(indices: list[int], n: int) -> bool:
        return all(0 <= e <= n - 1 for e in indices)

    try:
        for f in files:
            name = os.path.splitext(os.path.basename(f))[0]
            run_folder = os.path.join(power_folder, name)
            if not os.path.exists(run_folder):
                errors.add(name)
                pkg.findings.append(Finding(WARNING, Check.PACKAGE_POWER, f"{bdir.rel}: no power results for {name}"))
                continue
            power_files = os.listdir(run_folder)
            nodes = [p for p in power_files if p.startswith("node")]
            sws = [p for p in power_files if p.startswith("sw")]
            node_idx = [int(os.path.splitext(os.path.basename(p))[0].split("_")[-1]) for p in nodes]
            sw_idx = [int(os.path.splitext(os.path.basename(p))[0].split("_")[-1]) for p in sws]
            if not in_range(node_idx, len(nodes)) or not in_range(sw_idx, len(sws)):
                errors.add(name)
                pkg.findings.append(
                    Finding(WARNING, Check.PACKAGE_POWER, f"{bdir.rel}: badly named power files for {name}")
                )
            node_lens.append(len(nodes))
            sw_lens.append(len(sws))
        names = [os.path.splitext(os.path.basename(f))[0] for f in files]
        for lens, what in ((node_lens, "node"), (sw_lens, "sw")):
            counts: dict[int, int] = {}
            for e in lens:
                counts[e] = counts.get(e, 0) + 1
            most = max(counts, key=counts.__getitem__)  # raises on no runs, like the official one
            for i, e in enumerate(lens):
                if e != most:
                    errors.add(names[i])
                    pkg.findings.append(
                        Finding(
                            WARNING,
                            Check.PACKAGE_POWER,
                            f"{bdir.rel}: inconsistent number of {what} power files",
                        )
                    )
    except (OSError, ValueError) as exc:
        pkg.crash(f"{bdir.rel}: the power results cannot be read: {exc}", check=Check.PACKAGE_POWER)
    return errors
