"""What each check kind does to an unpacked package. No Django: paths in, findings out.

The compliance engine (submissions/compliance) checks the whole package once per version (the result
files check computes the report, services keeps it beside the unpacked package); each engine check
kind is a slice of that one report, so that the page shows the findings per check. The official
verifier runs the pinned mlperf-logging package checker as a separate, sandboxed process on a scratch
copy, with a time limit.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def engine_report(root: Path, usage: str, ruleset: str, progress: Progress | None = None) -> dict:
    """The compliance engine's report on the whole package, in its JSON form (PackageReport.to_dict)."""
    return check_package(root, usage, ruleset, progress=progress).to_dict()


def _is_system_check(check: str) -> bool:
    return check.startswith(SYSTEM_CHECKS)


def systems_check(root: Path, usage: str | None, ruleset: str | None, report: dict | None = None) -> CheckOutcome:
    if not usage or not ruleset:
        return generic_systems_check(root)
    report = report if report is not None else engine_report(root, usage, ruleset)
    findings = [_finding(f, "systems/") for f in report["findings"] if _is_system_check(f["check"])]
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
            "message": (
                "This round names no ruleset (mlperf-logging's for training and HPC, the inference "
                "checker's for inference): only the generic checks ran."
            ),
        }
    )
    return CheckOutcome(_state(findings), findings)


def results_check(report: dict) -> CheckOutcome:
    findings = [_finding(f, fr["path"]) for fr in report["files"] for f in fr["findings"]]
    failing = sum(1 for fr in report["files"] if fr["verdict"] != "pass")
    message = f"{len(report['files'])} result files checked"
    if failing:
        message += f"; {failing} do not comply (the package rules decide whether olympic scoring accepts them)"
    return CheckOutcome(_state(findings), findings, message=message)


def package_rules_check(report: dict) -> CheckOutcome:
    findings = [_finding(f) for f in report["findings"] if not _is_system_check(f["check"])]
    # The package verdict is the engine's verdict on the whole package (files and systems included).
    outcome = CheckOutcome(_state(findings), findings, verdict=report["verdict"])
    if report["verdict"] == "fail" and outcome.state == "passed":
        outcome.state = "failed"
        outcome.message = "The package fails through its system descriptions or result files."
    return outcome


def scores_check(report: dict) -> CheckOutcome:
    scores = list(report["scores"])
    message = f"{len(scores)} score" if len(scores) == 1 else f"{len(scores)} scores"
    return CheckOutcome("passed", [], message=message, scores=scores)


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of the official checker's process (it parses untrusted logs)."""

    cpu_seconds: int = 1800
    memory_bytes: int = 4 * 1024**3
    file_bytes: int = 256 * 1024**2


