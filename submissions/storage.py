"""The content-addressed store of uploaded archives, and how an upload gets into it.

An upload streams into `incoming/` while its size and type are checked (before: the Content-Length
and the file name; while: every chunk counts against SUBMISSION_MAX_ARCHIVE_BYTES and the first bytes
must be those of a gzip, tar or zip archive), so that nothing over the limit or of the wrong type is
ever kept, and no database transaction is open while bytes arrive. Only then is it moved into
`archives/<sha[:2]>/<sha>` and its version recorded in one short transaction (services).

A blob in the store that no version refers to (a rejected or failed upload, a crash between the move
and the commit) is removed by `archives_sweep` (beat). Uploads hold a shared lock on the store from
the move to the commit, deletions an exclusive one, so a sweep never removes a blob that an upload in
flight is about to refer to.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.template.defaultfilters import filesizeformat

from submissions.models import SubmissionVersion

logger = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
CHUNK = 1024 * 1024
HEAD = 512  # enough to tell a gzip, zip or tar archive by its first bytes


def storage_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "submissions"


def archive_path(sha256: str) -> Path:
    return storage_root() / "archives" / sha256[:2] / sha256


def incoming_dir() -> Path:
    path = storage_root() / "incoming"
    path.mkdir(parents=True, exist_ok=True)
    return path


class ArchiveTooLarge(ValidationError):
    """The archive is over SUBMISSION_MAX_ARCHIVE_BYTES (the API answers 413)."""


def too_large_message(size: int | None = None) -> str:
    limit = settings.SUBMISSION_MAX_ARCHIVE_BYTES
    got = f"The upload is {size:,} bytes; a" if size else "A"
    return f"{got}rchives may be at most {limit:,} bytes ({filesizeformat(limit)}). Nothing was stored."


def name_refusal(name: str) -> str | None:
    if not name.lower().endswith(ARCHIVE_SUFFIXES):
        return f"Upload a .tar.gz, .tgz, .tar or .zip archive (got {name or 'no file'!r})."
    return None


def _looks_like_archive(head: bytes) -> bool:
    if head.startswith((b"\x1f\x8b", b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return True
    if len(head) >= 262 and head[257:262] == b"ustar":
        return True
    if len(head) >= HEAD:  # an old tar without the ustar magic: its header checksum must be right
        try:
            tarfile.TarInfo.frombuf(head[:HEAD], "utf-8", "surrogateescape")
            return True
        except tarfile.HeaderError:
            return False
    return False


@dataclass
class StoredUpload:
    """A complete upload waiting in incoming/ to be moved into the store."""

    tmp_path: Path
    sha256: str
    size: int
    name: str

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.tmp_path.unlink()


class ArchiveReceiver:
    """Receives an archive chunk by chunk into incoming/, hashing it and checking its size and type
    as it comes. Any refusal (ValidationError) removes what was written."""

    def __init__(self, name: str):
        self.name = os.path.basename(name or "").strip()
        refusal = name_refusal(self.name)
        if refusal:
            raise ValidationError({"archive": refusal})
        self.limit = settings.SUBMISSION_MAX_ARCHIVE_BYTES
        self.digest = hashlib.sha256()
        self.size = 0
        self.head = b""
        fd, tmp = tempfile.mkstemp(dir=incoming_dir(), prefix="upload-")
        self.tmp_path = Path(tmp)
        self.out: IO[bytes] | None = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        try:
            self.size += len(chunk)
            if self.size > self.limit:
                message = f"The archive is larger than {self.limit} bytes. {too_large_message()}"
                raise ArchiveTooLarge({"archive": message})
            if len(self.head) < HEAD:
                self.head += chunk[: HEAD - len(self.head)]
                if len(self.head) >= HEAD:
                    self._check_type()
            self.digest.update(chunk)
            assert self.out is not None
            self.out.write(chunk)
        except BaseException:
            self.discard()
            raise

    def _check_type(self) -> None:
        if not _looks_like_archive(self.head):
            message = f"{self.name!r} is not a .tar.gz, .tar or .zip archive: its first bytes are not an archive's."
            raise ValidationError({"archive": message})

    def finish(self) -> StoredUpload:
        try:
            if self.size == 0:
                raise ValidationError({"archive": "The uploaded file is empty."})
            if len(self.head) < HEAD:
                self._check_type()
            assert self.out is not None
            self.out.close()
            self.out = None
        except BaseException:
            self.discard()
            raise
        return StoredUpload(tmp_path=self.tmp_path, sha256=self.digest.hexdigest(), size=self.size, name=self.name)

    def discard(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None
        with contextlib.suppress(FileNotFoundError):
            self.tmp_path.unlink()


def archive_receive(source: IO[bytes], *, name: str) -> StoredUpload:
    """Streams a file-like object into incoming/ (checked as it comes)."""
    receiver = ArchiveReceiver(name)
    try:
        for chunk in iter(lambda: source.read(CHUNK), b""):
            receiver.write(chunk)
    except BaseException:
        receiver.discard()
        raise
    return receiver.finish()


class ReceivedArchive(UploadedFile):
    """What request.FILES["archive"] holds with ArchiveUploadHandler: the upload, already in incoming/."""

    def __init__(self, stored: StoredUpload, content_type: str | None):
        super().__init__(file=None, name=stored.name, content_type=content_type, size=stored.size)
        self.stored = stored

    def read(self, *args: Any) -> bytes:  # the bytes are on disk; nobody should read them through here
        raise OSError("The archive was streamed to the store; use .stored.")

    def close(self) -> None:
        pass


class ArchiveUploadHandler(FileUploadHandler):
    """Django upload handler for the `archive` field: streams it straight into incoming/ with the size
    and type checks, instead of a temporary file that is copied later. A refusal stops the upload at
    once (the rest of the body is not read) and is kept in `refusal` for the view to answer."""

    chunk_size = 256 * 1024

    def __init__(self, request: Any = None):
        super().__init__(request)
        self.receiver: ArchiveReceiver | None = None
        self.refusal: ValidationError | None = None
        self.received: list[StoredUpload] = []

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        limit = settings.SUBMISSION_MAX_ARCHIVE_BYTES + MULTIPART_OVERHEAD
        if content_length and content_length > limit:
            self.refusal = ArchiveTooLarge({"archive": too_large_message(content_length)})
            raise StopUpload(connection_reset=True)
        return None

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        if field_name != "archive" or self.receiver is not None or self.received:
            return  # other file fields, and a second archive, are dropped
        try:
            self.receiver = ArchiveReceiver(file_name or "")
        except ValidationError as exc:
            self.refusal = exc
            raise StopUpload(connection_reset=True) from exc

    def receive_data_chunk(self, raw_data, start):
        if self.receiver is None:
            return None
        try:
            self.receiver.write(raw_data)
        except ValidationError as exc:
            self.receiver = None
            self.refusal = exc
            raise StopUpload(connection_reset=True) from exc
        return None

    def file_complete(self, file_size):
        if self.receiver is None:
            return None
        receiver, self.receiver = self.receiver, None
        try:
            stored = receiver.finish()
        except ValidationError as exc:
            self.refusal = exc
            raise StopUpload(connection_reset=True) from exc
        self.received.append(stored)
        return ReceivedArchive(stored, self.content_type)

    def upload_interrupted(self):
        """The client went away mid-stream: nothing of it stays."""
        if self.receiver is not None:
            self.receiver.discard()
            self.receiver = None
        self.discard()

    def discard(self) -> None:
        for stored in self.received:
            stored.discard()


# Multipart framing around the archive (boundaries, the small form fields): a Content-Length this
# much above the archive limit may still carry an archive within it; the stream is counted exactly.
MULTIPART_OVERHEAD = 64 * 1024


def content_length_refusal(meta: dict) -> str | None:
    """Before the body is read: an upload whose Content-Length is over the limit (plus framing)."""
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length > settings.SUBMISSION_MAX_ARCHIVE_BYTES + MULTIPART_OVERHEAD:
        return too_large_message(length)
    return None


# ---------------------------------------------------------------- the store and its clean-up


@contextlib.contextmanager
def _store_lock(exclusive: bool) -> Iterator[None]:
    lock_path = storage_root() / "archives" / ".lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _referenced(sha256: str) -> bool:
    return SubmissionVersion.objects.filter(sha256=sha256).exists()


@contextlib.contextmanager
def archive_placed(upload: StoredUpload) -> Iterator[Path]:
    """Moves the upload into the store (never overwriting: the same bytes are stored once) and holds
    the store's shared lock while the caller records the version. When the caller fails, a blob that
    this upload added and that no version refers to is removed again."""
    final = archive_path(upload.sha256)
    added = False
    try:
        with _store_lock(exclusive=False):
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                upload.discard()  # same bytes already stored: keep the first copy untouched
            else:
                os.chmod(upload.tmp_path, 0o444)
                os.replace(upload.tmp_path, final)
                added = True
            yield final
    except BaseException:
        upload.discard()
        if added:
            archive_discard(upload.sha256)
        raise


def archive_discard(sha256: str) -> bool:
    """Removes a stored blob that no version refers to (under the store's exclusive lock)."""
    with _store_lock(exclusive=True):
        if _referenced(sha256):
            return False
        with contextlib.suppress(FileNotFoundError):
            archive_path(sha256).unlink()
            return True
    return False


def archives_sweep(*, older_than: float | None = None) -> dict[str, int]:
    """Beat: remove blobs no version refers to, and leftovers in incoming/ of uploads whose process
    died (older than SUBMISSION_INCOMING_MAX_AGE). Never a blob a version refers to."""
    max_age = settings.SUBMISSION_INCOMING_MAX_AGE if older_than is None else older_than
    removed = leftovers = 0
    archives = storage_root() / "archives"
    if archives.is_dir():
        with _store_lock(exclusive=True):
            referenced = set(SubmissionVersion.objects.values_list("sha256", flat=True).distinct())
            for blob in archives.glob("??/*"):
                if blob.name not in referenced and blob.is_file():
                    blob.unlink()
                    removed += 1
    incoming = storage_root() / "incoming"
    now = time.time()
    if incoming.is_dir():
        for leftover in incoming.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if leftover.is_file() and now - leftover.stat().st_mtime > max_age:
                    leftover.unlink()
                    leftovers += 1
    if removed or leftovers:
        logger.info("archives sweep: %s unreferenced blobs, %s stale incoming files removed", removed, leftovers)
    return {"removed": removed, "incoming_removed": leftovers}
