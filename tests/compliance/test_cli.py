"""The command: exit status, one-line usage errors, the JSON document."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from submissions.compliance.__main__ import main
from tests.compliance.logs import training_log, write_package

PROJECT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return training_log("6.1.0", "llama31_8b").write(tmp_path / "good.txt")


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    return training_log("6.1.0", "llama31_8b", accuracy=9.9).write(tmp_path / "bad.txt")


def test_exit_status_is_0_when_everything_passes(capsys: pytest.CaptureFixture[str], good: Path) -> None:
    code, out, _ = run(capsys, "--ruleset", "6.1.0", str(good))
    assert code == 0
    assert "PASS" in out


def test_exit_status_is_1_when_anything_fails(capsys: pytest.CaptureFixture[str], good: Path, bad: Path) -> None:
    code, out, _ = run(capsys, "--ruleset", "6.1.0", str(good), str(bad))
    assert code == 1
    assert "FAIL" in out and "rule.at_least_one_check" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ruleset", "9.9.9", "x.txt"], "unknown ruleset '9.9.9'"),
        (["--ruleset", "5.1.0", "--usage", "automotive", "x.txt"], "unknown usage 'automotive'"),
        (["--ruleset", "5.1.0", "/no/such/file.txt"], "no such file or folder"),
        (["x.txt"], "required"),
        (["--ruleset", "5.1.0", "--format", "xml", "x.txt"], "invalid choice"),
        (["--ruleset", "5.1.0", "--jobs", "0", "x.txt"], "--jobs"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert message in err


def test_a_folder_that_is_not_a_package_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "--ruleset", "5.1.0", str(tmp_path))
    assert code == 2 and "not a package" in err


def test_json_document(capsys: pytest.CaptureFixture[str], tmp_path: Path, good: Path, bad: Path) -> None:
    pkg = write_package(tmp_path / "Acme")
    code, out, _ = run(capsys, "--ruleset", "6.1.0", "--format", "json", str(good), str(bad))
    doc = json.loads(out)
    assert code == 1
    assert set(doc) == {"usage", "ruleset", "engine", "rules", "packages", "files"}
    assert (doc["usage"], doc["ruleset"]) == ("training", "6.1.0")
    assert doc["engine"].startswith("consortium-compliance ")
    assert doc["rules"] == "mlperf-logging 4.1.68"
    assert [f["path"] for f in doc["files"]] == [str(good), str(bad)]
    assert [f["verdict"] for f in doc["files"]] == ["pass", "fail"]
    finding = doc["files"][1]["findings"][0]
    assert set(finding) == {"severity", "check", "key", "line", "message"}
    assert finding["severity"] == "error" and isinstance(finding["line"], int)

    code, out, _ = run(capsys, "--ruleset", "5.1.0", "--format", "json", "--jobs", "2", str(pkg))
    doc = json.loads(out)
    assert code == 0
    [package] = doc["packages"]
    assert set(package) == {"path", "submitter", "verdict", "findings", "files", "scores"}
    assert package["submitter"] == "Acme" and package["verdict"] == "pass"
    assert package["files"][0]["path"] == "results/acme8/llama2_70b_lora/result_0.txt"
    assert set(package["files"][0]) == {"path", "verdict", "findings"}
    [score] = package["scores"]
    assert set(score) == {"system", "benchmark", "minutes", "system_name", "accelerator", "accelerator_count"}
    assert score["minutes"] > 0 and score["accelerator_count"] == 8


def test_runs_as_a_module(good: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "submissions.compliance", "--ruleset", "6.1.0", "--format", "json", str(good)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"][0]["verdict"] == "pass"
