"""The command line for ``--usage inference`` (called from ``submissions.compliance.__main__``)."""

from __future__ import annotations

import argparse
import json
import sys

from ..identity import engine_id
from ..rules import RulesetError
from . import check_inference_paths
from .report import InferenceFinding, InferenceReport
from .ruleset import inference_rules_id


def _line(f: InferenceFinding) -> str:
    where = f.file or ""
    if f.line is not None:
        where += f":{f.line}"
    return f"    {f.severity:<8} {f.check} {where}: {f.message}"


def render_text(report: InferenceReport) -> str:
    out = [f"{engine_id()} with {inference_rules_id(report.ruleset)}"]
    out += [_line(f) for f in report.findings]
    for p in report.packages:
        passed = sum(r.passed for r in p.results)
        out.append(f"{p.verdict.upper():<4}  package {p.path}: {passed}/{len(p.results)} results pass")
        out += [_line(f) for f in p.findings if f.severity != "advisory"]
        for r in p.results:
            score = f"  {r.score:g} {r.units}" if r.passed and r.score is not None else ""
            out.append(f"  {r.verdict.upper():<4}  {r.path}{score}")
            out += ["  " + _line(f) for f in r.findings if f.severity != "advisory"]
    return "\n".join(out)


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        report = check_inference_paths(args.paths, args.ruleset, division=args.division)
    except (RulesetError, FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    if args.format == "json":
        json.dump({**report.to_dict(engine_id()), "rules": inference_rules_id(report.ruleset)}, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(render_text(report))
    return 0 if report.passed else 1
