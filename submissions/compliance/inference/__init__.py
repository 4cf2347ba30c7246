"""MLPerf Inference submission checks: the rules of the official submission checker
(mlcommons/inference ``tools/submission/submission_checker.py``), with its verdicts and scores.

Pure Python (no Django). The rules of each round are data: ``rulesets/<version>.json``.

    check_inference_paths(paths, ruleset, division=None) -> InferenceReport
    check_inference_submitter(path, ruleset, division) -> SubmitterReport
    available_inference_rulesets() -> list[str]

A path is a division folder (``closed/``, ``open/``, ``network/``), a submitter folder inside one
(its division is the folder above it unless ``division`` says), or the folder holding the
division folders (what the official checker is given).
Nothing is written into the input."""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..findings import ERROR
from ..rules import RulesetError
from .checker import C, check_submitter_dir, make_context
from .report import InferenceFinding, InferenceReport, ResultReport, SubmitterReport
from .ruleset import Ruleset, available_inference_rulesets, load_ruleset

__all__ = [
    "C",
    "InferenceFinding",
    "InferenceReport",
    "ResultReport",
    "Ruleset",
    "SubmitterReport",
    "available_inference_rulesets",
    "check_inference_paths",
    "check_inference_submitter",
    "load_ruleset",
]


def _is_division_folder(path: str, rs: Ruleset) -> bool:
    name = os.path.basename(os.path.normpath(path))
    return name in rs["divisions"] and not os.path.isdir(os.path.join(path, "results"))


def check_inference_submitter(path: str | os.PathLike[str], ruleset: str, division: str) -> SubmitterReport:
    """One submitter folder (``<Submitter>`` with ``systems/``, ``results/``, ...) checked as a
    package of ``division``."""
    rs = load_ruleset(ruleset)
    if division not in rs["divisions"]:
        raise ValueError(f"unknown division {division!r}; expected one of {', '.join(rs['divisions'])}")
    p = os.fspath(path)
    ctx = make_context(rs, os.path.dirname(os.path.abspath(p)), division)
    return check_submitter_dir(ctx, os.path.abspath(p))


def _check_division(path: str, rs: Ruleset, report: InferenceReport) -> None:
    division = os.path.basename(os.path.normpath(path))
    ctx = make_context(rs, os.path.abspath(path), division)
    packages = [check_submitter_dir(ctx, os.path.join(os.path.abspath(path), s)) for s in _subdirs(path)]
    loose = sorted(f for f in os.listdir(path) if os.path.isfile(os.path.join(path, f)))
    if loose:
        where = f"{division}/{loose[0]}"
        report.findings.append(
            InferenceFinding(
                ERROR,
                C.DIVISION,
                f"files outside the submitter folders ({', '.join(loose[:5])}): "
                "the official checker rejects the whole division",
                where,
            )
        )
        for pkg in packages:
            msg = "the division folder holds loose files: the official checker rejects the whole division"
            pkg.findings.append(InferenceFinding(ERROR, C.DIVISION, msg, where))
            for r in pkg.results:
                r.findings.append(InferenceFinding(ERROR, C.DIVISION, msg, where))
    report.packages.extend(packages)


def _is_submission_root(path: str, rs: Ruleset) -> bool:
    """The folder the official checker is given: division folders inside, no results/ of its own."""
    return not os.path.isdir(os.path.join(path, "results")) and any(
        os.path.isdir(os.path.join(path, d)) for d in rs["divisions"]
    )


def _check_root(path: str, rs: Ruleset, report: InferenceReport) -> None:
    start = len(report.packages)
    for name in _subdirs(path):
        if name in rs["divisions"]:
            _check_division(os.path.join(path, name), rs, report)
        elif name not in rs["ignored_root_folders"]:
            report.findings.append(
                InferenceFinding(ERROR, C.DIVISION, f"{name!r} is not a division ({', '.join(rs['divisions'])})", name)
            )
    allowed = tuple(rs["root_files_allowed_suffixes"])
    loose = sorted(f for f in os.listdir(path) if os.path.isfile(os.path.join(path, f)) and not f.endswith(allowed))
    if loose:
        msg = f"files outside the division folders ({', '.join(loose[:5])}): the official checker stops here"
        report.findings.append(InferenceFinding(ERROR, C.DIVISION, msg, loose[0]))
        for pkg in report.packages[start:]:
            pkg.findings.append(InferenceFinding(ERROR, C.DIVISION, msg, loose[0]))
            for r in pkg.results:
                r.findings.append(InferenceFinding(ERROR, C.DIVISION, msg, loose[0]))


def _subdirs(path: str) -> list[str]:
    return sorted(e.name for e in os.scandir(path) if e.is_dir())


def check_inference_paths(
    paths: Sequence[str | os.PathLike[str]], ruleset: str, division: str | None = None
) -> InferenceReport:
    """Raises RulesetError for an unknown ruleset, FileNotFoundError for a missing path and
    ValueError when a path's division cannot be told (the caller's mistakes); any problem in
    the files themselves is a finding."""
    rs = load_ruleset(ruleset)
    if division is not None and division not in rs["divisions"]:
        raise ValueError(f"unknown division {division!r}; expected one of {', '.join(rs['divisions'])}")
    report = InferenceReport(ruleset)
    for raw in paths:
        p = os.fspath(raw)
        if not os.path.isdir(p):
            raise FileNotFoundError(f"no such folder: {p}")
        if division is None and _is_division_folder(p, rs):
            _check_division(p, rs, report)
            continue
        if division is None and _is_submission_root(p, rs):
            _check_root(p, rs, report)
            continue
        div = division or os.path.basename(os.path.dirname(os.path.abspath(p)))
        if div not in rs["divisions"]:
            raise ValueError(
                f"{p}: the folder above it is {div!r}, not a division ({', '.join(rs['divisions'])}); "
                "give a division folder, or --division"
            )
        report.packages.append(check_inference_submitter(p, ruleset, div))
    return report


# re-exported for callers that only import this package
RulesetError = RulesetError
