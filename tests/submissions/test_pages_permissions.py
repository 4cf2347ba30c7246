"""Every submissions page for every role, before the deadline, after it, and after publication."""

import datetime as dt
import io

import pytest

from submissions import services
from submissions.models import CheckRun, Submission
from tests.conftest import ROLE_NAMES
from tests.submissions.factories import make_chair, open_round, register

pytestmark = pytest.mark.django_db
LOGIN = "login"

PHASES = {
    "before_deadline": {"deadline_in": dt.timedelta(days=7), "publication_in": dt.timedelta(days=35)},
    "after_deadline": {"deadline_in": dt.timedelta(days=-2), "publication_in": dt.timedelta(days=26)},
    "published": {"deadline_in": dt.timedelta(days=-40), "publication_in": dt.timedelta(days=-1)},
}
OWN_ORG = {"member", "submitter", "primary", "staff"}


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def _setup(roles, phase: str) -> tuple[Submission, CheckRun]:
    round_ = open_round(**PHASES[phase])
    make_chair(round_.group, roles.chair.person)
    register(round_, roles.org)
    version = services.submission_upload(
        round=round_, organisation=roles.org, division="closed", category="available",
        archive=io.BytesIO(b"\x1f\x8b not really"), original_name="p.tar.gz", actor=roles.submitter,
        source="web", enforce_rules=False,
    )  # fmt: skip
    return version.submission, version.check_runs.get()


def _expect(response, expected):
    if expected == LOGIN:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == expected, (response.status_code, response.content[:300])


def _detail_expected(role: str, phase: str):
    if role == "anonymous":
        return LOGIN
    if role in OWN_ORG or phase == "published" or (role == "chair" and phase == "after_deadline"):
        return 200
    return 404


@pytest.mark.parametrize("phase", list(PHASES))
@pytest.mark.parametrize("role", ROLE_NAMES)
def test_submission_page_visibility(roles, role, phase):
    submission, _ = _setup(roles, phase)
    client = roles.client(role)
    _expect(client.get(f"/submissions/{submission.pk}/"), _detail_expected(role, phase))
    _expect(client.get(f"/submissions/{submission.pk}/versions/1/checks/"), _detail_expected(role, phase))
    listing = client.get(f"/rounds/{submission.round.slug}/submissions/")
    if role == "anonymous":
        _expect(listing, LOGIN)
    else:
        assert (submission.organisation.name in listing.content.decode()) == (_detail_expected(role, phase) == 200)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_my_submissions_page(roles, role):
    _setup(roles, "before_deadline")
    response = roles.client(role).get("/submissions/")
    if role == "anonymous":
        _expect(response, LOGIN)
    else:
        assert response.status_code == 200
        assert ("Acme AI" in response.content.decode()) == (role in OWN_ORG)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_upload_page_only_for_submitters_of_registered_organisations(roles, role):
    submission, _ = _setup(roles, "before_deadline")
    expected = {"anonymous": LOGIN, "submitter": 200}.get(role, 403)
    _expect(roles.client(role).get(f"/rounds/{submission.round.slug}/upload/"), expected)


@pytest.mark.parametrize("url", ["/staff/workers/", "/staff/disagreements/"])
@pytest.mark.parametrize("role", ROLE_NAMES)
def test_staff_pages(roles, role, url):
    expected = {"anonymous": LOGIN, "staff": 200}.get(role, 403)
    _expect(roles.client(role).get(url), expected)


@pytest.mark.parametrize("phase", ["before_deadline", "after_deadline"])
@pytest.mark.parametrize("role", ROLE_NAMES)
def test_rerun_only_by_chairs_after_deadline_and_staff(roles, role, phase):
    submission, run = _setup(roles, phase)
    CheckRun.objects.filter(pk=run.pk).update(state=CheckRun.State.FAILED)
    response = roles.client(role).post(f"/submissions/{submission.pk}/checks/{run.pk}/rerun/")
    run.refresh_from_db()
    can_see = _detail_expected(role, phase) == 200
    allowed = role == "staff" or (role == "chair" and phase == "after_deadline")
    if role == "anonymous":
        _expect(response, LOGIN)
    elif allowed:
        assert response.status_code == 302 and run.attempt == 2
    else:
        assert response.status_code == (403 if can_see else 404) and run.attempt == 1


