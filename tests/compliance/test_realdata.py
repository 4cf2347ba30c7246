"""The engine against the pinned official checker on the real MLPerf Training v5.1 results
(``../shared/mlperf``), and on mutations of them built here. Skips when the data is absent."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from submissions.compliance import check_file, check_package
from submissions.compliance.oracle import OfficialResult, official_file, official_package
from tests.compliance.conftest import real_files, real_packages

pytestmark = pytest.mark.realdata

RULES = ("training", "5.1.0")


def assert_agrees(report_verdict: str, report_crash: bool, official: OfficialResult, context: object) -> None:
    if official.verdict == "crash":
        assert report_verdict == "fail" and report_crash, (context, official)
    else:
        assert report_verdict == official.verdict, (context, official)


# --- every real file and package -----------------------------------------------------------


def test_every_real_file_has_the_official_verdict(official_files: dict[Path, OfficialResult]) -> None:
    assert len(official_files) == 344
    disagreements = []
    for path, official in official_files.items():
        report = check_file(path, *RULES)
        if report.verdict != official.verdict:
            disagreements.append((path, official, report.findings))
    assert disagreements == []
    failing = [p.relative_to(p.parents[4]) for p, o in official_files.items() if o.verdict != "pass"]
    assert [str(p) for p in failing] == ["Cisco/results/hpf_n8/dlrm_dcnv2/result_1.txt"]


def test_every_real_package_has_the_official_verdict_and_scores(
    official_packages: dict[str, OfficialResult], no_writes: Callable[[Path], None]
) -> None:
    assert len(official_packages) == 13
    for package in real_packages():
        no_writes(package)
        report = check_package(package, *RULES)
        official = official_packages[package.name]
        assert report.verdict == official.verdict == "pass", (package.name, report.findings)
        assert report.submitter == package.name
        mine = {(s.system, s.benchmark): s.minutes for s in report.scores}
        assert mine.keys() == official.scores.keys(), package.name
        for key, minutes in official.scores.items():
            assert mine[key] == pytest.approx(minutes, rel=1e-12, abs=0), (package.name, key)
    assert sum(len(check_package(p, *RULES).files) for p in real_packages()) == 344


def test_real_file_findings_point_at_real_lines(real_root: Path) -> None:
    path = next(p for p in real_files() if str(p).endswith("Cisco/results/hpf_n8/dlrm_dcnv2/result_1.txt"))
    report = check_file(path, *RULES)
    [error] = [f for f in report.findings if f.severity == "error"]
    lines = path.read_text(encoding="latin-1").splitlines()
    assert '"eval_accuracy"' in lines[error.line - 1]
    stop = next(f for f in report.findings if f.check == "advisory.run_stop_status")
    assert '"run_stop"' in lines[stop.line - 1]


def test_jobs_give_the_same_report(real_root: Path) -> None:
    one = check_package(real_root / "Krai", *RULES).to_dict()
    two = check_package(real_root / "Krai", *RULES, jobs=2).to_dict()
    assert one == two


# --- file mutations ------------------------------------------------------------------------


def sample_files() -> list[Path]:
    """One real file per system and benchmark folder."""
    seen: dict[Path, Path] = {}
    for f in real_files():
        seen.setdefault(f.parent, f)
    return list(seen.values())


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _index(lines: list[bytes], key: str, last: bool = False) -> int | None:
    hits = [i for i, ln in enumerate(lines) if b":::MLLOG" in ln and f'"key": "{key}"'.encode() in ln]
    if not hits:
        return None
    return hits[-1] if last else hits[0]


def mutate(path: Path, kind: str) -> bytes | None:
    data = path.read_bytes()
    lines = _lines(path)
    if kind.startswith("drop:"):
        key = kind[5:]
        kept = [ln for ln in lines if not (b":::MLLOG" in ln and f'"key": "{key}"'.encode() in ln)]
        return b"".join(kept) if len(kept) != len(lines) else None
    if kind.startswith("duplicate:"):
        i = _index(lines, kind[10:])
        if i is None:
            return None
        return b"".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    if kind == "duplicate_different":
        i = _index(lines, "global_batch_size")
        if i is None:
            return None
        other = re.sub(rb'"value": (\d+)', lambda m: b'"value": %d' % (int(m.group(1)) + 1), lines[i])
        return b"".join([*lines[: i + 1], other, *lines[i + 1 :]])
    if kind == "reorder_run_start_first":
        i, j = _index(lines, "run_start"), _index(lines, "init_start")
        if i is None or j is None:
            return None
        moved = lines[i]
        rest = lines[:i] + lines[i + 1 :]
        return b"".join([*rest[:j], moved, *rest[j:]])
    if kind == "reorder_run_stop_first":
        i, j = _index(lines, "run_stop"), _index(lines, "run_start")
        if i is None or j is None:
            return None
        moved = lines[i]
        rest = lines[:i] + lines[i + 1 :]
        return b"".join([*rest[:j], moved, *rest[j:]])
    if kind == "accuracy_misses_target":
        return re.sub(rb'("key": "eval_accuracy", "value": )[-0-9.eE+]+', rb"\g<1>0.0", data)
    if kind == "truncated":
        return data[: len(data) // 2]
    if kind == "broken_json":
        i = _index(lines, "eval_accuracy", last=True)
        if i is None:
            return None
        return b"".join([*lines[:i], lines[i].rstrip().rstrip(b"}") + b"\n", *lines[i + 1 :]])
    if kind == "no_metadata":
        i = _index(lines, "init_stop")
        if i is None:
            return None
        broken = re.sub(rb', "metadata": \{.*\}\s*$', b"}\n", lines[i])
        return b"".join([*lines[:i], broken, *lines[i + 1 :]])
    if kind == "non_utf8":
        return b"\xff\xfe\x80 binary junk \xc3\x28\n" + data.replace(b"MLPerf", b"ML\xffPerf", 3)
    if kind == "crlf":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if kind == "empty":
        return b""
    raise AssertionError(kind)


FILE_MUTATIONS = [
    "drop:submission_org",
    "drop:global_batch_size",
    "drop:run_stop",
    "drop:init_stop",
    "drop:eval_accuracy",
    "drop:block_start",
    "drop:eval_samples",
    "duplicate:submission_benchmark",
    "duplicate:run_start",
    "duplicate_different",
    "reorder_run_start_first",
    "reorder_run_stop_first",
    "accuracy_misses_target",
    "truncated",
    "broken_json",
    "no_metadata",
    "non_utf8",
    "crlf",
    "empty",
]


@pytest.mark.parametrize("kind", FILE_MUTATIONS)
def test_file_mutations_agree_with_official(real_root: Path, tmp_path: Path, kind: str) -> None:
    tried = 0
    verdicts: set[str] = set()
    for i, source in enumerate(sample_files()):
        data = mutate(source, kind)
        if data is None:
            continue
        path = tmp_path / f"{i}_{source.name}"
        path.write_bytes(data)
        official = official_file(path, *RULES)
        report = check_file(path, *RULES)
        assert_agrees(report.verdict, report.official_crash, official, (kind, source))
        verdicts.add(official.verdict)
        tried += 1
    assert tried > 0
    if kind in ("crlf", "non_utf8"):
        assert "pass" in verdicts
    if kind in ("empty", "truncated", "broken_json", "drop:run_stop", "reorder_run_start_first"):
        assert "pass" not in verdicts
    if kind == "no_metadata":
        assert verdicts == {"crash"}


# --- package mutations -----------------------------------------------------------------------

KRAI_RESULTS = "results/PowerEdge-XE9680-MI300X-192GB_n1_v5.1/llama2_70b_lora"
KRAI_SYSTEM = "systems/PowerEdge-XE9680-MI300X-192GB_n1_v5.1.json"


def _break_run(path: Path) -> None:
    # drop run_stop: the file fails compliance (and the run does not converge)
    data = b"".join(ln for ln in _lines(path) if b'"key": "run_stop"' not in ln)
    path.write_bytes(data)


def _edit_system(pkg: Path, edit: Callable[[dict], None]) -> None:
    path = pkg / KRAI_SYSTEM
    desc = json.loads(path.read_text())
    edit(desc)
    path.write_text(json.dumps(desc))


PACKAGE_MUTATIONS: dict[str, Callable[[Path], None]] = {
    "unchanged": lambda p: None,
    "missing_result_file": lambda p: (p / KRAI_RESULTS / "result_9.txt").unlink(),
    "extra_result_file": lambda p: shutil.copy(p / KRAI_RESULTS / "result_0.txt", p / KRAI_RESULTS / "result_10.txt"),
    "duplicated_run": lambda p: shutil.copy(p / KRAI_RESULTS / "result_0.txt", p / KRAI_RESULTS / "result_1.txt"),
    "bad_system_status": lambda p: _edit_system(p, lambda d: d.update(status="Coming soon")),
    "missing_system_field": lambda p: _edit_system(p, lambda d: d.pop("cooling")),
    "system_field_not_text": lambda p: _edit_system(p, lambda d: d.update(framework=7)),
    "missing_division": lambda p: _edit_system(p, lambda d: d.pop("division")),
    "open_division": lambda p: _edit_system(p, lambda d: d.update(division="open")),
    "one_noncompliant_run": lambda p: _break_run(p / KRAI_RESULTS / "result_3.txt"),
    "two_noncompliant_runs": lambda p: (
        _break_run(p / KRAI_RESULTS / "result_3.txt"),
        _break_run(p / KRAI_RESULTS / "result_4.txt"),
    ),
    "misnamed_file": lambda p: (p / KRAI_RESULTS / "result_5.txt").rename(p / KRAI_RESULTS / "result5.txt"),
    "extra_unknown_file": lambda p: (p / KRAI_RESULTS / "notes.md").write_text("hello"),
    "missing_system_description": lambda p: (p / KRAI_SYSTEM).unlink(),
    "system_description_not_json": lambda p: (p / KRAI_SYSTEM).write_text("{not json"),
    "benchmark_not_allowed": lambda p: shutil.copytree(
        p / KRAI_RESULTS, p / KRAI_RESULTS.replace("llama2_70b_lora", "bert")
    ),
    "no_results_folder": lambda p: shutil.rmtree(p / "results"),
    "line_without_metadata": lambda p: (p / KRAI_RESULTS / "result_2.txt").write_bytes(
        mutate(p / KRAI_RESULTS / "result_2.txt", "no_metadata") or b""
    ),
    "rcp_bypass_params": lambda p: (p / KRAI_RESULTS / "package_checker_params").write_text("rcp-bypass"),
    "slow_convergence": lambda p: [
        (f).write_bytes(
            re.sub(
                rb'("samples_count": )(\d+)', lambda m: m.group(1) + str(int(m.group(2)) * 3).encode(), f.read_bytes()
            )
        )
        for f in (p / KRAI_RESULTS).glob("result_*.txt")
    ],
    "fast_convergence": lambda p: [
        (f).write_bytes(
            re.sub(
                rb'("samples_count": )(\d+)', lambda m: m.group(1) + str(int(m.group(2)) // 3).encode(), f.read_bytes()
            )
        )
        for f in (p / KRAI_RESULTS).glob("result_*.txt")
    ],
}


@pytest.mark.parametrize("kind", sorted(PACKAGE_MUTATIONS))
def test_package_mutations_agree_with_official(package_copy: Callable[[str], Path], kind: str) -> None:
    pkg = package_copy("Krai")
    PACKAGE_MUTATIONS[kind](pkg)
    report = check_package(pkg, *RULES)  # first: the official checker then writes into the copy
    official = official_package(pkg, *RULES, in_place=True)
    assert_agrees(report.verdict, report.official_crash, official, (kind, report.findings))
    expected = {
        "unchanged": "pass",
        "one_noncompliant_run": "pass",
        "misnamed_file": "fail",
        "missing_system_description": "crash",
        "benchmark_not_allowed": "pass",
        "two_noncompliant_runs": "fail",
        "duplicated_run": "fail",
    }
    if kind in expected:
        assert official.verdict == expected[kind]


def test_symlinks_outside_the_package_are_not_followed(package_copy: Callable[[str], Path], tmp_path: Path) -> None:
    pkg = package_copy("Krai")
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret\n")
    target = pkg / KRAI_RESULTS / "result_4.txt"
    target.unlink()
    os.symlink(secret, target)
    report = check_package(pkg, *RULES)
    assert report.verdict == "fail"
    assert "package.symlink_outside" in {f.check for f in report.findings}
    assert "top secret" not in json.dumps(report.to_dict())


def test_symlinks_inside_the_package_are_followed(package_copy: Callable[[str], Path]) -> None:
    pkg = package_copy("Krai")
    folder = pkg / KRAI_RESULTS
    data = (folder / "result_4.txt").read_bytes()
    (pkg / "store").mkdir()
    (pkg / "store" / "run4.txt").write_bytes(data)
    (folder / "result_4.txt").unlink()
    os.symlink(pkg / "store" / "run4.txt", folder / "result_4.txt")
    report = check_package(pkg, *RULES)
    official = official_package(pkg, *RULES)
    assert report.verdict == official.verdict == "pass"
