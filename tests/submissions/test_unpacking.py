"""The malicious-archive suite: one test per rejection, each checking the message and that nothing
was written outside (or left inside) the version's folder."""

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from submissions.unpacking import UnpackLimits, package_root, unpack_archive

GOOD_LOG = b':::MLLOG {"key": "submission_org", "value": "Acme", "time_ms": 1, "metadata": {}}\n'


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes = GOOD_LOG) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


@pytest.fixture
def box(tmp_path):
    """A parent folder with a sentinel: the version folder is box/version; nothing else may change."""
    (tmp_path / "sentinel.txt").write_text("untouched")
    return tmp_path


def _assert_nothing_written(box: Path, target: Path) -> None:
    outside = sorted(p.relative_to(box).as_posix() for p in box.rglob("*") if target not in (p, *p.parents))
    assert [p for p in outside if not p.endswith((".tar.gz", ".zip", ".tar", ".bin"))] == ["sentinel.txt"]
    assert not any(target.iterdir()), "a rejected archive leaves its folder empty"


def _rejected(box: Path, archive: Path, key: str, fragment: str, limits: UnpackLimits | None = None):
    target = box / "version"
    result = unpack_archive(archive, target, limits=limits)
    assert not result.ok
    checks = [f["check"] for f in result.findings]
    assert f"unpack.{key}" in checks, result.findings
    assert any(fragment in f["message"] for f in result.findings), result.findings
    _assert_nothing_written(box, target)
    return result


def test_good_package_unpacks_and_root_is_found(box):
    archive = _tar(box / "a.tar.gz", [_file("Acme/systems/s1.json", b"{}"), _file("Acme/results/s1/bert/result_0.txt")])
    target = box / "version"
    result = unpack_archive(archive, target)
    assert result.ok and result.entries == 2 and result.format == "tar.gz"
    assert (target / "Acme/results/s1/bert/result_0.txt").read_bytes() == GOOD_LOG
    assert package_root(target) == target / "Acme"


def test_zip_package_unpacks(box):
    with zipfile.ZipFile(box / "a.zip", "w") as zf:
        zf.writestr("systems/s1.json", "{}")
        zf.writestr("results/s1/bert/result_0.txt", GOOD_LOG)
    result = unpack_archive(box / "a.zip", box / "version")
    assert result.ok and result.format == "zip" and package_root(box / "version") == box / "version"


def test_absolute_path_is_rejected(box):
    archive = _tar(box / "a.tar.gz", [_file("/etc/evil.txt")])
    _rejected(box, archive, "absolute_path", "'/etc/evil.txt' has an absolute path")


def test_dot_dot_is_rejected(box):
    archive = _tar(box / "a.tar.gz", [_file("Acme/../../evil.txt")])
    _rejected(box, archive, "path_traversal", "points outside the archive")
    assert not (box.parent / "evil.txt").exists()


def test_symlink_is_rejected(box):
    archive = _tar(box / "a.tar.gz", [_special("Acme/results/link", tarfile.SYMTYPE, "/etc/passwd")])
    _rejected(box, archive, "symlink", "'Acme/results/link' is a symbolic link")


def test_zip_symlink_is_rejected(box):
    info = zipfile.ZipInfo("Acme/link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(box / "a.zip", "w") as zf:
        zf.writestr(info, "/etc/passwd")
    _rejected(box, box / "a.zip", "symlink", "symbolic link")


def test_hard_link_is_rejected(box):
    archive = _tar(box / "a.tar.gz", [_file("Acme/a.txt"), _special("Acme/b.txt", tarfile.LNKTYPE, "Acme/a.txt")])
    _rejected(box, archive, "hardlink", "'Acme/b.txt' is a hard link")


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_device_files_are_rejected(box, kind):
    archive = _tar(box / "a.tar.gz", [_special("Acme/dev", kind)])
    _rejected(box, archive, "special_file", "'Acme/dev' is a device or special file")


def test_too_many_entries(box):
    archive = _tar(box / "a.tar.gz", [_file(f"Acme/f{i}.txt", b"x") for i in range(11)])
    _rejected(box, archive, "too_many_entries", "has 11 entries; the limit is 10", UnpackLimits(max_entries=10))


def test_total_size_over_limit(box):
    archive = _tar(box / "a.tar.gz", [_file("Acme/big.txt", b"x" * 5000)])
    _rejected(box, archive, "too_large", "unpacks to 5000 bytes; the limit is 4000",
              UnpackLimits(max_total_bytes=4000, max_ratio=1e9))  # fmt: skip


def test_compression_bomb_ratio(box):
    archive = _tar(box / "bomb.tar.gz", [_file("Acme/zeros.txt", b"\0" * 5_000_000)])
    result = _rejected(box, archive, "compression_ratio", "a compression bomb?")
    assert archive.stat().st_size < 50_000 and result.total_bytes == 0


def test_zip_bomb_ratio(box):
    with zipfile.ZipFile(box / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.txt", b"\0" * 5_000_000)
    _rejected(box, box / "bomb.zip", "compression_ratio", "expands")


def test_nested_archive_in_results(box):
    archive = _tar(box / "a.tar.gz", [_file("Acme/results/s1/bert/inner.tar.gz", b"\x1f\x8bxx")])
    _rejected(box, archive, "nested_archive", "is an archive inside the results")


def test_non_utf8_name(box):
    info = zipfile.ZipInfo("placeholder")
    with zipfile.ZipFile(box / "a.zip", "w") as zf:
        zf.writestr(info, b"data")
    raw = (box / "a.zip").read_bytes().replace(b"placeholder", b"bad\xff\xfename!!")
    (box / "b.zip").write_bytes(raw)
    _rejected(box, box / "b.zip", "name_encoding", "is not valid UTF-8")


def test_duplicate_names(box):
    archive = _tar(box / "a.tar.gz", [_file("Acme/results/r.txt"), _file("Acme/results/r.txt", b"other")])
    _rejected(box, archive, "duplicate", "appears more than once")


def test_case_insensitive_duplicates(box):
    archive = _tar(box / "a.tar.gz", [_file("Acme/Results.txt"), _file("Acme/results.txt")])
    _rejected(box, archive, "duplicate", "appears more than once")


def test_corrupted_archive(box):
    good = _tar(box / "a.tar.gz", [_file("Acme/results/r.txt", bytes(range(256)) * 400)])
    data = good.read_bytes()
    (box / "broken.tar.gz").write_bytes(data[: len(data) // 2])
    _rejected(box, box / "broken.tar.gz", "corrupted", "corrupted or truncated")


def test_unsupported_format(box):
    (box / "a.bin").write_bytes(b"Rar!\x1a\x07\x00 not a supported archive")
    _rejected(box, box / "a.bin", "unsupported", "not a .tar.gz, .tgz, .tar or .zip archive")


def test_empty_archive(box):
    archive = _tar(box / "a.tar.gz", [])
    _rejected(box, archive, "empty", "The archive is empty")


def test_plain_tar_is_supported(box):
    archive = _tar(box / "a.tar", [_file("Acme/systems/s.json", b"{}")], mode="w")
    assert unpack_archive(archive, box / "version").ok


def test_size_lie_in_header_is_caught(box):
    """A tar whose data runs past its declared size cannot write more than the header promised."""
    archive = _tar(box / "a.tar", [_file("Acme/a.txt", b"y" * 100)], mode="w")
    result = unpack_archive(archive, box / "version")
    assert result.ok and (box / "version/Acme/a.txt").stat().st_size == 100
