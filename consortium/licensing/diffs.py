"""Line diff of two agreement texts (difflib), for the admin. Pure, no database."""

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "added" | "removed" | "context" | "hunk"
    text: str


def text_diff(old: str, new: str, *, old_label: str = "previous", new_label: str = "new") -> list[DiffLine]:
    """Unified diff lines of `old` → `new`; empty when the texts are equal."""
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), fromfile=old_label, tofile=new_label, lineterm="", n=2
    )
    result = []
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            result.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            result.append(DiffLine("added", line[1:]))
        elif line.startswith("-"):
            result.append(DiffLine("removed", line[1:]))
        else:
            result.append(DiffLine("context", line[1:]))
    return result


def diff_stats(lines: list[DiffLine]) -> tuple[int, int]:
    return sum(1 for d in lines if d.kind == "added"), sum(1 for d in lines if d.kind == "removed")
