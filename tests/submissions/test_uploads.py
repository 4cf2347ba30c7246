"""Uploads outside transactions: the archive streams into the store's incoming/ folder with its size
and type checked as it comes (web form as API), then the version is recorded in a short transaction;
refused, failed and interrupted uploads leave nothing behind; the sweep removes unreferenced blobs
and never one a version refers to, not even while an upload is in flight."""

import io
import os
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from submissions import services, storage
from submissions.models import SubmissionVersion
from tests.factories import MembershipFactory, OrganisationFactory
from tests.submissions.factories import open_round, register, submitter_of, tar_gz_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def setup(db, tmp_path):
    org = MembershipFactory(organisation=OrganisationFactory(name="Acme AI", slug="acme")).organisation
    round_ = open_round()
    register(round_, org)
    user = submitter_of(org, "sub@acme.test")
    pkg = tmp_path / "Acme"
    (pkg / "systems").mkdir(parents=True)
    (pkg / "systems" / "s1.json").write_text('{"submitter": "Acme"}')
    return round_, org, user, tar_gz_of(pkg)


def _upload(round_, org, user, data, name="pkg.tar.gz"):
    return services.submission_upload(
        round=round_, organisation=org, division="closed", category="available", archive=io.BytesIO(data),
        original_name=name, actor=user, source="api",
    )  # fmt: skip


def _store_is_empty() -> bool:
    root = storage.storage_root()
    return not list(root.glob("archives/??/*")) and not list(root.glob("incoming/*"))


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_while_the_archive_streams(setup, monkeypatch):
    round_, org, user, data = setup
    during: list[bool] = []
    real_write = storage.ArchiveReceiver.write

    def spy(self, chunk):
        during.append(connection.in_atomic_block)
        return real_write(self, chunk)

    monkeypatch.setattr(storage.ArchiveReceiver, "write", spy)
    version = _upload(round_, org, user, data)
    assert during and not any(during)
    assert storage.archive_path(version.sha256).read_bytes() == data
    assert not list(storage.storage_root().glob("incoming/*"))


def test_not_an_archive_by_content_is_refused_and_nothing_stays(setup):
    round_, org, user, _ = setup
    with pytest.raises(ValidationError, match="its first bytes are not an archive's"):
        _upload(round_, org, user, b"just some text, renamed" * 100)
    assert _store_is_empty() and not SubmissionVersion.objects.exists()


def test_over_the_limit_while_streaming_is_refused_and_nothing_stays(setup, settings):
    round_, org, user, data = setup
    settings.SUBMISSION_MAX_ARCHIVE_BYTES = len(data) - 1
    with pytest.raises(storage.ArchiveTooLarge):
        _upload(round_, org, user, data)
    assert _store_is_empty()


def test_upload_refused_when_recording_leaves_no_blob(setup, monkeypatch):
    """The daily limit (or the window) is checked again under the lock; a refusal there removes the blob."""
    round_, org, user, data = setup
    real_check = services.uploads._upload_check

    def refuse_when_locked(*args, locked, **kwargs):
        if locked:
            raise ValidationError("The submission window closed meanwhile.")
        return real_check(*args, locked=locked, **kwargs)

    monkeypatch.setattr(services.uploads, "_upload_check", refuse_when_locked)
    with pytest.raises(ValidationError, match="closed meanwhile"):
        _upload(round_, org, user, data)
    assert _store_is_empty() and not SubmissionVersion.objects.exists()


def test_same_bytes_are_stored_once_and_a_refused_copy_does_not_remove_them(setup, monkeypatch):
    round_, org, user, data = setup
    first = _upload(round_, org, user, data)
    second = _upload(round_, org, user, data)
    assert first.sha256 == second.sha256 and len(list(storage.storage_root().glob("archives/??/*"))) == 1
    monkeypatch.setattr(services.uploads, "_version_record", lambda **kw: (_ for _ in ()).throw(ValidationError("no")))
    with pytest.raises(ValidationError):
        _upload(round_, org, user, data)
    assert storage.archive_path(first.sha256).read_bytes() == data


def _multipart(boundary: str, data: bytes, **fields: str) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="archive"; filename="pkg.tar.gz"\r\n'
        "Content-Type: application/gzip\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts)


