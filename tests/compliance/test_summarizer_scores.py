"""The engine's scores against the official result summarizer (``mlperf_logging.result_summarizer``,
pinned): every score in minutes, and the system name, accelerator and accelerator count the
summarizer prints beside it.

On the real rounds (``realdata``) the summarizer runs as its command on a scratch copy of the whole
round and its CSV is read back; on packages the tests write, ``summarize_results`` runs in process
on a scratch copy (``oracle.official_summary``). Each generated case is one of the reasons the two
used to differ, or a case where the summarizer gives no row or crashes.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from submissions.compliance import Check, PackageReport, check_package
from submissions.compliance.oracle import SummaryRow, official_package, official_summary, summary_rows
from tests.compliance.conftest import SHARED
from tests.compliance.logs import SYSTEM_DESC, mllog, write_package

RESULTS = "results/acme8/llama2_70b_lora"
Key = tuple[str, str, str]  # submitter (as the system description says), system, benchmark


def summarizer_command(round_dir: Path, ruleset: str, tmp: Path) -> list[SummaryRow]:
    """``python -m mlperf_logging.result_summarizer '<copy>/{*}' training RULESET --csv out.csv``
    on a copy of the round (it writes scaling.json and its own files)."""
    copy = tmp / round_dir.name
    shutil.copytree(round_dir, copy)
    out = tmp / "summary.csv"
    done = subprocess.run(
        [sys.executable, "-m", "mlperf_logging.result_summarizer", f"{copy}/{{*}}", "training", ruleset, "--csv", out],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out, newline="") as f:
        return summary_rows(list(csv.DictReader(f)), "training", ruleset)


def summarizer_scores(rows: list[SummaryRow]) -> dict[Key, tuple[float, str, str, int]]:
    return {
        (r.submitter, r.system, b): (minutes, r.system_name, r.accelerator, r.accelerator_count)
        for r in rows
        for b, minutes in r.scores.items()
    }


def engine_scores(package: Path, report: PackageReport) -> dict[Key, tuple[float, str, str, int]]:
    out = {}
    for s in report.scores:
        if s.scaling != "strong":
            continue
        submitter = json.loads((package / "systems" / f"{s.system}.json").read_text())["submitter"]
        out[(submitter, s.system, s.benchmark)] = (s.minutes, s.system_name, s.accelerator, s.accelerator_count)
    return out


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("round_name", "ruleset"), [("training_results_v5.1", "5.1.0"), ("training_results_v5.0", "5.0.0")]
)
def test_every_real_score_and_system_column_equals_the_summarizers(
    round_name: str, ruleset: str, tmp_path: Path
) -> None:
    round_dir = SHARED / round_name
    if not round_dir.is_dir():
        pytest.skip(f"no real data at {round_dir} (see ../shared/mlperf/README.md)")
    official = summarizer_scores(summarizer_command(round_dir, ruleset, tmp_path))
    mine: dict[Key, tuple[float, str, str, int]] = {}
    packages = sorted(p for p in round_dir.iterdir() if p.is_dir())
    for package in packages:
        mine.update(engine_scores(package, check_package(package, "training", ruleset)))
    assert official, "the summarizer printed no score"
    assert {k[0].lower() for k in official} == {p.name.lower() for p in packages}  # every submitter scores
    assert mine.keys() == official.keys()
    for key, value in official.items():
        assert mine[key] == value, key  # exactly: minutes, system name, accelerator, count


def assert_same_as_summarizer(pkg: Path, usage: str = "training", ruleset: str = "5.1.0") -> PackageReport:
    report = check_package(pkg, usage, ruleset)
    assert engine_scores(pkg, report) == summarizer_scores(official_summary(pkg, usage, ruleset))
    return report


@pytest.mark.parametrize(
    ("usage", "ruleset", "benchmark"),
    [
        ("training", "5.1.0", "llama2_70b_lora"),
        ("training", "4.0.0", "llama2_70b_lora"),
        ("hpc", "3.0.0", "cosmoflow"),
    ],
)
def test_rcp_scaling_is_not_applied_to_a_package_as_submitted(
    usage: str, ruleset: str, benchmark: str, tmp_path: Path
) -> None:
    """The summarizer reads scaling.json before its RCP step writes one: on the package as
    submitted the RCP factor is not applied; only a second run over the same folder applies it."""
    kwargs = {"epochs": (17, 18)} if usage == "hpc" else {}
    pkg = write_package(tmp_path / "Acme", usage=usage, ruleset=ruleset, benchmark=benchmark, **kwargs)
    report = assert_same_as_summarizer(pkg, usage, ruleset)
    [score] = report.scores
    assert score.minutes > 0
    if (usage, ruleset) == ("training", "5.1.0"):  # where the RCP factor differs from 1 (1.0347)
        # the official package checker, run in place first, writes the factor into scaling.json;
        # the summarizer then applies it
        checked = tmp_path / "checked" / "Acme"
        shutil.copytree(pkg, checked)
        official_package(checked, usage, ruleset, in_place=True)
        assert (checked / RESULTS / "scaling.json").is_file()
        rescored = summarizer_scores(official_summary(checked, usage, ruleset))
        assert rescored[("Acme", "acme8", benchmark)][0] > score.minutes * 1.01


def test_a_shipped_scaling_json_is_applied(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "Acme")
    unscaled = check_package(pkg).scores[0].minutes
    (pkg / RESULTS / "scaling.json").write_text(json.dumps({"scaling_factor": 1.25}))
    report = assert_same_as_summarizer(pkg)
    assert report.scores[0].minutes == pytest.approx(unscaled * 1.25, rel=1e-12)


@pytest.mark.parametrize("content", ["{not json", '{"factor": 2}', '{"scaling_factor": "2"}'])
def test_a_broken_scaling_json_gives_no_score(content: str, tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "Acme")
    (pkg / RESULTS / "scaling.json").write_text(content)
    with pytest.raises(Exception):  # the summarizer crashes (TypeError, KeyError)
        official_summary(pkg)
    report = check_package(pkg)
    assert report.scores == []
    [advisory] = [f for f in report.findings if f.check == Check.ADVISORY_NO_SCORE]
    assert "scaling.json" in advisory.message and "crashes" in advisory.message


def test_olympic_mean_drops_a_non_compliant_run_as_the_slowest(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "Acme")
    log = pkg / RESULTS / "result_3.txt"
    log.write_text(log.read_text().replace('"submission_division"', '"submission_divisio"'))
    report = assert_same_as_summarizer(pkg)
    assert not report.files[3].passed and len(report.scores) == 1


def test_run_start_and_stop_as_the_summarizer_finds_them(tmp_path: Path) -> None:
    """The summarizer takes the run_start and run_stop its loop has seen when it first has both:
    a second run_start before run_stop replaces the first; a later pair is ignored."""
    pkg = write_package(tmp_path / "Acme")
    for i, extra in enumerate(
        [
            (mllog("run_start", time_ms=1_600_000_300_000), None),  # a second run_start, later
            (None, mllog("run_stop", time_ms=1_700_000_000_000, metadata={"status": "success"})),  # a late stop
        ]
    ):
        log = pkg / RESULTS / f"result_{i}.txt"
        lines = log.read_text().splitlines()
        start = next(n for n, line in enumerate(lines) if '"run_start"' in line)
        if extra[0]:
            lines.insert(start + 1, extra[0])
        if extra[1]:
            lines.append(extra[1])
        log.write_text("\n".join(lines) + "\n")
    assert_same_as_summarizer(pkg)


def test_system_columns_are_the_summarizers(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "Acme")
    desc = {**SYSTEM_DESC, "submitter": "Acme", "system_name": "tpu-v3", "accelerator_model_name": "tpu-v3"}
    desc.update(number_of_nodes="2", accelerators_per_node="4")
    (pkg / "systems" / "acme8.json").write_text(json.dumps(desc))
    [score] = assert_same_as_summarizer(pkg).scores
    assert (score.system_name, score.accelerator, score.accelerator_count) == ("TPUv3.8", "TPUv3", 8)


def test_a_system_description_the_summarizer_crashes_on_gives_no_score(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "Acme")
    desc = {k: v for k, v in SYSTEM_DESC.items() if k != "hw_notes"}
    (pkg / "systems" / "acme8.json").write_text(json.dumps({**desc, "submitter": "Acme"}))
    with pytest.raises(NameError):  # its FieldError handler prints an undefined name
        official_summary(pkg)
    report = check_package(pkg)
    assert report.scores == []
    [advisory] = [f for f in report.findings if f.check == Check.ADVISORY_NO_SCORE]
    assert "'hw_notes'" in advisory.message and "crashes" in advisory.message


def test_a_count_the_summarizer_cannot_read_gives_no_score(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "Acme")
    (pkg / "systems" / "acme8.json").write_text(
        json.dumps({**SYSTEM_DESC, "submitter": "Acme", "accelerators_per_node": "eight"})
    )
    with pytest.raises(ValueError):
        official_summary(pkg)
    report = check_package(pkg)
    assert report.scores == []
    assert any(f.check == Check.ADVISORY_NO_SCORE and "crashes" in f.message for f in report.findings)
