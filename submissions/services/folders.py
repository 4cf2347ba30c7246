"""Where a version's files are kept."""

from __future__ import annotations

from pathlib import Path

from submissions.models import (
    SubmissionVersion,
)
from submissions.storage import (
    storage_root,
)
from submissions.unpacking import package_root

# ---------------------------------------------------------------- storage (submissions/storage.py)


def version_folder(version: SubmissionVersion) -> Path:
    return storage_root() / "versions" / str(version.pk)


def version_package_root(version: SubmissionVersion) -> Path | None:
    unpacked = version_folder(version) / "package"
    return package_root(unpacked) if unpacked.is_dir() else None