def test_upload_form_bad_input_shows_messages(roles, tmp_path):
    submission, _ = _setup(roles, "before_deadline")
    client = roles.client("submitter")
    url = f"/rounds/{submission.round.slug}/upload/"
    response = client.post(url, {"division": "closed", "category": "available"})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    bad = io.BytesIO(b"not an archive")
    bad.name = "results.rar"
    response = client.post(url, {"division": "closed", "category": "available", "archive": bad})
    assert response.status_code == 400 and "Upload a .tar.gz, .tgz, .tar or .zip archive" in response.content.decode()
    assert submission.versions.count() == 1


def test_upload_through_the_form_creates_a_version(roles):
    submission, _ = _setup(roles, "before_deadline")
    archive = io.BytesIO(b"\x1f\x8b\x08 pretend gzip")
    archive.name = "acme.tar.gz"
    response = roles.client("submitter").post(
        f"/rounds/{submission.round.slug}/upload/", {"division": "closed", "category": "cloud", "archive": archive}
    )
    assert response.status_code == 302 and response["Location"] == f"/submissions/{submission.pk}/"
    submission.refresh_from_db()
    assert submission.versions.count() == 2 and submission.category == "cloud"


def test_dashboard_asks_submitters_to_upload_then_to_fix(roles):
    round_ = open_round()
    register(round_, roles.org)
    page = roles.client("submitter").get("/dashboard/").content.decode()
    assert f"Upload your submission to {round_.name}" in page
    version = services.submission_upload(
        round=round_, organisation=roles.org, division="closed", category="available",
        archive=io.BytesIO(b"\x1f\x8b x"), original_name="p.tar.gz", actor=roles.submitter, source="web",
    )  # fmt: skip
    version.verdict = "failed"
    version.save(update_fields=["verdict"])
    page = roles.client("submitter").get("/dashboard/").content.decode()
    assert f"Your latest upload to {round_.name} failed" in page
    assert "Upload your submission" not in roles.client("chair").get("/dashboard/").content.decode()


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_results_are_public_after_publication_only(roles, role):
    from submissions.models import Score

    for phase in ("after_deadline", "published"):
        submission, _ = _setup(roles, phase)
        version = submission.versions.get()
        version.verdict = "passed"
        version.save(update_fields=["verdict"])
        Score.objects.create(version=version, system="acme-node", benchmark="retinanet", minutes=42.5)
        page = roles.client(role).get(f"/rounds/{submission.round.slug}/results/")
        assert page.status_code == 200
        text = page.content.decode()
        if phase == "published":
            assert "acme-node" in text and "42.50" in text
        else:
            assert "under embargo" in text and "acme-node" not in text
        submission.round.slug = f"old-{phase}"
        submission.round.name = f"Old {phase}"
        submission.round.save(update_fields=["slug", "name"])


def test_failed_versions_have_no_public_results(roles):
    from submissions.models import Score

    submission, _ = _setup(roles, "published")
    version = submission.versions.get()
    version.verdict = "failed"
    version.save(update_fields=["verdict"])
    Score.objects.create(version=version, system="acme-node", benchmark="retinanet", minutes=42.5)
    assert (
        "acme-node" not in roles.client("anonymous").get(f"/rounds/{submission.round.slug}/results/").content.decode()
    )


def test_results_use_the_counting_version_not_a_late_one(roles):
    from submissions.models import Score, SubmissionVersion

    submission, _ = _setup(roles, "published")
    counting = submission.versions.get()
    SubmissionVersion.objects.filter(pk=counting.pk).update(verdict="passed")
    Score.objects.create(version=counting, system="in-time-node", benchmark="retinanet", minutes=40.0)
    late = services.submission_upload(
        round=submission.round, organisation=roles.org, division="closed", category="available",
        archive=io.BytesIO(b"\x1f\x8b late"), original_name="late.tar.gz", actor=roles.submitter,
        source="web", enforce_rules=False,
    )  # fmt: skip
    SubmissionVersion.objects.filter(pk=late.pk).update(in_time=False, verdict="passed")
    Score.objects.create(version=late, system="late-node", benchmark="retinanet", minutes=1.0)
    text = roles.client("anonymous").get(f"/rounds/{submission.round.slug}/results/").content.decode()
    assert "in-time-node" in text and "late-node" not in text
