"""The HTTP API (/api/): every endpoint for every role and for bad or revoked tokens, upload bad
input with the message the caller sees, the OpenAPI document, findings as JSON and CSV."""

import csv
import datetime as dt
import io
import tarfile

import pytest
from django.test import Client
from django.utils import timezone

from submissions import services, storage
from submissions.models import ApiToken, CheckKind, CheckRun, Score, SubmissionVersion
from tests.conftest import ROLE_NAMES
from tests.submissions.factories import open_round, register, tar_gz_of

pytestmark = pytest.mark.django_db
State = CheckRun.State
CALLERS = [*ROLE_NAMES, "bad_token", "revoked_token"]


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def round_(roles):
    round_ = open_round(group=roles.group)
    register(round_, roles.org)
    return round_


def _package(tmp_path, name: str = "Acme") -> bytes:
    """A small package whose result file has a malformed record on line 1 (a finding with a line number)."""
    pkg = tmp_path / "pkg" / name
    (pkg / "systems").mkdir(parents=True, exist_ok=True)
    (pkg / "systems" / "s1.json").write_text('{"submitter": "Acme"}')
    bench = pkg / "results" / "s1" / "retinanet"
    bench.mkdir(parents=True, exist_ok=True)
    (bench / "result_0.txt").write_text(':::MLLOG {"key": "init_start", "value": null, "time_ms": 1}\nnot json\n')
    return tar_gz_of(pkg)


def _client(roles, caller: str) -> tuple[Client, dict]:
    """A client without a session, and the headers that authenticate `caller` by token."""
    if caller == "anonymous":
        return Client(), {}
    if caller == "bad_token":
        return Client(), {"Authorization": "Bearer cpt_not-a-real-token"}
    user = roles.submitter if caller == "revoked_token" else roles.user(caller)
    token, raw = services.api_token_create(user=user, name="tests")
    if caller == "revoked_token":
        services.api_token_revoke(token=token, actor=user)
    return Client(), {"Authorization": f"Bearer {raw}"}


def _post(client, headers, slug, data: bytes | None = b"", name="Acme.tar.gz", **fields):
    form = {"division": "closed", "category": "available", **fields}
    if data is not None:
        form["archive"] = io.BytesIO(data)
        form["archive"].name = name
    return client.post(f"/api/v1/rounds/{slug}/submissions", form, headers=headers)


def _upload_as(roles, round_, tmp_path) -> SubmissionVersion:
    return services.submission_upload(
        round=round_, organisation=roles.org, division="closed", category="available",
        archive=io.BytesIO(_package(tmp_path)), original_name="Acme.tar.gz", actor=roles.submitter, source="web",
    )  # fmt: skip


def _drain(version) -> None:
    for _ in range(20):
        queued = list(CheckRun.objects.filter(version=version, state=State.QUEUED))
        if not queued:
            return
        for run in queued:
            services.check_run_execute(run_id=run.pk, attempt=run.attempt, worker="w1@test")


# ---------------------------------------------------------------- OpenAPI


