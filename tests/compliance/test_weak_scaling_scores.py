"""HPC weak-scaling scores (``results/<system>/weak/<benchmark>/``) on packages written by the
tests, compared with the official result summarizer's ``_compute_weak_score_standalone`` run in
process on a scratch copy (``oracle.official_package(..., scores=True)``). No real data needed.

The summarizer's weak-scaling metrics: ``time_to_train_all`` (minutes from the earliest
``run_start`` to the latest ``run_stop`` of the converging runs), ``number_of_models`` (the
converging runs) and ``instance_scale`` (``number_of_nodes * max(accelerators_per_node, 1)``);
no score with fewer converging runs than the benchmark's result file count.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from submissions.compliance import Check, PackageReport, check_package
from submissions.compliance.__main__ import main
from submissions.compliance.oracle import OfficialResult, official_package, official_weak_scores
from tests.compliance.logs import HYPER, SYSTEM_DESC, T0, mllog, training_log

RULESETS = ["1.0.0", "2.0.0", "3.0.0"]
COSMOFLOW = HYPER[("hpc", "3.0.0", "cosmoflow")]  # 4 nodes x 8 accelerators; the same closed rules in 1.0-3.0
DEEPCAM_OPEN = {"number_of_nodes": 2, "accelerators_per_node": 4, "train_samples": 121266, "eval_samples": 15158}
WEAK = "results/acme8/weak"


def write_weak(
    root: Path,
    ruleset: str,
    *,
    benchmark: str = "cosmoflow",
    division: str = "closed",
    runs: int = 10,
    scaling: str = "weak",
    per_run: dict[int, dict[str, Any]] | None = None,
    **log_args: Any,
) -> Path:
    """A package with ``runs`` runs of one benchmark under ``results/acme8/<scaling>/``. Weak
    scaling runs overlap: run i starts 7 s * (i * 37 % 11) after the others and lasts 1 min + i s
    per step; ``per_run`` gives some runs their own log arguments."""
    (root / "systems").mkdir(parents=True, exist_ok=True)
    desc = {**SYSTEM_DESC, "division": division, "submitter": root.name}
    (root / "systems" / "acme8.json").write_text(json.dumps(desc, indent=1))
    if benchmark == "cosmoflow":
        defaults: dict[str, Any] = {"hyper": COSMOFLOW, "epochs": (17, 18)}
    else:  # deepcam, open division: its accuracy metric, no closed hyperparameters
        defaults = {"hyper": DEEPCAM_OPEN, "eval_key": "eval_accuracy", "accuracy": 0.83}
    for i in range(runs):
        args = {
            "seed": 1000 + i,
            "step_ms": 60_000 + 1_000 * i,
            "start_ms": T0 + 7_000 * (i * 37 % 11),
            **defaults,
            **log_args,
            **(per_run or {}).get(i, {}),
        }
        log = training_log(ruleset, benchmark, usage="hpc", division=division, org=root.name, **args)
        log.write(root / "results" / "acme8" / scaling / benchmark / f"result_{i}.txt")
    return root


Weak = tuple[float, int, int | None]


def weak_scores(report: PackageReport) -> dict[tuple[str, str], Weak]:
    return {
        (s.system, s.benchmark): (s.minutes, s.number_of_models, s.instance_scale)  # type: ignore[misc]
        for s in report.scores
        if s.scaling == "weak"
    }


def both(pkg: Path, ruleset: str) -> tuple[PackageReport, OfficialResult]:
    """The engine and the official tools on the same package: the same verdict, the same strong
    and weak-scaling scores (exactly: the same arithmetic on the same timestamps)."""
    report = check_package(pkg, "hpc", ruleset)
    official = official_package(pkg, "hpc", ruleset, scores=True)
    if official.verdict == "crash":
        assert report.verdict == "fail" and report.official_crash, (official, report.findings)
    else:
        assert report.verdict == official.verdict, (official, report.findings)
    strong = {(s.system, s.benchmark): s.minutes for s in report.scores if s.scaling == "strong"}
    assert strong == official.scores
    theirs = {k: (v.time_to_train_all, v.number_of_models, v.instance_scale) for k, v in official.weak_scores.items()}
    assert weak_scores(report) == theirs, (official.weak_crashes, report.findings)
    no_score = [f for f in report.findings if f.check == Check.ADVISORY_NO_WEAK_SCORE]
    assert len(no_score) == (1 if not theirs else 0)
    return report, official


def span_minutes(pkg: Path, runs: list[int], benchmark: str = "cosmoflow") -> float:
    """The expected time to train all, read from the logs the test wrote."""
    starts, stops = [], []
    for i in runs:
        for line in (pkg / WEAK / benchmark / f"result_{i}.txt").read_text().splitlines():
            record = json.loads(line.split(":::MLLOG ", 1)[1])
            if record["key"] == "run_start":
                starts.append(record["time_ms"])
            elif record["key"] == "run_stop":
                stops.append(record["time_ms"])
    return (max(stops) - min(starts)) / 60 / 1000


@pytest.mark.parametrize("ruleset", RULESETS)
def test_compliant_weak_scaling_package_has_the_official_score(tmp_path: Path, ruleset: str) -> None:
    pkg = write_weak(tmp_path / "Acme", ruleset)
    report, official = both(pkg, ruleset)
    assert official.verdict == "pass" and official.scores == {}
    [score] = report.scores
    assert score.scaling == "weak" and (score.system, score.benchmark) == ("acme8", "cosmoflow")
    assert score.number_of_models == 10 and score.instance_scale == 4 * 8
    assert score.minutes == span_minutes(pkg, list(range(10)))
    assert score.to_dict() == {
        "system": "acme8",
        "benchmark": "cosmoflow",
        "minutes": score.minutes,
        "scaling": "weak",
        "number_of_models": 10,
        "instance_scale": 32,
        "system_name": "acme8",
        "accelerator": "Acme X",
        "accelerator_count": 8,
    }


@pytest.mark.parametrize("ruleset", ["2.0.0", "3.0.0"])
def test_every_converging_run_counts_beyond_the_required_number(tmp_path: Path, ruleset: str) -> None:
    pkg = write_weak(tmp_path / "Acme", ruleset, runs=13)
    report, _ = both(pkg, ruleset)
    [score] = report.scores
    assert score.number_of_models == 13 and score.minutes == span_minutes(pkg, list(range(13)))


@pytest.mark.parametrize("ruleset", ["2.0.0", "3.0.0"])
def test_a_run_that_does_not_converge_is_not_counted(tmp_path: Path, ruleset: str) -> None:
    # run 10 starts first and ends last: the time to train all does not include it
    pkg = write_weak(tmp_path / "Acme", ruleset, runs=11, per_run={10: {"accuracy": 0.5, "step_ms": 200_000}})
    report, official = both(pkg, ruleset)
    assert official.verdict == "pass"  # one non-compliant run is accepted
    [score] = report.scores
    assert score.number_of_models == 10 and score.minutes == span_minutes(pkg, list(range(10)))
    assert score.minutes < span_minutes(pkg, list(range(11)))


@pytest.mark.parametrize("ruleset", RULESETS)
def test_too_few_converging_runs_give_no_score(tmp_path: Path, ruleset: str) -> None:
    # ten result files, one does not converge: the package checker accepts it, the summarizer
    # ("Not enough converging weak scaling runs") gives no score
    pkg = write_weak(tmp_path / "Acme", ruleset, per_run={3: {"accuracy": 0.5}})
    report, official = both(pkg, ruleset)
    assert official.verdict == "pass" and official.weak_scores == {} and official.weak_crashes == {}
    assert report.scores == []
    [advisory] = [f for f in report.findings if f.check == Check.ADVISORY_NO_WEAK_SCORE]
    assert advisory.severity == "advisory" and "9 converging run(s)" in advisory.message
    assert advisory.message.startswith("results/acme8/weak/cosmoflow: ")


@pytest.mark.parametrize("ruleset", ["2.0.0", "3.0.0"])
def test_a_failing_package_can_still_have_a_weak_score(tmp_path: Path, ruleset: str) -> None:
    # two runs fail: more than olympic scoring drops (the package fails), but ten converge
    pkg = write_weak(tmp_path / "Acme", ruleset, runs=12, per_run={0: {"accuracy": 0.5}, 5: {"accuracy": 0.5}})
    report, official = both(pkg, ruleset)
    assert official.verdict == "fail" and Check.PACKAGE_NONCOMPLIANT_RUNS in {f.check for f in report.findings}
    [score] = report.scores
    assert score.number_of_models == 10


@pytest.mark.parametrize("ruleset", ["2.0.0", "3.0.0"])
def test_only_runs_that_converge_count_and_two_failures_leave_too_few(tmp_path: Path, ruleset: str) -> None:
    pkg = write_weak(tmp_path / "Acme", ruleset, runs=11, per_run={0: {"accuracy": 0.5}, 5: {"drop": ("run_stop",)}})
    report, official = both(pkg, ruleset)
    assert official.verdict == "fail" and report.scores == []


@pytest.mark.parametrize("ruleset", ["2.0.0", "3.0.0"])
def test_a_run_the_official_checker_crashes_on_gives_no_score(tmp_path: Path, ruleset: str) -> None:
    pkg = write_weak(tmp_path / "Acme", ruleset, runs=12)
    bad = pkg / WEAK / "cosmoflow" / "result_4.txt"
    bad.write_text(bad.read_text() + ':::MLLOG {"time_ms": 1, "key": "x", "value": 1}\n')
    report, official = both(pkg, ruleset)
    assert official.verdict == "crash" and report.scores == []
    # the package checker crashed first; the summarizer alone crashes on it too
    copy = tmp_path / "copy" / "Acme"
    shutil.copytree(pkg, copy)
    scores, crashes = official_weak_scores(str(copy), "hpc", ruleset)
    assert scores == {} and "KeyError" in crashes[("acme8", "cosmoflow")]


def _insert_after(path: Path, key: str, line: str) -> None:
    lines = path.read_text().splitlines()
    at = next(i for i, text in enumerate(lines) if f'"key": "{key}"' in text)
    path.write_text("\n".join([*lines[: at + 1], line, *lines[at + 1 :]]) + "\n")


def _each_run(change: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(pkg: Path) -> None:
        for path in sorted((pkg / WEAK / "deepcam").glob("result_*.txt")):
            change(path)

    return apply


def _rewrite_value(key: str, value: str, runs: tuple[int, ...] | None = None) -> Callable[[Path], None]:
    def apply(pkg: Path) -> None:
        for path in sorted((pkg / WEAK / "deepcam").glob("result_*.txt")):
            if runs is None or int(path.stem.split("_")[1]) in runs:
                text = re.sub(rf'("key": "{key}", "value": )[^,]+,', rf"\g<1>{value},", path.read_text())
                path.write_text(text)

    return apply


def _nothing(pkg: Path) -> None:
    pass


# open division deepcam (five result files; the open rules do not check the scale): how the
# summarizer reads the instance scale, and where it gives up. Expected: (models, scale) or None.
INSTANCE_SCALES: dict[str, tuple[Callable[[Path], None], tuple[int, int | None] | None]] = {
    "plain": (_nothing, (5, 8)),
    "nodes_as_text": (_rewrite_value("number_of_nodes", '"2"'), (5, 8)),
    "nodes_as_float": (_rewrite_value("number_of_nodes", "2.7"), (5, 8)),
    "no_accelerators": (_rewrite_value("accelerators_per_node", "0"), (5, 2)),
    "nodes_not_recorded": (_each_run(lambda p: _drop_key(p, "number_of_nodes")), (5, None)),
    "nodes_not_recorded_in_one_run": (
        lambda pkg: _drop_key(pkg / WEAK / "deepcam" / "result_2.txt", "number_of_nodes"),
        (5, 8),
    ),
    "nodes_null": (_rewrite_value("number_of_nodes", "null"), (5, None)),
    "nodes_not_an_integer_text": (_rewrite_value("number_of_nodes", '"2.5"'), (5, None)),
    "nodes_nan": (_rewrite_value("number_of_nodes", "NaN"), (5, None)),
    "nodes_infinite": (_rewrite_value("number_of_nodes", "Infinity"), None),  # OverflowError: crash
    "nodes_a_list": (_rewrite_value("number_of_nodes", "[2]"), None),  # TypeError: crash
    "different_scales": (_rewrite_value("number_of_nodes", "3", runs=(3,)), None),  # the assert: crash
    "different_scale_not_a_number": (_rewrite_value("number_of_nodes", '"x"', runs=(3,)), (5, 8)),
    "nodes_logged_again_before_accelerators": (
        _each_run(lambda p: _insert_after(p, "number_of_nodes", mllog("number_of_nodes", 3, T0 + 1))),
        (5, 12),
    ),
    "nodes_logged_again_after_accelerators": (
        _each_run(lambda p: _insert_after(p, "accelerators_per_node", mllog("number_of_nodes", 3, T0 + 1))),
        (5, 8),
    ),
    "null_then_value": (
        _each_run(
            lambda p: (
                _insert_after(p, "accelerators_per_node", mllog("number_of_nodes", 6, T0 + 1)),
                _rewrite_value_in(p, "number_of_nodes", "null", count=1),
            )
        ),
        (5, 24),
    ),
}


def _drop_key(path: Path, key: str) -> None:
    lines = [line for line in path.read_text().splitlines() if f'"key": "{key}"' not in line]
    path.write_text("\n".join(lines) + "\n")


def _rewrite_value_in(path: Path, key: str, value: str, count: int = 0) -> None:
    pattern = rf'("key": "{key}", "value": )[^,]+,'
    path.write_text(re.sub(pattern, rf"\g<1>{value},", path.read_text(), count=count))


@pytest.mark.parametrize("ruleset", ["2.0.0", "3.0.0"])
@pytest.mark.parametrize("case", sorted(INSTANCE_SCALES))
def test_instance_scale_as_the_summarizer_reads_it(tmp_path: Path, ruleset: str, case: str) -> None:
    mutate, expected = INSTANCE_SCALES[case]
    pkg = write_weak(tmp_path / "Acme", ruleset, benchmark="deepcam", division="open", runs=5)
    mutate(pkg)
    report, official = both(pkg, ruleset)
    assert official.verdict == "pass"
    if expected is None:
        assert ("acme8", "deepcam") in official.weak_crashes and report.scores == []
        [advisory] = [f for f in report.findings if f.check == Check.ADVISORY_NO_WEAK_SCORE]
        assert "crashes here" in advisory.message
    else:
        [score] = report.scores
        assert (score.number_of_models, score.instance_scale) == expected
        assert score.to_dict()["instance_scale"] == expected[1]


def test_strong_entries_keep_their_shape_beside_weak_ones(tmp_path: Path) -> None:
    pkg = write_weak(tmp_path / "Acme", "3.0.0")
    write_weak(pkg, "3.0.0", scaling="strong")
    report, official = both(pkg, "3.0.0")
    assert official.verdict == "pass"
    dicts = sorted((s.to_dict() for s in report.scores), key=len)
    columns = {"system_name", "accelerator", "accelerator_count"}
    assert [set(d) for d in dicts] == [
        {"system", "benchmark", "minutes"} | columns,
        {"system", "benchmark", "minutes", "scaling", "number_of_models", "instance_scale"} | columns,
    ]
    assert dicts[0]["minutes"] == pytest.approx(official.scores[("acme8", "cosmoflow")], rel=1e-12)


def test_parallel_jobs_give_the_same_weak_scores(tmp_path: Path) -> None:
    pkg = write_weak(tmp_path / "Acme", "3.0.0", runs=11, per_run={2: {"accuracy": 0.5}})
    assert check_package(pkg, "hpc", "3.0.0", jobs=2).to_dict() == check_package(pkg, "hpc", "3.0.0").to_dict()


def test_the_command_reports_weak_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pkg = write_weak(tmp_path / "Acme", "3.0.0")
    assert main(["--usage", "hpc", "--ruleset", "3.0.0", "--format", "json", str(pkg)]) == 0
    [score] = json.loads(capsys.readouterr().out)["packages"][0]["scores"]
    assert score["scaling"] == "weak" and score["number_of_models"] == 10 and score["instance_scale"] == 32
    assert main(["--usage", "hpc", "--ruleset", "3.0.0", str(pkg)]) == 0
    assert "weak-scaling score acme8 cosmoflow: 10 models of scale 32 in " in capsys.readouterr().out