def sandbox_env(scratch: Path) -> dict[str, str]:
    """A scrubbed environment: nothing of the worker's (no SECRET_KEY, DATABASE_URL, EMAIL_URL, ...),
    only what a Python program needs, with home and temporary files in the scratch directory."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "MPLCONFIGDIR": str(scratch),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONWARNINGS": "ignore",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }


def _limit(limits: SandboxLimits) -> Callable[[], None]:
    def apply() -> None:  # runs in the child between fork and exec
        import ctypes
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        with contextlib.suppress(OSError, AttributeError):  # die with the worker that started it (PR_SET_PDEATHSIG)
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)

    return apply


def sandbox_popen(
    cmd: list[str], *, scratch: Path, limits: SandboxLimits, stdout: Any, stderr: Any
) -> subprocess.Popen:
    """Starts `cmd` in `scratch` with a scrubbed environment and resource limits (CPU time, memory,
    file size, no core dumps); it is killed when the process that started it dies."""
    return subprocess.Popen(
        cmd, cwd=scratch, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=sandbox_env(scratch),
        preexec_fn=_limit(limits), close_fds=True,
    )  # fmt: skip


def official_check(
    root: Path, usage: str, ruleset: str, *, timeout: float, tick: Callable[[], None] | None = None,
    limits: SandboxLimits | None = None,
) -> CheckOutcome:  # fmt: skip
    """The pinned official package checker, on a scratch copy (it writes into what it checks), in a
    sandbox (scrubbed environment, its own scratch directory, resource limits).

    `tick` is called about once a second while it runs (the run's heartbeat); when it raises (the
    check was cancelled), the checker process is killed and the exception goes on."""
    limits = limits or SandboxLimits(cpu_seconds=max(int(timeout), 1))
    with tempfile.TemporaryDirectory(prefix="official-") as tmp:
        scratch = Path(tmp)
        copy = scratch / root.name
        shutil.copytree(root, copy, symlinks=True)
        _make_writable(copy)  # the official checker writes scaling.json into the folders it checks
        log = scratch / "package_checker.log"
        cmd = [sys.executable, "-m", "mlperf_logging.package_checker", str(copy), usage, ruleset,
               "--log_output", str(log)]  # fmt: skip
        stderr_path = scratch / "stderr.txt"
        with stderr_path.open("w") as err:
            proc = sandbox_popen(cmd, scratch=scratch, limits=limits, stdout=subprocess.DEVNULL, stderr=err)
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
        copied = str(copy)  # the scratch copy's path, as the official tool names files
    lines = [ln for ln in text.splitlines() if ln.strip()]
    # The verdict is the last "PACKAGE CHECKER FOUND …" line (a separator line follows it).
    last = next((ln for ln in reversed(lines) if "PACKAGE CHECKER FOUND" in ln), "")
    errors = [ln for ln in lines if ln.startswith(("ERROR", "CRITICAL"))]
    findings = [{"severity": "error", "check": "official.log", "key": None, "line": None,
                 **official_words(ln.split(" - ", 1)[-1][:2000], copied)} for ln in errors[:200]]  # fmt: skip
    if "FOUND NO ERRORS" in last:
        return CheckOutcome("passed", findings, message="The official package checker found no errors.",
                            verdict="pass")  # fmt: skip
    if "FOUND ERRORS" in last:
        return CheckOutcome("failed", findings, message="The official package checker found errors.", verdict="fail")
    if proc.returncode is not None and proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name if -proc.returncode in signal.Signals._value2member_map_ else ""
        message = (f"The official checker was stopped by signal {-proc.returncode} {name} (resource limits: "
                   f"{limits.cpu_seconds} s CPU, {limits.memory_bytes} bytes of memory, {limits.file_bytes} bytes "
                   "per file).")  # fmt: skip
        return CheckOutcome("errored", [{"severity": "error", "check": "official.stopped", "key": None, "line": None,
                                         "path": "", "message": message}], message=message)  # fmt: skip
    tail = (stderr or text).strip().splitlines()[-1:] or ["no output"]
    words = official_words(tail[0][:500], copied)
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


# ---------------------------------------------------------------- inference rounds


def inference_report(root: Path, ruleset: str, division: str) -> dict:
    """The inference checker's report on the unpacked submitter folder (``root``) of ``division``, in
    JSON form: the package's verdict and findings, and every result folder's (SubmitterReport and
    ResultReport.to_dict)."""
    from submissions.compliance.inference import check_inference_submitter

    report = check_inference_submitter(root, ruleset, division)
    systems = {r.system for r in report.results}
    return {
        **report.to_dict(),
        "results": [r.to_dict() for r in report.results],
        "systems": {name: inference_system_columns(root / "systems" / f"{name}.json") for name in sorted(systems)},
    }


def inference_system_columns(path: Path) -> dict:
    """The results table's system columns from a system description: its name, accelerator and
    accelerator count (per node × nodes); blank where the description is missing or malformed (the
    checker's findings say so)."""
    try:
        desc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        desc = None
    if not isinstance(desc, dict):
        return {"system_name": "", "accelerator": "", "accelerator_count": None}
    try:
        count: int | None = int(str(desc.get("accelerators_per_node")).strip()) * int(
            str(desc.get("number_of_nodes")).strip()
        )
    except ValueError:
        count = None
    return {
        "system_name": str(desc.get("system_name") or ""),
        "accelerator": str(desc.get("accelerator_model_name") or ""),
        "accelerator_count": count,
    }


def inference_check(kind: str, report: dict) -> CheckOutcome:
    """One check kind of an inference round: a slice of the inference checker's report on the
    version (``inference_report``). Findings keep the file relative to the package and carry their
    result folder (``results/<system>/<model>/<scenario>``) as their key."""
    prefix = f"{report['path']}/"

    def rel(path: str | None) -> str:
        return path[len(prefix) :] if path and path.startswith(prefix) else (path or "")

    def finding(f: dict, where: str | None) -> dict:
        return {**f, "path": rel(f["file"]), "key": rel(where)[:120] if where else None}

    results = report["results"]
    passed = report["verdict"] == "pass"
    package = [finding(f, None) for f in report["findings"]]
    systems = [f for f in package if f["check"].startswith("inference.system")]
    if kind == "system_descriptions":
        return CheckOutcome(_state(systems), systems)
    if kind == "result_files":
        findings = [finding(f, r["path"]) for r in results for f in r["findings"]]
        failing = sum(r["verdict"] != "pass" for r in results)
        message = f"{len(results)} result folders checked"
        if failing:
            message += f"; {failing} do not pass"
        return CheckOutcome("failed" if failing else "passed", findings, message=message)
    if kind in ("package_rules", "official_verifier"):
        rules = [f for f in package if f not in systems]
        state = "passed" if passed else "failed"
        if kind == "official_verifier":
            # The official inference checker is not published as a package the portal could run;
            # the inference checker reproduces its verdicts (docs/compliance.md).
            message = (
                "The official MLPerf Inference checker is not published as a package; this is the "
                f"inference checker's package verdict ({report['verdict']}), which reproduces it."
            )
            return CheckOutcome(state, [], message=message)
        return CheckOutcome(state, rules, verdict=report["verdict"])
    if kind == "scores":
        scores = inference_scores(results, report.get("systems") or {})
        lines = [f"results/{s['system']}/{s['model']}/{s['scenario']}: {s['value']:g} {s['units']}" for s in scores]
        message = f"{len(scores)} passing results with scores" + (": " + "; ".join(lines) if lines else "")
        return CheckOutcome("passed", [], message=message[:5000], scores=scores)
    return CheckOutcome("errored", message=f"Unknown check kind {kind!r}.")


INFERENCE_SYSTEM_COLUMNS = ("system_name", "accelerator", "accelerator_count")


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def inference_scores(results: list[dict], systems: dict[str, dict] | None = None) -> list[dict]:
    """The score of each passing result folder (ResultReport.to_dict), as the portal stores it: the
    official checker's value and units, the model's first accuracy metric (the accuracy-versus-
    performance chart's) with all of them, the power reading where power was measured, and the
    system's name and accelerators (``inference_system_columns``, by system) where known."""
    systems = systems or {}
    out = []
    for r in results:
        value = _number(r.get("score"))
        if r.get("verdict") != "pass" or value is None or not r.get("units"):
            continue
        accuracy = {str(k): str(v) for k, v in (r.get("accuracy") or {}).items()}
        metric = next(iter(accuracy), "")
        power = r.get("power") or {}
        out.append(
            {
                "system": r["system"],
                "model": r["model"],
                "mlperf_model": r.get("mlperf_model") or "",
                "scenario": r["scenario"],
                "division": r["division"],
                "value": value,
                "units": r["units"],
                "accuracy": _number(accuracy.get(metric)),
                "accuracy_metric": metric,
                "accuracy_values": accuracy,
                "power": _number(power.get("metric")),
                "power_units": power.get("units") or "",
                **{k: v for k, v in (systems.get(r["system"]) or {}).items() if k in INFERENCE_SYSTEM_COLUMNS},
            }
        )
    return out