def test_openapi_document_lists_the_four_endpoints(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths["/api/v1/rounds/{slug}/submissions"]) == {"get", "post"}  # GET: the review (issue 12)
    assert set(paths["/api/v1/submissions/{submission_id}"]) == {"get"}
    assert set(paths["/api/v1/submissions/{submission_id}/findings"]) == {"get"}
    assert set(paths["/api/v1/rounds"]) == {"get"}
    upload = paths["/api/v1/rounds/{slug}/submissions"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["archive", "division", "category"]
    assert {"201", "400", "401", "403", "404", "413"} <= set(upload["responses"])
    assert upload["security"] == [{"BearerToken": []}]  # uploads take a token, never the session
    assert response.json()["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"


def test_interactive_docs_are_served(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content


# ---------------------------------------------------------------- upload: roles

UPLOAD_EXPECTED = {
    "anonymous": (401, "Authentication required"),
    "member": (403, "Only people with the submitter role at Acme AI"),
    "submitter": (201, None),
    "primary": (403, "Only people with the submitter role at Acme AI"),
    "chair": (403, "Only people with the submitter role at Globex"),
    "dataset_admin": (403, "not an approved member of an organisation"),
    "staff": (403, "not an approved member of an organisation"),
    "bad_token": (401, "Authentication required"),
    "revoked_token": (401, "Authentication required"),
}


@pytest.mark.parametrize("caller", CALLERS)
def test_upload_by_role(roles, round_, tmp_path, caller):
    client, headers = _client(roles, caller)
    response = _post(client, headers, round_.slug, _package(tmp_path))
    status, message = UPLOAD_EXPECTED[caller]
    assert response.status_code == status, response.content
    if message:
        assert message in response.json()["detail"]
        assert not SubmissionVersion.objects.exists()
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_staff_naming_an_organisation_is_still_not_its_submitter(roles, round_, tmp_path):
    client, headers = _client(roles, "staff")
    response = _post(client, headers, round_.slug, _package(tmp_path), organisation="acme")
    assert response.status_code == 403
    assert "Only people with the submitter role at Acme AI" in response.json()["detail"]


def test_browser_session_cannot_upload(roles, round_, tmp_path):
    client = roles.client("submitter")
    response = _post(client, {}, round_.slug, _package(tmp_path))
    assert response.status_code == 401
    assert not SubmissionVersion.objects.exists()


def test_upload_returns_201_and_queues_unpack(roles, round_, tmp_path):
    client, headers = _client(roles, "submitter")
    archive = _package(tmp_path)
    response = _post(client, headers, round_.slug, archive)
    assert response.status_code == 201, response.content
    body = response.json()
    version = SubmissionVersion.objects.get(pk=body["version"])
    assert body["submission"] == version.submission_id and body["number"] == 1
    assert body["url"] == f"http://testserver/submissions/{version.submission_id}/"
    assert body["status_url"] == f"http://testserver/api/v1/submissions/{version.submission_id}"
    assert version.source == SubmissionVersion.Source.API and version.original_name == "Acme.tar.gz"
    assert version.uploaded_by == roles.submitter and version.in_time
    assert storage.archive_path(version.sha256).read_bytes() == archive
    assert list(version.check_runs.values_list("kind", "state")) == [(CheckKind.UNPACK, State.QUEUED)]
    assert ApiToken.objects.get(user=roles.submitter).last_used_at is not None
    # The status URL answers with the version and its queued unpack.
    status = client.get(body["status_url"], headers=headers).json()
    assert status["versions"][0]["check_runs"][0]["state"] == "queued"


def test_upload_for_a_named_organisation_and_a_second_version(roles, round_, tmp_path):
    client, headers = _client(roles, "submitter")
    first = _post(client, headers, round_.slug, _package(tmp_path), organisation="acme").json()
    second = _post(client, headers, round_.slug, _package(tmp_path), category="cloud").json()
    assert second["submission"] == first["submission"] and second["number"] == 2


# ---------------------------------------------------------------- upload: bad input


@pytest.mark.parametrize(
    ("case", "status", "field", "message"),
    [
        ("missing archive", 400, "archive", "Attach the package as the multipart file field 'archive'"),
        ("wrong division", 400, "division", "Choose a division of this round: closed, open."),
        ("missing category", 400, "category", "Choose an availability category."),
        ("not an archive", 400, "archive", "Upload a .tar.gz, .tgz, .tar or .zip archive (got 'results.rar')"),
        ("empty archive", 400, "archive", "The uploaded file is empty."),
        ("unknown organisation", 400, "organisation", "No organisation 'nobody'."),
        ("unknown round", 404, None, "No round 'no-such-round'"),
    ],
)
def test_upload_bad_input(roles, round_, tmp_path, case, status, field, message):
    client, headers = _client(roles, "submitter")
    data, name, slug, fields = _package(tmp_path), "Acme.tar.gz", round_.slug, {}
    if case == "missing archive":
        data = None
    elif case == "wrong division":
        fields["division"] = "secret"
    elif case == "missing category":
        fields["category"] = ""
    elif case == "not an archive":
        name = "results.rar"
    elif case == "empty archive":
        data = b""
    elif case == "unknown organisation":
        fields["organisation"] = "nobody"
    elif case == "unknown round":
        slug = "no-such-round"
    response = _post(client, headers, slug, data, name=name, **fields)
    assert response.status_code == status, response.content
    body = response.json()
    assert message in body["detail"]
    if field:
        assert message in body["errors"][field]
    assert not SubmissionVersion.objects.exists()


def test_upload_after_the_window_closed(roles, tmp_path):
    closed = open_round(group=roles.group, slug="training-v5-0", deadline_in=-dt.timedelta(days=1))
    register(closed, roles.org)
    client, headers = _client(roles, "submitter")
    response = _post(client, headers, closed.slug, _package(tmp_path))
    assert response.status_code == 400
    assert "The submission window of Training V5 0 closed at" in response.json()["detail"]
    assert "A chair can open a fix window" in response.json()["detail"]


def test_upload_over_the_daily_limit(roles, round_, tmp_path, settings):
    settings.SUBMISSION_UPLOADS_PER_DAY = 1
    client, headers = _client(roles, "submitter")
    assert _post(client, headers, round_.slug, _package(tmp_path)).status_code == 201
    response = _post(client, headers, round_.slug, _package(tmp_path))
    assert response.status_code == 400
    assert "Acme AI has used its 1 uploads for today" in response.json()["detail"]


def test_upload_by_an_unregistered_organisation(roles, tmp_path):
    unregistered = open_round(group=roles.group, slug="training-v6-0")
    client, headers = _client(roles, "submitter")
    response = _post(client, headers, unregistered.slug, _package(tmp_path))
    assert response.status_code == 403
    assert "Acme AI is not registered for Training V6 0" in response.json()["detail"]


def test_unpublished_round_is_unknown_to_submitters(roles, round_, tmp_path):
    round_.published = False
    round_.save()
    client, headers = _client(roles, "submitter")
    assert _post(client, headers, round_.slug, _package(tmp_path)).status_code == 404


def test_oversized_upload_refused_early_with_413(roles, round_, tmp_path, settings):
    settings.SUBMISSION_MAX_ARCHIVE_BYTES = 1000
    client, headers = _client(roles, "submitter")
    response = _post(client, headers, round_.slug, b"x" * 200_000)
    assert response.status_code == 413
    assert "archives may be at most 1,000 bytes" in response.json()["detail"]
    assert not SubmissionVersion.objects.exists()
    assert not (storage.storage_root() / "archives").exists()  # nothing was stored


def test_archive_over_the_limit_within_the_framing_margin_is_refused_while_streaming(roles, round_, settings):
    settings.SUBMISSION_MAX_ARCHIVE_BYTES = 1000
    client, headers = _client(roles, "submitter")
    response = _post(client, headers, round_.slug, b"\x1f\x8b" + b"x" * 5000)
    assert response.status_code == 413
    assert "The archive is larger than 1000 bytes." in response.json()["errors"]["archive"]
    assert not SubmissionVersion.objects.exists()
    stored = storage.storage_root()
    assert not list(stored.glob("archives/??/*")) and not list(stored.glob("incoming/*"))


# ---------------------------------------------------------------- reading a submission, by role

# Before the deadline: the submitting organisation and staff; not the chair of the group yet.
READ_BEFORE_DEADLINE = {
    "anonymous": 401,
    "member": 200,
    "submitter": 200,
    "primary": 200,
    "chair": 404,
    "dataset_admin": 404,
    "staff": 200,
    "bad_token": 401,
    "revoked_token": 401,
}


@pytest.mark.parametrize("endpoint", ["", "/findings"])
@pytest.mark.parametrize("caller", CALLERS)
def test_read_submission_by_role_with_token(roles, round_, tmp_path, caller, endpoint):
    version = _upload_as(roles, round_, tmp_path)
    client, headers = _client(roles, caller)
    response = client.get(f"/api/v1/submissions/{version.submission_id}{endpoint}", headers=headers)
    assert response.status_code == READ_BEFORE_DEADLINE[caller], response.content
    if response.status_code == 404:
        assert response.json()["detail"] == f"No submission {version.submission_id} (or you may not see it)."


@pytest.mark.parametrize("endpoint", ["", "/findings"])
@pytest.mark.parametrize("caller", ROLE_NAMES)
def test_read_submission_by_role_with_session(roles, round_, tmp_path, caller, endpoint):
    version = _upload_as(roles, round_, tmp_path)
    response = roles.client(caller).get(f"/api/v1/submissions/{version.submission_id}{endpoint}")
    assert response.status_code == READ_BEFORE_DEADLINE[caller], response.content


def test_bad_token_is_not_rescued_by_a_session(roles, round_, tmp_path):
    version = _upload_as(roles, round_, tmp_path)
    client = roles.client("submitter")
    response = client.get(f"/api/v1/submissions/{version.submission_id}", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("caller", "status"), [("chair", 200), ("dataset_admin", 404), ("member", 200), ("anonymous", 401)]
)
def test_chair_reads_submissions_after_the_deadline(roles, round_, tmp_path, caller, status):
    version = _upload_as(roles, round_, tmp_path)
    round_.phases.filter(kind="submission").update(ends_at=timezone.now() - dt.timedelta(days=1))
    client, headers = _client(roles, caller)
    for endpoint in ("", "/findings"):
        response = client.get(f"/api/v1/submissions/{version.submission_id}{endpoint}", headers=headers)
        assert response.status_code == status


def test_unknown_submission_is_404(roles):
    client, headers = _client(roles, "staff")
    assert client.get("/api/v1/submissions/999999", headers=headers).status_code == 404
    assert client.get("/api/v1/submissions/999999/findings", headers=headers).status_code == 404


# ---------------------------------------------------------------- rounds, by role


@pytest.fixture
def draft_round(roles):
    draft = open_round(group=roles.group, slug="training-v6-1")
    draft.published = False
    draft.save()
    return draft


ROUNDS_EXPECTED = {
    "anonymous": (200, False),
    "member": (200, False),
    "submitter": (200, False),
    "primary": (200, False),
    "chair": (200, True),  # the draft of the group they chair
    "dataset_admin": (200, False),
    "staff": (200, True),
    "bad_token": (401, False),
    "revoked_token": (401, False),
}


@pytest.mark.parametrize("caller", CALLERS)
def test_rounds_by_role(roles, round_, draft_round, caller):
    client, headers = _client(roles, caller)
    response = client.get("/api/v1/rounds", headers=headers)
    status, sees_draft = ROUNDS_EXPECTED[caller]
    assert response.status_code == status
    if status != 200:
        return
    slugs = {r["slug"] for r in response.json()}
    assert round_.slug in slugs
    assert (draft_round.slug in slugs) == sees_draft


@pytest.mark.parametrize("caller", ROLE_NAMES)
def test_rounds_with_session(roles, round_, draft_round, caller):
    response = roles.client(caller).get("/api/v1/rounds")
    assert response.status_code == 200
    assert (draft_round.slug in {r["slug"] for r in response.json()}) == ROUNDS_EXPECTED[caller][1]


def test_round_fields(roles, round_):
    round_.benchmarks = ["retinanet", "llama2_70b_lora"]
    round_.save()
    rows = Client().get("/api/v1/rounds").json()
    row = next(r for r in rows if r["slug"] == round_.slug)
    deadline = round_.phases.get(kind="submission").ends_at
    deadline = deadline.replace(microsecond=deadline.microsecond // 1000 * 1000)  # JSON keeps milliseconds
    assert row["name"] == round_.name and row["group"] == "training"
    assert (row["suite"], row["ruleset"]) == ("training", "5.1.0")
    assert row["benchmarks"] == ["retinanet", "llama2_70b_lora"] and row["divisions"] == ["closed", "open"]
    assert row["current_phase"] == "submission" and row["submission_window_open"] is True
    assert dt.datetime.fromisoformat(row["deadline"].replace("Z", "+00:00")) == deadline
    assert row["grace_minutes"] == round_.grace_minutes
    assert dt.datetime.fromisoformat(row["deadline_with_grace"].replace("Z", "+00:00")) == deadline + round_.grace
    assert row["upload_url"] == f"http://testserver/api/v1/rounds/{round_.slug}/submissions"


def test_round_outside_its_phases(roles):
    closed = open_round(group=roles.group, slug="training-v5-0", deadline_in=-dt.timedelta(days=1))
    row = next(r for r in Client().get("/api/v1/rounds").json() if r["slug"] == closed.slug)
    assert row["current_phase"] is None and row["submission_window_open"] is False


# ---------------------------------------------------------------- findings and status after the checks


def test_status_and_findings_after_checks(roles, round_, tmp_path):
    client, headers = _client(roles, "submitter")
    body = _post(client, headers, round_.slug, _package(tmp_path)).json()
    version = SubmissionVersion.objects.get(pk=body["version"])
    _drain(version)
    Score.objects.create(version=version, system="s1", benchmark="retinanet", minutes=12.5)

    status = client.get(body["status_url"], headers=headers).json()
    assert (status["round"], status["organisation"], status["division"], status["category"]) == (
        round_.slug, "acme", "closed", "available",
    )  # fmt: skip
    assert status["official_version"] == 1 and status["verdict"] == "failed"
    [v] = status["versions"]
    assert (v["number"], v["state"], v["verdict"], v["in_time"]) == (1, "unpacked", "failed", True)
    assert v["sha256"] == version.sha256 and v["size"] == version.size
    runs = {r["kind"]: r for r in v["check_runs"]}
    assert set(runs) == {"unpack", "system_descriptions", "result_files", "package_rules", "official_verifier",
                         "scores"}  # fmt: skip
    assert runs["unpack"]["state"] == "passed" and runs["unpack"]["worker"] == "w1@test"
    assert runs["result_files"]["progress_total"] == runs["result_files"]["progress_done"] == 1
    assert runs["unpack"]["started_at"] and runs["unpack"]["finished_at"]
    assert v["official_verdict"] in ("fail", "crash") and isinstance(v["disagreement"], bool)

    doc = client.get(f"{body['status_url']}/findings", headers=headers).json()
    assert set(doc) >= {"usage", "ruleset", "engine", "rules", "packages"}
    assert (doc["usage"], doc["ruleset"]) == ("training", "5.1.0")
    assert doc["engine"].startswith("consortium-compliance") and doc["rules"].startswith("mlperf-logging")
    [package] = doc["packages"]
    assert set(package) == {"path", "submitter", "verdict", "findings", "files", "scores"}
    assert package["path"] == "Acme.tar.gz" and package["submitter"] == "Acme"
    assert package["scores"] == [{"system": "s1", "benchmark": "retinanet", "minutes": 12.5}]
    result_file = next(f for f in package["files"] if f["path"] == "results/s1/retinanet/result_0.txt")
    assert result_file["verdict"] == "fail"
    malformed = next(f for f in result_file["findings"] if f["check"] == "log.malformed_record")
    assert set(malformed) == {"severity", "check", "key", "line", "message"}
    assert malformed["line"] == 1 and malformed["severity"] == "error"
    assert all(not f["path"].startswith("systems/") for f in package["files"])
    # systems/ findings and those without a path belong to the package
    assert {"check": "system.missing_field", "key": "division"}.items() <= next(
        f for f in package["findings"] if f["key"] == "division"
    ).items()
    assert any(f["check"] == "package.result_count" for f in package["findings"])

    errors_only = client.get(f"{body['status_url']}/findings?severity=error", headers=headers).json()
    severities = {f["severity"] for p in errors_only["packages"] for f in p["findings"]} | {
        f["severity"] for p in errors_only["packages"] for fl in p["files"] for f in fl["findings"]
    }
    assert severities == {"error"}
    results_only = client.get(f"{body['status_url']}/findings?check=result_files", headers=headers).json()
    assert results_only["packages"][0]["findings"] == [] and results_only["packages"][0]["files"]

    response = client.get(f"{body['status_url']}/findings?format=csv&version=1", headers=headers)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f"submission-{version.submission_id}-v1-findings.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["path", "line", "severity", "check", "key", "message"]
    assert ["results/s1/retinanet/result_0.txt", "1", "error", "log.malformed_record"] in [r[:4] for r in rows]


def test_findings_of_a_given_version_and_bad_parameters(roles, round_, tmp_path):
    first = _upload_as(roles, round_, tmp_path)
    _upload_as(roles, round_, tmp_path)
    client, headers = _client(roles, "submitter")
    url = f"/api/v1/submissions/{first.submission_id}/findings"
    assert client.get(url, headers=headers).json()["version"] == 2  # the latest by default
    assert client.get(f"{url}?version=1", headers=headers).json()["version"] == 1
    missing = client.get(f"{url}?version=7", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"Submission {first.submission_id} has no version 7."
    bad = client.get(f"{url}?format=xml", headers=headers)
    assert bad.status_code == 400 and "format" in bad.json()["errors"]
    assert client.get(f"{url}?version=two", headers=headers).status_code == 400


def test_csv_cells_cannot_become_spreadsheet_formulas():
    from submissions.api import findings_csv
    from submissions.models import Finding

    finding = Finding(severity="error", check_id="rule.check", key="=cmd()", path="r.txt", line=3,
                      message="@SUM(A1)")  # fmt: skip
    rows = list(csv.reader(io.StringIO(findings_csv([finding]))))
    assert rows[1] == ["r.txt", "3", "error", "rule.check", "'=cmd()", "'@SUM(A1)"]


def test_generic_round_findings_have_no_ruleset(roles, tmp_path):
    generic = open_round(group=roles.group, slug="inference-v6-1", suite="inference")
    register(generic, roles.org)
    version = _upload_as(roles, generic, tmp_path)
    _drain(version)
    client, headers = _client(roles, "member")
    doc = client.get(f"/api/v1/submissions/{version.submission_id}/findings", headers=headers).json()
    assert doc["usage"] is None and doc["ruleset"] is None
    assert [f["check"] for f in doc["packages"][0]["findings"]] == ["generic.no_ruleset"]
    assert doc["packages"][0]["verdict"] == "pass" and doc["verdict"] == "passed"


def test_large_upload_streams_into_the_store_before_any_transaction(roles, round_, monkeypatch, settings):
    """The archive streams into the store's incoming/ folder chunk by chunk (no temporary copy, no
    transaction open while it arrives); the service gets it as a StoredUpload."""
    from django.db import connection

    from submissions.storage import StoredUpload

    seen = []
    real_upload = services.submission_upload

    def spy(**kwargs):
        seen.append((type(kwargs["archive"]), kwargs["archive"].tmp_path.parent.name, connection.in_atomic_block))
        return real_upload(**kwargs)

    monkeypatch.setattr(services, "submission_upload", spy)
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as tf:
        info = tarfile.TarInfo("Acme/big.bin")
        info.size = settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1024 * 1024
        tf.addfile(info, io.BytesIO(b"\0" * info.size))
    data = tar.getvalue()
    client, headers = _client(roles, "submitter")
    response = _post(client, headers, round_.slug, data, name="big.tar")
    assert response.status_code == 201, response.content
    # pytest-django wraps each test in a transaction, so "in_atomic_block" is that one's: one level.
    assert seen == [(StoredUpload, "incoming", connection.in_atomic_block)]
    assert not list(storage.storage_root().glob("incoming/*")), "the upload moved into the store"
    assert storage.archive_path(SubmissionVersion.objects.get().sha256).read_bytes() == data


# ---------------------------------------------------------------- staff tokens need MFA


def _without_mfa(user):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=user).delete()
    return user


def _old_token_of(user) -> str:
    """A token made long ago (before MFA was enforced, say)."""
    token, raw = services.api_token_create(user=user, name="made before MFA")
    ApiToken.objects.filter(pk=token.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    return raw


@pytest.mark.parametrize("caller", ["staff", "dataset_admin"])
def test_a_staff_token_is_refused_while_its_owner_has_no_mfa(roles, round_, tmp_path, settings, caller):
    settings.DEMO_MODE = False
    version = _upload_as(roles, round_, tmp_path)
    user = _without_mfa(roles.user(caller))
    headers = {"Authorization": f"Bearer {_old_token_of(user)}"}
    reads = [
        Client().get("/api/v1/rounds", headers=headers),  # public, but a given token must be good
        Client().get(f"/api/v1/submissions/{version.submission_id}", headers=headers),
        Client().get(f"/api/v1/submissions/{version.submission_id}/findings", headers=headers),
        _post(Client(), headers, round_.slug, _package(tmp_path)),
    ]
    for response in reads:
        assert response.status_code == 403, response.content
        body = response.json()
        assert set(body) == {"detail", "errors"}
        assert "two-factor authentication" in body["detail"] and "/accounts/2fa/totp/activate" in body["detail"]
    assert SubmissionVersion.objects.count() == 1, "the refused upload stored nothing"


def test_a_staff_token_works_again_once_its_owner_sets_up_mfa(roles, round_, tmp_path, settings):
    from tests.conftest import with_mfa

    settings.DEMO_MODE = False
    version = _upload_as(roles, round_, tmp_path)
    raw = _old_token_of(_without_mfa(roles.staff))
    url = f"/api/v1/submissions/{version.submission_id}"
    assert Client().get(url, headers={"Authorization": f"Bearer {raw}"}).status_code == 403
    with_mfa(roles.staff)
    assert Client().get(url, headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_members_tokens_need_no_mfa(roles, round_, tmp_path, settings):
    settings.DEMO_MODE = False
    version = _upload_as(roles, round_, tmp_path)
    headers = {"Authorization": f"Bearer {_old_token_of(roles.submitter)}"}
    assert Client().get(f"/api/v1/submissions/{version.submission_id}", headers=headers).status_code == 200


@pytest.mark.parametrize(("demo_mode", "status"), [(True, 200), (False, 403)])
def test_seeded_demo_staff_go_without_mfa_only_in_demo_mode(roles, settings, demo_mode, status):
    """As on the staff pages: the one explicit exception (roles.staff is a seeded demo account)."""
    settings.DEMO_MODE = demo_mode
    headers = {"Authorization": f"Bearer {_old_token_of(_without_mfa(roles.staff))}"}
    assert Client().get("/api/v1/rounds", headers=headers).status_code == status
