"""Safe unpacking of uploaded submission archives. Pure Python, no Django.

Every entry is vetted from the archive's own index before a byte is written; sizes are counted again
while writing (headers can lie); anything wrong is a finding naming the entry and the limit, and the
target folder is left empty. Nothing is ever written outside the target folder.
"""

from __future__ import annotations

import shutil
import stat
import tarfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

CHECK = "unpack"
NESTED_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".tar.gz", ".gz", ".bz2", ".xz", ".7z", ".rar", ".zst")
COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class UnpackLimits:
    max_entries: int = 20_000
    max_total_bytes: int = 8 * 1024**3
    max_file_bytes: int = 2 * 1024**3
    max_ratio: float = 200.0  # unpacked bytes per archive byte
    max_name_length: int = 1024
    max_depth: int = 32


@dataclass
class UnpackResult:
    ok: bool
    findings: list[dict] = field(default_factory=list)
    entries: int = 0
    total_bytes: int = 0
    format: str = ""

    def reject(self, message: str, *, key: str = "archive", path: str | None = None) -> UnpackResult:
        self.ok = False
        self.findings.append(
            {"severity": "error", "check": f"{CHECK}.{key}", "key": None, "path": path, "line": None,
             "message": message}
        )  # fmt: skip
        return self


@dataclass(frozen=True)
class _Entry:
    name: str
    size: int
    is_dir: bool
    kind: str  # file | dir | symlink | hardlink | device | other
    source: object  # TarInfo or ZipInfo


class ArchiveError(Exception):
    pass


def detect_format(path: Path) -> str | None:
    """By content, not by name: gzip-compressed tar, plain tar, or zip."""
    with path.open("rb") as fh:
        head = fh.read(262)
    if head[:2] == b"\x1f\x8b":
        return "tar.gz"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    return None


def _is_valid_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _tar_entries(tf: tarfile.TarFile) -> list[tuple[_Entry, bytes]]:
    out = []
    for info in tf:
        raw = info.name.encode("utf-8", "surrogateescape")
        if info.isreg():
            kind = "file"
        elif info.isdir():
            kind = "dir"
        elif info.issym():
            kind = "symlink"
        elif info.islnk():
            kind = "hardlink"
        elif info.ischr() or info.isblk() or info.isfifo() or info.isdev():
            kind = "device"
        else:
            kind = "other"
        out.append((_Entry(info.name, info.size, kind == "dir", kind, info), raw))
    return out


def _zip_entries(zf: zipfile.ZipFile) -> list[tuple[_Entry, bytes]]:
    out = []
    for info in zf.infolist():
        # Names without the UTF-8 flag were decoded as cp437; get the original bytes back.
        raw = info.filename.encode("utf-8") if info.flag_bits & 0x800 else info.orig_filename.encode("cp437")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            kind = "symlink"
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            kind = "device"
        elif info.is_dir():
            kind = "dir"
        else:
            kind = "file"
        name = raw.decode("utf-8", "surrogateescape") if not info.flag_bits & 0x800 else info.filename
        out.append((_Entry(name, info.file_size, kind == "dir", kind, info), raw))
    return out


def _vet(entries: list[tuple[_Entry, bytes]], archive_size: int, limits: UnpackLimits, result: UnpackResult):
    """Checks every entry against the rules; returns the normalised relative paths of the good ones."""
    if not entries:
        return result.reject("The archive is empty: it contains no files.", key="empty")
    if len(entries) > limits.max_entries:
        return result.reject(
            f"The archive has {len(entries)} entries; the limit is {limits.max_entries}.",
            key="too_many_entries",
        )
    seen: dict[str, str] = {}
    total = 0
    for entry, raw in entries:
        shown = raw.decode("utf-8", "replace")
        if not _is_valid_utf8(raw):
            result.reject(f"Entry name {shown!r} is not valid UTF-8.", key="name_encoding", path=shown)
            continue
        if len(entry.name) > limits.max_name_length:
            result.reject(
                f"Entry name is longer than {limits.max_name_length} characters.",
                key="name_length",
                path=shown[:200],
            )
            continue
        if entry.kind == "symlink":
            result.reject(f"Entry {shown!r} is a symbolic link; links are not accepted.", key="symlink", path=shown)
            continue
        if entry.kind == "hardlink":
            result.reject(f"Entry {shown!r} is a hard link; links are not accepted.", key="hardlink", path=shown)
            continue
        if entry.kind in ("device", "other"):
            result.reject(f"Entry {shown!r} is a device or special file.", key="special_file", path=shown)
            continue
        name = entry.name.replace("\\", "/")
        if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
            result.reject(f"Entry {shown!r} has an absolute path.", key="absolute_path", path=shown)
            continue
        parts = [p for p in PurePosixPath(name).parts if p not in ("", ".")]
        if ".." in parts:
            result.reject(f"Entry {shown!r} points outside the archive ('..').", key="path_traversal", path=shown)
            continue
        if "\x00" in name or any(ord(c) < 32 for c in name):
            result.reject(f"Entry {shown!r} has control characters in its name.", key="name_encoding", path=shown)
            continue
        if len(parts) > limits.max_depth:
            result.reject(f"Entry {shown!r} is nested deeper than {limits.max_depth} folders.", key="depth", path=shown)
            continue
        if not parts:
            continue
        rel = "/".join(parts)
        folded = unicodedata.normalize("NFC", rel).casefold()
        if folded in seen and not entry.is_dir:
            result.reject(
                f"Entry {shown!r} appears more than once (also as {seen[folded]!r}).",
                key="duplicate",
                path=shown,
            )
            continue
        seen[folded] = rel
        if entry.is_dir:
            continue
        if entry.size > limits.max_file_bytes:
            result.reject(
                f"Entry {shown!r} unpacks to {entry.size} bytes; one file may have at most {limits.max_file_bytes}.",
                key="file_too_large",
                path=shown,
            )
            continue
        lowered = rel.lower()
        if "results" in parts[:-1] and lowered.endswith(NESTED_ARCHIVE_SUFFIXES):
            result.reject(
                f"Entry {shown!r} is an archive inside the results; unpack it and upload the files.",
                key="nested_archive",
                path=shown,
            )
            continue
        total += entry.size
    if total > limits.max_total_bytes:
        result.reject(f"The archive unpacks to {total} bytes; the limit is {limits.max_total_bytes}.", key="too_large")
    if archive_size > 0 and total / archive_size > limits.max_ratio:
        result.reject(
            f"The archive expands {total / archive_size:.0f} times ({archive_size} to {total} bytes); "
            f"the limit is {limits.max_ratio:.0f} (a compression bomb?).",
            key="compression_ratio",
        )
    return result


