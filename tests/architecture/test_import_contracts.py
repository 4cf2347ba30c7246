"""The floors hold (docs/architecture.md): the import-linter contracts of pyproject.toml are kept,
a wrong arrow breaks them, and the import graph (imports inside functions counted) has no cycle.

No database: these read the source through grimp, the graph import-linter uses."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PACKAGES = ("consortium", "workinggroups", "submissions")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path, *contracts: str) -> subprocess.CompletedProcess:
    args = [str(LINT_IMPORTS), "--no-cache"] + [f"--contract={c}" for c in contracts]
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=120)


def test_the_source_keeps_every_contract():
    done = _lint_imports(PROJECT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory) -> Path:
    """A copy of the source and pyproject.toml, to add a wrong arrow to."""
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(PROJECT / package, root / package, ignore=shutil.ignore_patterns("__pycache__", "templates"))
    shutil.copy(PROJECT / "pyproject.toml", root / "pyproject.toml")
    return root


WRONG_ARROWS = [
    # (file, added code, contract broken, module named in the report)
    ("consortium/common/attention.py", "import consortium.members.models\n", "floors", "consortium.members.models"),
    ("consortium/members/selectors.py", "from consortium.portal import views\n", "floors", "consortium.portal.views"),
    ("consortium/licensing/selectors.py", "import workinggroups.models\n", "floors", "workinggroups.models"),
    ("workinggroups/selectors.py", "def late():\n    from submissions import selectors\n", "floors", "submissions"),
    ("submissions/compliance/findings.py", "import django.conf\n", "engine", "django"),
    ("submissions/compliance/findings.py", "from submissions import models\n", "engine-in-submissions", "submissions"),
    (
        "consortium/licensing/permissions.py",
        "from consortium.members.demo import DEMO_PASSWORD\n",
        "no-demo-data",
        "consortium.members.demo",
    ),
    (
        "consortium/members/models.py",
        "def late():\n    from consortium.members import services\n",
        "acyclic",
        "consortium.members",
    ),
]


@pytest.mark.parametrize(("path", "code", "contract", "named"), WRONG_ARROWS)
def test_a_wrong_arrow_breaks_its_contract(tree_copy, path, code, contract, named):
    target = tree_copy / path
    original = target.read_text()
    target.write_text(original + "\n\n" + code)
    try:
        done = _lint_imports(tree_copy, contract)
    finally:
        target.write_text(original)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "BROKEN" in done.stdout and named in done.stdout


# Run in a process of its own so that grimp finds the packages of the tree it is given, not the
# ones this process has imported already.
_EDGES_SCRIPT = """
import json, grimp
packages = ("consortium", "workinggroups", "submissions")
graph = grimp.build_graph(*packages, cache_dir=None, exclude_type_checking_imports=True)
print(json.dumps({m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}))
"""


def _import_edges(root: Path) -> dict[str, list[str]]:
    """Module -> the modules it imports, wherever the import stands (inside functions too); imports
    under `if TYPE_CHECKING:` are left out, as they never run."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", _EDGES_SCRIPT], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _cycles(edges: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in edges[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(edges)))
    for module in sorted(edges):
        if module not in index:
            visit(module)
    return groups


def test_no_import_cycle_between_modules_counting_imports_inside_functions():
    assert _cycles(_import_edges(PROJECT)) == []


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function(tree_copy):
    target = tree_copy / "submissions/services/__init__.py"
    original = target.read_text()
    target.write_text(original + "\n\ndef _late():\n    from submissions import tasks\n")
    try:
        edges = _import_edges(tree_copy)
    finally:
        target.write_text(original)
    assert ["submissions.services", "submissions.tasks"] in _cycles(edges)
