"""The API survives fuzzing: schemathesis generates requests for every operation of
/api/openapi.json (with a valid token, bounded examples, schema-valid and malformed ones) and none of
them gets a server error; every 4xx carries the API's error shape."""

import io

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

from submissions import services
from tests.submissions.factories import open_round, register, tar_gz_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def token(roles, tmp_path):
    """A submitter's token, an open round they may upload to and one submission they may read."""
    round_ = open_round(group=roles.group)
    register(round_, roles.org)
    pkg = tmp_path / "Acme"
    (pkg / "systems").mkdir(parents=True)
    (pkg / "systems" / "s1.json").write_text("{}")
    services.submission_upload(
        round=round_, organisation=roles.org, division="closed", category="available",
        archive=io.BytesIO(tar_gz_of(pkg)), original_name="Acme.tar.gz", actor=roles.submitter, source="api",
    )  # fmt: skip
    return services.api_token_create(user=roles.submitter, name="fuzz")[1]


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Like Django's test client, keep the test's database connection open between the requests the
    WSGI application answers (the test runs inside a transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# The portal's own WSGI application, in process; the document is read from it once, at collection.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case, token):
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=[schemathesis.checks.not_a_server_error])
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body.get("detail"), str) and isinstance(body.get("errors", {}), dict), body
