"""How the submission page orders and groups findings (pure: no database).

What blocks the verdict comes first: findings about the package as a whole, then the system
descriptions, then the result files (files with errors before files with only warnings). Within a
place, errors before warnings before advisories; the same finding repeated on many lines of a file
is one row that lists the lines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

SEVERITY_ORDER = {"error": 0, "warning": 1, "advisory": 2}
PLACE_ORDER = {"package": 0, "systems": 1, "file": 2}
SHOWN_LINES = 12


@dataclass
class FindingRow:
    finding: Any  # the first Finding of the repeated ones (severity, check_id, message, excerpt)
    lines: list[int] = field(default_factory=list)
    count: int = 0

    @property
    def shown_lines(self) -> list[int]:
        return self.lines[:SHOWN_LINES]

    @property
    def more_lines(self) -> int:
        return max(0, len(self.lines) - SHOWN_LINES)


@dataclass
class FindingGroup:
    path: str
    rows: list[FindingRow] = field(default_factory=list)

    @property
    def place(self) -> str:
        if not self.path:
            return "package"
        return "systems" if self.path.startswith("systems/") else "file"

    @property
    def title(self) -> str:
        return self.path or "The package as a whole"

    @property
    def errors(self) -> int:
        return sum(r.count for r in self.rows if r.finding.severity == "error")

    @property
    def total(self) -> int:
        return sum(r.count for r in self.rows)

    def sort_key(self) -> tuple:
        worst = min((SEVERITY_ORDER.get(r.finding.severity, 3) for r in self.rows), default=3)
        return (PLACE_ORDER[self.place], worst, self.path)


def findings_grouped(findings: Iterable[Any], *, check_order: list[str] | None = None) -> list[FindingGroup]:
    """Findings (objects with path, line, severity, check_id, message, run.kind) grouped by place."""
    order = {kind: i for i, kind in enumerate(check_order or [])}
    groups: dict[str, FindingGroup] = {}
    rows: dict[tuple, FindingRow] = {}
    for f in findings:
        group = groups.setdefault(f.path or "", FindingGroup(path=f.path or ""))
        key = (f.path or "", f.severity, f.check_id, f.message)
        row = rows.get(key)
        if row is None:
            row = rows[key] = FindingRow(finding=f)
            group.rows.append(row)
        row.count += 1
        if f.line:
            row.lines.append(f.line)
    for group in groups.values():
        for row in group.rows:
            row.lines.sort()
        group.rows.sort(
            key=lambda r: (
                SEVERITY_ORDER.get(r.finding.severity, 3),
                order.get(getattr(getattr(r.finding, "run", None), "kind", ""), len(order)),
                r.lines[0] if r.lines else 0,
                r.finding.check_id,
            )
        )
    return sorted(groups.values(), key=FindingGroup.sort_key)
