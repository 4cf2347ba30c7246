"""Fixtures for the compliance engine tests. Nothing here touches a database.

The real data (``../shared/mlperf`` from the project root) is optional: tests that need it are
marked ``realdata`` and skip with a reason when it is absent. The official checker's verdicts on
it are computed once per session (in process, about 25 s) and shared.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from submissions.compliance import engine
from submissions.compliance.oracle import OfficialResult, official_file, official_package
from submissions.compliance.rules import load_config_file

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "mlperf"
REAL = SHARED / "training_results_v5.1"
REAL_REASON = f"the real MLPerf results are not at {REAL} (see ../shared/mlperf/README.md)"


def real_files() -> list[Path]:
    return sorted(REAL.glob("*/results/*/*/result_*.txt"))


def real_packages() -> list[Path]:
    return sorted(p for p in REAL.iterdir() if p.is_dir())


@pytest.fixture(scope="session")
def real_root() -> Path:
    if not REAL.is_dir():
        pytest.skip(REAL_REASON)
    return REAL


@pytest.fixture(scope="session")
def official_files(real_root: Path) -> dict[Path, OfficialResult]:
    """The official compliance checker on every real result file (ruleset 5.1.0)."""
    return {f: official_file(f, "training", "5.1.0") for f in real_files()}


@pytest.fixture(scope="session")
def official_packages(real_root: Path) -> dict[str, OfficialResult]:
    """The official package checker (and result summarizer) on a copy of every real package."""
    return {p.name: official_package(p, "training", "5.1.0", scores=True) for p in real_packages()}


@pytest.fixture
def package_copy(real_root: Path, tmp_path: Path) -> Callable[[str], Path]:
    """A scratch copy of a real package, to mutate."""

    def make(name: str) -> Path:
        dst = tmp_path / "pkg" / name
        shutil.copytree(real_root / name, dst)
        return dst

    return make


@pytest.fixture
def custom_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str]], Path]:
    """Run the engine on rule files written by a test instead of the pinned package's.

    Configs are written to ``<tmp>/rules/<name>``; a config names another with ``{RULES}/<name>``
    (an absolute path, which the official checker accepts as well). Returns the root config path;
    the engine starts from it whatever usage and ruleset it is given."""
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    state: dict[str, Path] = {}

    def load(name: str) -> engine.Config:
        path = Path(name)
        if not path.is_absolute() or not path.exists():
            return engine.Config(name=name, path=None, missing=True)
        return load_config_file(path, name)

    def write(configs: dict[str, str]) -> Path:
        for name, text in configs.items():
            (rules_dir / name).write_text(text.replace("{RULES}", str(rules_dir)))
        state["root"] = rules_dir / next(iter(configs))
        return state["root"]

    monkeypatch.setattr(engine, "load_config", load)
    monkeypatch.setattr(engine, "root_config", lambda usage, ruleset: str(state["root"]))
    return write


@pytest.fixture
def official_custom() -> Callable[[Path, Path], str]:
    """The official checker on a log with a test's own root config: 'pass', 'fail' or 'crash'."""
    from submissions.compliance.oracle import _quiet

    def run(log: Path, root: Path) -> str:
        from mlperf_logging.compliance_checker import mlp_compliance

        mlp_compliance.enqueued_configs.clear()
        try:
            with _quiet():
                checker = mlp_compliance.make_checker("training", "5.1.0", False, False)
                valid, _, _, _ = mlp_compliance.main(os.fspath(log), os.fspath(root), checker)
            return "pass" if valid else "fail"
        except Exception:
            return "crash"
        finally:
            mlp_compliance.enqueued_configs.clear()

    return run


@pytest.fixture
def no_writes(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """Assert that a folder's files (names, sizes, mtimes) are unchanged after the test body."""
    watched: list[tuple[Path, dict[str, tuple[int, int]]]] = []

    def snapshot(root: Path) -> dict[str, tuple[int, int]]:
        out = {}
        for dirpath, _, names in os.walk(root):
            for n in names:
                p = os.path.join(dirpath, n)
                st = os.lstat(p)
                out[os.path.relpath(p, root)] = (st.st_size, st.st_mtime_ns)
        return out

    def watch(root: Path) -> None:
        watched.append((root, snapshot(root)))

    yield watch
    for root, before in watched:
        assert snapshot(root) == before, f"the engine wrote into {root}"
