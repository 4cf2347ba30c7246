"""``python -m submissions.compliance --usage inference``: the JSON contract, exit status and
usage errors; the training and HPC output is untouched (tests/compliance/test_cli.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from submissions.compliance.__main__ import main
from tests.compliance.inference.builder import Submission

PROJECT = Path(__file__).resolve().parents[3]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def sub(tmp_path: Path) -> Submission:
    s = Submission(tmp_path)
    s.result("whisper", "Offline", perf={"result_tokens_per_second": 43164.3})
    s.result("rgat", "Offline", perf={"result_validity": "INVALID"})
    return s


def test_json_for_a_division_folder(capsys: pytest.CaptureFixture[str], sub: Submission) -> None:
    code, out, _ = run(capsys, "--usage", "inference", "--ruleset", "5.1", "--format", "json", str(sub.division_dir))
    doc = json.loads(out)
    assert code == 1
    assert (doc["usage"], doc["ruleset"]) == ("inference", "5.1")
    results = {r["path"]: r for r in doc["results"]}
    ok = results["closed/Acme/results/sys8/whisper/Offline"]
    assert (ok["verdict"], ok["score"], ok["units"]) == ("pass", 43164.3, "Samples/s")
    bad = results["closed/Acme/results/sys8/rgat/Offline"]
    assert (bad["verdict"], bad["score"], bad["units"]) == ("fail", None, None)
    f = next(f for f in bad["findings"] if f["check"] == "inference.performance.validity")
    assert f["file"] == "closed/Acme/results/sys8/rgat/Offline/performance/run_1/mlperf_log_detail.txt"
    assert isinstance(f["line"], int) and f["severity"] == "error"
    assert [(p["path"], p["submitter"], p["verdict"]) for p in doc["packages"]] == [("closed/Acme", "Acme", "fail")]


def test_a_submitter_folder_takes_its_division_from_the_folder_above(
    capsys: pytest.CaptureFixture[str], sub: Submission
) -> None:
    _, out, _ = run(capsys, "--usage", "inference", "--ruleset", "5.1", "--format", "json", str(sub.root))
    assert {r["path"] for r in json.loads(out)["results"]} == {
        "closed/Acme/results/sys8/whisper/Offline",
        "closed/Acme/results/sys8/rgat/Offline",
    }


def test_division_option_for_a_submitter_folder_elsewhere(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    s = Submission(tmp_path, division="upload")  # an upload folder, not named after its division
    s.division = "closed"
    s.result("whisper", "Offline")
    # the package was written under closed/, move it to upload/Acme
    (tmp_path / "upload").mkdir()
    (tmp_path / "closed" / "Acme").rename(tmp_path / "upload" / "Acme")
    args = ["--usage", "inference", "--ruleset", "5.1", "--format", "json"]
    code, _, err = run(capsys, *args, str(tmp_path / "upload" / "Acme"))
    assert code == 2 and "--division" in err
    code, out, _ = run(capsys, *args, "--division", "closed", str(tmp_path / "upload" / "Acme"))
    doc = json.loads(out)
    assert code == 0 and doc["results"][0]["verdict"] == "pass" and doc["packages"][0]["verdict"] == "pass"


def test_exit_0_when_everything_passes_and_text_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    s = Submission(tmp_path)
    s.result("whisper", "Offline", score=41927.4)
    code, out, _ = run(capsys, "--usage", "inference", "--ruleset", "5.1", str(s.division_dir))
    assert code == 0
    assert "PASS  closed/Acme/results/sys8/whisper/Offline  41927.4 Samples/s" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ruleset", "9.9"], "unknown ruleset"),
        (["--ruleset", "5.1", "--division", "secret"], "unknown division"),
        (["--ruleset", "5.1", "/no/such/folder"], "no such folder"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], sub: Submission, args: list[str], message: str
) -> None:
    if args[-1] != "/no/such/folder":
        args = [*args, str(sub.division_dir)]
    code, out, err = run(capsys, "--usage", "inference", *args)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_the_whole_process(sub: Submission) -> None:
    command = [sys.executable, "-m", "submissions.compliance", "--usage", "inference", "--ruleset", "5.1"]
    proc = subprocess.run(
        [*command, "--format", "json", str(sub.division_dir)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert len(json.loads(proc.stdout)["results"]) == 2


def test_the_output_names_the_inference_checkers_rules_not_mlperf_logging(
    capsys: pytest.CaptureFixture[str], sub: Submission
) -> None:
    _, out, _ = run(capsys, "--usage", "inference", "--ruleset", "5.1", "--format", "json", str(sub.division_dir))
    rules = json.loads(out)["rules"]
    assert rules.startswith("MLPerf Inference submission checker rules 5.1 (sha256 ") and "mlperf-logging" not in rules
    _, text, _ = run(capsys, "--usage", "inference", "--ruleset", "5.1", str(sub.division_dir))
    first = text.splitlines()[0]
    assert "MLPerf Inference submission checker rules 5.1" in first and "mlperf-logging" not in first