def _copy_limited(src, dst_path: Path, budget: list[int], name: str) -> None:
    with dst_path.open("xb") as dst:
        while True:
            chunk = src.read(COPY_CHUNK)
            if not chunk:
                return
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise ArchiveError(f"Entry {name!r} unpacks to more bytes than its header says; stopped.")
            dst.write(chunk)


def unpack_archive(archive: Path, target: Path, *, limits: UnpackLimits | None = None) -> UnpackResult:
    """Unpacks `archive` into the empty folder `target`, or explains why not (then target stays empty)."""
    limits = limits or UnpackLimits()
    result = UnpackResult(ok=True)
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise ValueError(f"target folder {target} is not empty")
    fmt = detect_format(archive)
    if fmt is None:
        return result.reject(
            "This is not a .tar.gz, .tgz, .tar or .zip archive (unsupported or corrupted).", key="unsupported"
        )
    result.format = fmt
    archive_size = archive.stat().st_size
    try:
        if fmt == "zip":
            with zipfile.ZipFile(archive) as zf:
                entries = _zip_entries(zf)
                _vet(entries, archive_size, limits, result)
                if result.ok:
                    _extract(entries, target, limits, result, opener=lambda e: zf.open(e.source))
        else:
            mode = "r:gz" if fmt == "tar.gz" else "r:"
            with tarfile.open(archive, mode) as tf:
                entries = _tar_entries(tf)
                _vet(entries, archive_size, limits, result)
                if result.ok:
                    _extract(entries, target, limits, result, opener=lambda e: tf.extractfile(e.source))
    except (
        tarfile.TarError,
        zipfile.BadZipFile,
        EOFError,
        OSError,
        zlib_error(),
        ArchiveError,
        ValueError,
    ) as exc:
        _empty(target)
        detail = str(exc) or type(exc).__name__
        return result.reject(f"The archive is corrupted or truncated: {detail}.", key="corrupted")
    if not result.ok:
        _empty(target)
    return result


def zlib_error() -> type[Exception]:
    import zlib

    return zlib.error


def _extract(entries, target: Path, limits: UnpackLimits, result: UnpackResult, *, opener) -> None:
    budget = [limits.max_total_bytes]
    root = target.resolve()
    for entry, _raw in entries:
        parts = [p for p in PurePosixPath(entry.name.replace("\\", "/")).parts if p not in ("", ".")]
        if not parts:
            continue
        dest = root.joinpath(*parts)
        if root not in dest.resolve().parents and dest.resolve() != root:
            raise ArchiveError(f"Entry {entry.name!r} would land outside the target folder.")
        if entry.is_dir:
            dest.mkdir(parents=True, exist_ok=True)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = opener(entry)
        if src is None:
            raise ArchiveError(f"Entry {entry.name!r} cannot be read.")
        with src:
            remaining = [entry.size]  # the header's size: more bytes than that is a lie, stop
            _copy_limited(src, dest, remaining, entry.name)
        written = entry.size - remaining[0]
        budget[0] -= written
        if budget[0] < 0:
            raise ArchiveError("The archive unpacks to more bytes than allowed.")
        result.entries += 1
        result.total_bytes += written


def _empty(target: Path) -> None:
    for child in target.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def package_root(folder: Path) -> Path | None:
    """The folder holding systems/ and results/: the unpacked folder itself or its only subfolder."""
    if (folder / "results").is_dir() or (folder / "systems").is_dir():
        return folder
    children = [c for c in folder.iterdir() if c.is_dir() and not c.name.startswith((".", "__MACOSX"))]
    if len(children) == 1 and ((children[0] / "results").is_dir() or (children[0] / "systems").is_dir()):
        return children[0]
    return None
