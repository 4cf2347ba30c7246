"""Malformed requests of every kind (content types, encodings, sizes, headers, methods, paths, query
strings) get a 4xx with the API's error shape, never a server error."""

import base64
import io

import pytest
from django.test import Client

from submissions import services
from submissions.models import SubmissionVersion
from tests.submissions.factories import open_round, register, tar_gz_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def api(roles, tmp_path):
    round_ = open_round(group=roles.group)
    register(round_, roles.org)
    pkg = tmp_path / "Acme"
    (pkg / "systems").mkdir(parents=True)
    (pkg / "systems" / "s1.json").write_text("{}")
    token = services.api_token_create(user=roles.submitter, name="t")[1]
    return round_, {"HTTP_AUTHORIZATION": f"Bearer {token}"}, tar_gz_of(pkg)


def _shape(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"] and isinstance(body.get("errors", {}), dict)
    return body


def _raw(api, body: bytes, content_type: str, **extra):
    round_, auth, _ = api
    return Client().generic(
        "POST", f"/api/v1/rounds/{round_.slug}/submissions", body, content_type=content_type, **auth, **extra
    )


def _part(boundary: str, headers: str, payload: bytes) -> bytes:
    return f"--{boundary}\r\n{headers}\r\n\r\n".encode() + payload + b"\r\n"


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("multipart/form-data", b"--x\r\n\r\n--x--\r\n", "not a valid multipart/form-data form"),
        ("multipart/form-data; boundary=", b"--\r\n", "not a valid multipart/form-data form"),
        ("multipart/form-data; boundary=\x7fbad\x01", b"--x--", "not a valid multipart/form-data form"),
        ("application/json", b'{"archive": "x"}', "Send the upload as multipart/form-data"),
        ("application/x-www-form-urlencoded", b"division=closed", "Send the upload as multipart/form-data"),
        ("text/plain; charset=utf-8", b"hello", "Send the upload as multipart/form-data"),
        ("", b"", "Send the upload as multipart/form-data"),
    ],
)
def test_wrong_or_broken_content_types_are_400(api, content_type, body, message):
    assert message in _shape(_raw(api, body, content_type), 400)["detail"]
    assert not SubmissionVersion.objects.exists()


def test_invalid_base64_part_is_400(api):
    b = "bnd"
    body = _part(b, 'Content-Disposition: form-data; name="archive"; filename="a.tar.gz"\r\n'
                    "Content-Transfer-Encoding: base64", b"!!!not base64!!") + f"--{b}--\r\n".encode()  # fmt: skip
    _shape(_raw(api, body, f"multipart/form-data; boundary={b}"), 400)


def test_truncated_base64_part_is_400(api):
    b = "bnd"
    body = _part(b, 'Content-Disposition: form-data; name="archive"; filename="a.tar.gz"\r\n'
                    "Content-Transfer-Encoding: base64", base64.b64encode(b"\x1f\x8b12345")[:-3])  # fmt: skip
    _shape(_raw(api, body + f"--{b}--\r\n".encode(), f"multipart/form-data; boundary={b}"), 400)


def test_too_many_fields_is_400(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    b = "bnd"
    body = b"".join(_part(b, f'Content-Disposition: form-data; name="f{i}"', b"v") for i in range(50))
    _shape(_raw(api, body + f"--{b}--\r\n".encode(), f"multipart/form-data; boundary={b}"), 400)


def test_negative_content_length_is_400(api):
    b = "bnd"
    _shape(_raw(api, b"--bnd--\r\n", f"multipart/form-data; boundary={b}", CONTENT_LENGTH="-5"), 400)


def test_non_numeric_content_length_is_400(api):
    _shape(_raw(api, b"--bnd--\r\n", "multipart/form-data; boundary=bnd", CONTENT_LENGTH="lots"), 400)


def test_fields_in_another_encoding_are_400_not_a_crash(api):
    _, _, data = api
    b = "bnd"
    body = (
        _part(b, 'Content-Disposition: form-data; name="division"', "clösed".encode("latin-1"))
        + _part(b, 'Content-Disposition: form-data; name="category"', b"\xff\xfe\x00a")
        + _part(b, 'Content-Disposition: form-data; name="archive"; filename="\xe9.tar.gz"', data)
        + f"--{b}--\r\n".encode()
    )
    body_json = _shape(_raw(api, body, f"multipart/form-data; boundary={b}; charset=utf-8"), 400)
    assert "division" in body_json["errors"]
    assert not SubmissionVersion.objects.exists()


def test_unknown_charset_is_tolerated(api):
    round_, auth, data = api
    archive = io.BytesIO(data)
    archive.name = "pkg.tar.gz"
    response = Client().post(
        f"/api/v1/rounds/{round_.slug}/submissions", {"division": "closed", "category": "available",
                                                      "archive": archive}, **auth,
    )  # fmt: skip
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearer \u00e9t\u00e9", "Bearer " + "x" * 10_000],
)
def test_bad_authorization_headers_are_401(api, header):
    round_, _, _ = api
    response = Client().get("/api/v1/submissions/1", HTTP_AUTHORIZATION=header)
    _shape(response, 401)
    response = Client().post(f"/api/v1/rounds/{round_.slug}/submissions", {}, HTTP_AUTHORIZATION=header)
    _shape(response, 401)


@pytest.mark.parametrize(
    "query", ["version=abc", "version=-1", "version=99999999999999999999", "format=xml", "severity=fatal",
              "check=" + "x" * 5000, "version=%00"],
)  # fmt: skip
def test_bad_query_strings_are_4xx(api, query):
    _, auth, _ = api
    response = Client().get(f"/api/v1/submissions/1/findings?{query}", **auth)
    assert response.status_code in (400, 404)
    _shape(response, response.status_code)


@pytest.mark.parametrize("path", ["/api/v1/submissions/abc", "/api/v1/submissions/-1", "/api/v1/nothing",
                                  "/api/v1/submissions/99999999999999999999999"])  # fmt: skip
def test_unknown_paths_are_4xx_in_the_api_shape(api, path):
    _, auth, _ = api
    response = Client().get(path, **auth)
    assert response.status_code in (400, 404)
    _shape(response, response.status_code)


def test_wrong_method_is_405_with_allow(api):
    round_, auth, _ = api
    response = Client().put(f"/api/v1/rounds/{round_.slug}/submissions", b"", **auth)
    assert "POST" in response["Allow"]
    _shape(response, 405)
    _shape(Client().delete("/api/v1/rounds", **auth), 405)
