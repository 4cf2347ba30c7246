"""``python -m submissions.compliance --ruleset 5.1.0 [--usage training|hpc] [--format json|text]
[--jobs N] PATH [PATH ...]``

``python -m submissions.compliance --usage inference --ruleset 5.1 [--division closed|open|network]
[--format json|text] PATH [PATH ...]`` checks MLPerf Inference division or submitter folders
(``submissions/compliance/inference/``).

Exit status: 0 when everything passes, 1 when anything fails, 2 for a usage error (one line on
standard error).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import NoReturn

from .api import Report, check_paths, engine_id, rules_id
from .findings import FileReport, Finding
from .rules import RulesetError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m submissions.compliance",
        description="Check MLPerf result files and submission packages against the official rules.",
    )
    parser.add_argument("--ruleset", required=True, help="ruleset version, e.g. 5.1.0")
    parser.add_argument("--usage", default="training", help="benchmark suite: training (default), hpc or inference")
    parser.add_argument("--division", help="inference: the division of submitter folders (default: the folder above)")
    parser.add_argument("--format", choices=("json", "text"), default="text", help="output format (default text)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="a submitter package folder or a result file")
    return parser


def _finding_line(f: Finding) -> str:
    where = f" line {f.line}" if f.line is not None else ""
    return f"    {f.severity:<8} {f.check}{where}: {f.message}"


def _text_file(r: FileReport, indent: str = "") -> list[str]:
    out = [f"{indent}{r.verdict.upper():<4}  {r.path}"]
    out += [indent + _finding_line(f) for f in r.findings]
    return out


def render_text(report: Report) -> str:
    lines = [f"{engine_id()} with {rules_id()}, {report.usage} {report.ruleset}"]
    for p in report.packages:
        lines.append(f"{p.verdict.upper():<4}  package {p.path} (submitter {p.submitter})")
        lines += [_finding_line(f) for f in p.findings]
        for r in p.files:
            if r.findings:
                lines += _text_file(r, "  ")
        passed = sum(r.passed for r in p.files)
        lines.append(f"      {passed}/{len(p.files)} result files pass")
        for s in p.scores:
            if s.scaling == "weak":
                scale = "?" if s.instance_scale is None else s.instance_scale
                lines.append(
                    f"      weak-scaling score {s.system} {s.benchmark}: {s.number_of_models} models "
                    f"of scale {scale} in {s.minutes:.3f} minutes"
                )
            else:
                lines.append(f"      score {s.system} {s.benchmark}: {s.minutes:.3f} minutes")
    for r in report.files:
        lines += _text_file(r)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.usage == "inference":
        from .inference.cli import run

        return run(parser, args)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    try:
        report = check_paths(args.paths, args.usage, args.ruleset, jobs=args.jobs)
    except (RulesetError, FileNotFoundError, NotADirectoryError) as exc:
        parser.error(str(exc))
    if args.format == "json":
        json.dump(report.to_dict(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(render_text(report))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