def test_an_upload_cut_off_mid_stream_leaves_nothing_behind(setup):
    round_, _, user, data = setup
    _, token = services.api_token_create(user=user, name="ci")
    body = _multipart("XyZ", data * 50, division="closed", category="available")
    cut = body[: len(body) // 2]  # the connection dropped half way: the server saw only this much
    from django.test import Client

    response = Client().post(
        f"/api/v1/rounds/{round_.slug}/submissions", data=cut, content_type="multipart/form-data; boundary=XyZ",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )  # fmt: skip
    assert response.status_code == 400 and "Attach the package" in response.json()["detail"]
    assert _store_is_empty() and not SubmissionVersion.objects.exists()


def test_web_form_refuses_an_oversized_content_length_before_reading_the_body(setup, settings, monkeypatch):
    from django.test import Client

    round_, _, user, data = setup
    settings.SUBMISSION_MAX_ARCHIVE_BYTES = 1000
    client = Client()
    client.force_login(user)
    monkeypatch.setattr(storage.ArchiveUploadHandler, "new_file", lambda *a, **k: pytest.fail("the body was read"))
    archive = io.BytesIO(data)
    archive.name = "pkg.tar.gz"
    response = client.post(
        f"/rounds/{round_.slug}/upload/", {"division": "closed", "category": "available", "archive": archive},
        CONTENT_LENGTH=str(10_000_000),
    )  # fmt: skip
    assert response.status_code == 413
    assert "archives may be at most 1,000 bytes" in response.content.decode()
    assert _store_is_empty() and not SubmissionVersion.objects.exists()


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        (b"\x1f\x8b" + b"x" * 5000, 413, "The archive is larger than 1000 bytes"),
        (b"plain text " * 60, 400, "its first bytes are not an archive"),
    ],
)
def test_web_form_checks_size_and_type_while_streaming(setup, settings, payload, status, message):
    from django.test import Client

    round_, _, user, _ = setup
    settings.SUBMISSION_MAX_ARCHIVE_BYTES = 1000
    client = Client()
    client.force_login(user)
    archive = io.BytesIO(payload)
    archive.name = "pkg.tar.gz"
    response = client.post(
        f"/rounds/{round_.slug}/upload/", {"division": "closed", "category": "available", "archive": archive}
    )
    assert response.status_code == status and message in response.content.decode()
    assert _store_is_empty() and not SubmissionVersion.objects.exists()


def test_sweep_removes_unreferenced_blobs_and_stale_incoming_files_only(setup):
    round_, org, user, data = setup
    kept = _upload(round_, org, user, data)
    orphan = storage.archive_path("ab" + "0" * 62)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left by a crash between the move and the commit")
    stale = storage.incoming_dir() / "upload-dead"
    stale.write_bytes(b"partial")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    fresh = storage.incoming_dir() / "upload-in-flight"
    fresh.write_bytes(b"partial")
    assert storage.archives_sweep() == {"removed": 1, "incoming_removed": 1}
    assert storage.archive_path(kept.sha256).read_bytes() == data
    assert not orphan.exists() and not stale.exists() and fresh.exists()


@pytest.mark.django_db(transaction=True)
def test_sweep_waits_for_an_upload_in_flight_and_keeps_its_blob(setup):
    round_, org, user, data = setup
    upload = storage.archive_receive(io.BytesIO(data), name="pkg.tar.gz")
    result: dict = {}
    sweeper = threading.Thread(target=lambda: result.update(storage.archives_sweep()))
    with storage.archive_placed(upload) as path:
        assert path.exists()  # in the store, but no version refers to it yet
        sweeper.start()
        sweeper.join(timeout=0.5)
        assert sweeper.is_alive(), "the sweep must wait for the upload's shared lock"
        services.uploads._version_record(
            round=round_, organisation=org, division="closed", category="available", name="pkg.tar.gz",
            upload=upload, actor=user, source="api", ip_address=None, now=timezone.now(),
            enforce_rules=True,
        )  # fmt: skip
    sweeper.join(timeout=30)
    assert not sweeper.is_alive() and result["removed"] == 0 and path.read_bytes() == data
