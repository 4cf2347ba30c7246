"""Checking several paths at once: the document the command prints and the Celery checks store."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .engine import check_file
from .findings import FileReport, PackageReport
from .identity import ENGINE_NAME, ENGINE_VERSION, engine_id
from .inference.ruleset import inference_rules_id
from .package import ProgressCallback, check_package, is_package, mp_context
from .rules import rules_version, validate

__all__ = ["ENGINE_NAME", "ENGINE_VERSION", "Report", "check_paths", "engine_id", "rules_id"]


def rules_id(usage: str | None = None, ruleset: str | None = None) -> str:
    """The rules behind a report: the pinned mlperf-logging package's (training, HPC), or for
    inference the inference checker's rule data (its ruleset file, by content)."""
    if usage == "inference":
        return inference_rules_id(ruleset)
    return f"mlperf-logging {rules_version()}"


@dataclass(slots=True)
class Report:
    usage: str
    ruleset: str
    packages: list[PackageReport] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(p.passed for p in self.packages) and all(f.passed for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "usage": self.usage,
            "ruleset": self.ruleset,
            "engine": engine_id(),
            "rules": rules_id(),
            "packages": [p.to_dict() for p in self.packages],
            "files": [f.to_dict() for f in self.files],
        }


def _file_job(args: tuple[str, str, str]) -> FileReport:
    return check_file(*args)


def check_paths(
    paths: Sequence[str | os.PathLike[str]],
    usage: str,
    ruleset: str,
    *,
    jobs: int = 1,
    progress: ProgressCallback | None = None,
) -> Report:
    """Check each path: a package folder (``systems/``, ``results/``) or a single result file.
    Raises RulesetError for an unknown usage or ruleset, FileNotFoundError for a missing path and
    NotADirectoryError for a folder that is not a package."""
    validate(usage, ruleset)
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"no such file or folder: {os.fspath(p)}")
        if os.path.isdir(p) and not is_package(p):
            raise NotADirectoryError(f"{os.fspath(p)} is a folder without systems/ or results/: not a package")
    report = Report(usage, ruleset)
    files = [os.fspath(p) for p in paths if not is_package(p)]
    for p in paths:
        if is_package(p):
            report.packages.append(check_package(p, usage, ruleset, jobs=jobs, progress=progress))
    if jobs > 1 and len(files) > 1 and not multiprocessing.current_process().daemon:
        with ProcessPoolExecutor(min(jobs, len(files)), mp_context=mp_context()) as pool:
            report.files = list(pool.map(_file_job, [(f, usage, ruleset) for f in files], chunksize=8))
    else:
        report.files = [check_file(f, usage, ruleset) for f in files]
    return report
