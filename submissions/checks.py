"""What each check kind does to an unpacked package. No Django: paths in, findings out.

The compliance engine (submissions/compliance) checks the whole package at once; each check kind keeps
its own slice of the findings so that the page shows them per check. The official verifier runs the
pinned mlperf-logging package checker as a separate process on a scratch copy, with a time limit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from submissions.compliance.findings import PackageReport
from submissions.compliance.package import check_package

Progress = Callable[[int, int], None]
SYSTEM_CHECKS = ("system.", "package.system_description_missing")


@dataclass
class CheckOutcome:
    state: str  # passed | failed | errored
    findings: list[dict] = field(default_factory=list)
    message: str = ""
    scores: list[dict] = field(default_factory=list)
    verdict: str = ""  # the engine's or the official verdict, where the kind has one


def _finding(d: dict, path: str = "") -> dict:
    return {**d, "path": path}


def _state(findings: list[dict]) -> str:
    return "failed" if any(f["severity"] == "error" for f in findings) else "passed"


def engine_report(root: Path, usage: str, ruleset: str, progress: Progress | None = None) -> PackageReport:
    return check_package(root, usage, ruleset, progress=progress)


def systems_check(root: Path, usage: str | None, ruleset: str | None) -> CheckOutcome:
    if not usage or not ruleset:
        return generic_systems_check(root)
    report = engine_report(root, usage, ruleset)
    findings = [_finding(f.to_dict(), "systems/") for f in report.findings if f.check.startswith(SYSTEM_CHECKS)]
    return CheckOutcome(_state(findings), findings)


def generic_systems_check(root: Path) -> CheckOutcome:
    """For suites with no ruleset: every system description must be a JSON object."""
    findings: list[dict] = []
    systems = root / "systems"
    files = sorted(systems.glob("*.json")) if systems.is_dir() else []
    if not files:
        findings.append(
            {
                "severity": "error",
                "check": "generic.no_systems",
                "key": None,
                "line": None,
                "path": "systems/",
                "message": "The package has no systems/<system>.json description.",
            }
        )
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (ValueError, UnicodeDecodeError) as exc:
            findings.append(
                {
                    "severity": "error",
                    "check": "generic.system_json",
                    "key": None,
                    "line": None,
                    "path": f"systems/{f.name}",
                    "message": f"Not a valid JSON object: {exc}",
                }
            )
    findings.append(
        {
            "severity": "advisory",
            "check": "generic.no_ruleset",
            "key": None,
            "line": None,
            "path": "",
            "message": "This round's suite has no mlperf-logging ruleset: only the generic checks ran.",
        }
    )
    return CheckOutcome(_state(findings), findings)


def results_check(root: Path, usage: str, ruleset: str, progress: Progress | None = None) -> CheckOutcome:
    report = engine_report(root, usage, ruleset, progress)
    findings = [_finding(f.to_dict(), fr.path) for fr in report.files for f in fr.findings]
    failing = sum(1 for fr in report.files if not fr.passed)
    message = f"{len(report.files)} result files checked"
    if failing:
        message += f"; {failing} do not comply (the package rules decide whether olympic scoring accepts them)"
    return CheckOutcome(_state(findings), findings, message=message)


def package_rules_check(root: Path, usage: str, ruleset: str) -> CheckOutcome:
    report = engine_report(root, usage, ruleset)
    findings = [_finding(f.to_dict()) for f in report.findings if not f.check.startswith(SYSTEM_CHECKS)]
    # The package verdict is the engine's verdict on the whole package (files and systems included).
    outcome = CheckOutcome(_state(findings), findings, verdict=report.verdict)
    if report.verdict == "fail" and outcome.state == "passed":
        outcome.state = "failed"
        outcome.message = "The package fails through its system descriptions or result files."
    return outcome


def scores_check(root: Path, usage: str, ruleset: str) -> CheckOutcome:
    report = engine_report(root, usage, ruleset)
    scores = [s.to_dict() for s in report.scores]
    return CheckOutcome("passed", [], message=f"{len(scores)} scores", scores=scores)


def official_check(
    root: Path, usage: str, ruleset: str, *, timeout: float, tick: Callable[[], None] | None = None
) -> CheckOutcome:
    """The pinned official package checker, on a scratch copy (it writes into what it checks).

    `tick` is called about once a second while it runs (the run's heartbeat); when it raises (the
    check was cancelled), the checker process is killed and the exception goes on."""
    with tempfile.TemporaryDirectory(prefix="official-") as tmp:
        copy = Path(tmp) / root.name
        shutil.copytree(root, copy, symlinks=True)
        _make_writable(copy)  # the official checker writes scaling.json into the folders it checks
        log = Path(tmp) / "package_checker.log"
        cmd = [sys.executable, "-m", "mlperf_logging.package_checker", str(copy), usage, ruleset,
               "--log_output", str(log)]  # fmt: skip
        stderr_path = Path(tmp) / "stderr.txt"
        with stderr_path.open("w") as err:
            proc = subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.DEVNULL, stderr=err,
                                    env={**os.environ, "PYTHONWARNINGS": "ignore"})  # fmt: skip
            deadline = time.monotonic() + timeout
            try:
                while True:
                    try:
                        proc.wait(timeout=1)
                        break
                    except subprocess.TimeoutExpired:
                        if time.monotonic() > deadline:
                            proc.kill()
                            proc.wait()
                            message = f"The official checker did not finish within {timeout:.0f} s."
                            return CheckOutcome("errored", message=message, verdict="timeout")
                        if tick is not None:
                            tick()
            except BaseException:
                proc.kill()
                proc.wait()
                raise
        stderr = stderr_path.read_text(errors="replace")
        text = log.read_text(errors="replace") if log.exists() else ""
        scratch = str(copy)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    # The verdict is the last "PACKAGE CHECKER FOUND …" line (a separator line follows it).
    last = next((ln for ln in reversed(lines) if "PACKAGE CHECKER FOUND" in ln), "")
    errors = [ln for ln in lines if ln.startswith(("ERROR", "CRITICAL"))]
    findings = [{"severity": "error", "check": "official.log", "key": None, "line": None,
                 **official_words(ln.split(" - ", 1)[-1][:2000], scratch)} for ln in errors[:200]]  # fmt: skip
    if "FOUND NO ERRORS" in last:
        return CheckOutcome("passed", findings, message="The official package checker found no errors.",
                            verdict="pass")  # fmt: skip
    if "FOUND ERRORS" in last:
        return CheckOutcome("failed", findings, message="The official package checker found errors.", verdict="fail")
    tail = (stderr or text).strip().splitlines()[-1:] or ["no output"]
    words = official_words(tail[0][:500], scratch)
    if not words["path"]:
        words["message"] = f"The official package checker crashed (exit {proc.returncode}): {words['message']}"
    findings.append({"severity": "error", "check": "official.crash", "key": None, "line": None, **words})
    return CheckOutcome("failed", findings, message="The official package checker crashed on this package.",
                        verdict="crash")  # fmt: skip


_MISSING_FILE = re.compile(r"(?:FileNotFoundError|IOError|OSError): \[Errno 2\] No such file or directory: '([^']+)'")
_PY_LIST = re.compile(r"\[('(?:[^'\\]|\\.)*'(?:, '(?:[^'\\]|\\.)*')*)\]")


def official_words(message: str, scratch: str) -> dict[str, str]:
    """The official tool's message in the package's own words: paths inside the package instead of
    the scratch copy's temporary ones, a missing file said plainly (and named as the finding's
    path), Python lists as plain lists. Returns {"message", "path"}."""
    path = ""
    missing = _MISSING_FILE.search(message)
    if missing:
        name = missing.group(1)
        if name.startswith(scratch + "/"):
            path = name[len(scratch) + 1 :]
            what = "The system description" if path.startswith("systems/") else "The file"
            hint = (
                " Every system in results/ needs its description in systems/<system>.json."
                if path.startswith("systems/")
                else ""
            )
            message = f"{what} {path} is missing, so the official package checker stopped here.{hint}"
        else:
            message = f"The official package checker could not open {os.path.basename(name)}."
    message = message.replace(scratch + "/", "").replace(scratch, "the package")
    message = _PY_LIST.sub(lambda m: "; ".join(part.strip("'") for part in m.group(1).split("', '")), message)
    message = re.sub(r"\s+:", ":", re.sub(r"[ \t]{2,}", " ", message)).strip()
    fields = re.fullmatch(r"System description checker failed for ?(.*?): ((?:Missing field [^;]+(?:; )?)+)", message)
    if fields:
        names = [part.strip().removeprefix("Missing field ") for part in fields.group(2).split(";")]
        which = f"{fields.group(1)} " if fields.group(1) else ""
        message = f"A system description {which}lacks required fields: {', '.join(n for n in names if n)}."
    return {"message": message, "path": path}


def _make_writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)


def excerpt(root: Path, rel_path: str, line: int | None, limit: int = 300) -> str:
    """The offending line of a result file, shortened; empty when there is none."""
    if not rel_path or not line:
        return ""
    path = (root / rel_path).resolve()
    if root.resolve() not in path.parents or not path.is_file():
        return ""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if number == line:
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                return text if len(text) <= limit else text[:limit] + "…"
    return ""
