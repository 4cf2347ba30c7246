"""What a new user reads: Django pluralisation, one voice ("Log in"), mails that name the portal,
role names as people read them, each round's time zone with UTC beside it, results pages that say
what is true, a revoked grant shown as revoked."""

import datetime as dt
import re

import pytest
from django.core import mail

from consortium.licensing.models import Grant
from consortium.members import services as members
from consortium.members.models import Person
from tests.factories import PersonFactory, UserFactory
from tests.licensing.factories import DatasetFactory, grant
from tests.submissions.factories import open_round
from workinggroups.templatetags.workinggroups_tags import in_zone

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_one_person_asking_to_join_is_one_person(roles):
    PersonFactory(
        user=UserFactory(email="new@acme.test"), organisation=roles.org, affiliation=Person.Affiliation.PENDING
    )
    page = text(roles.client("primary").get("/dashboard/"))
    assert "1 person asks to join Acme AI" in page and "1 people" not in page


def test_login_page_says_log_in_in_the_portals_voice(client):
    page = text(client.get("/accounts/login/"))
    assert "Log in" in page and "Sign In" not in page and "Sign in" not in page


def test_signup_mail_greets_with_the_portals_name(client, settings, django_capture_on_commit_callbacks):
    settings.SITE_NAME = "Consortium Portal"
    with django_capture_on_commit_callbacks(execute=True):  # account mail goes through the outbox
        client.post(
            "/accounts/signup/",
            {
                "full_name": "Nia New",
                "email": "nia@new.test",
                "password1": "a-long-enough-pw",
                "password2": "a-long-enough-pw",
            },
        )
    body = mail.outbox[-1].body
    assert body.startswith("Hello from Consortium Portal!") and "Hello from testserver" not in body


def test_invitation_names_roles_as_people_read_them(roles, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _, token = members.invitation_create(
            organisation=roles.org, email="colleague@acme.test", roles=["submitter", "signatory"], actor=roles.primary
        )
    page = text(roles.client("primary").get("/members/organisations/acme/roster/"))
    assert "<td>Signatory, Submitter</td>" in page and "signatory, submitter" not in page
    assert "with the roles Signatory, Submitter" in mail.outbox[-1].body
    assert "with the roles Signatory, Submitter" in text(
        roles.client("anonymous").get(f"/members/invitations/{token}/")
    )


def test_round_times_show_their_zone_with_utc_beside():
    moment = dt.datetime(2027, 5, 14, 20, 0, tzinfo=dt.UTC)
    assert in_zone(moment, "America/Los_Angeles") == "Fri 14 May 2027, 13:00 PDT (20:00 UTC)"
    late = dt.datetime(2027, 5, 15, 6, 0, tzinfo=dt.UTC)
    assert in_zone(late, "America/Los_Angeles") == "Fri 14 May 2027, 23:00 PDT (Sat 15 May, 06:00 UTC)"
    assert in_zone(moment, "UTC") == "Fri 14 May 2027, 20:00 UTC"


def test_upload_page_gives_the_deadline_in_the_rounds_zone_and_utc(roles):
    from tests.submissions.factories import register

    round_ = open_round()
    register(round_, roles.org)
    page = text(roles.client("submitter").get(f"/rounds/{round_.slug}/upload/"))
    assert re.search(r"Uploads are accepted until \w{3} \d\d \w{3} \d{4}, \d\d:\d\d P[SD]T \(", page)
    assert ".." not in page.replace("...", "")


def test_results_page_of_an_inference_round_does_not_speak_of_training(roles):
    round_ = open_round(slug="inference-v9", suite="inference", deadline_in=dt.timedelta(days=-40),
                        publication_in=dt.timedelta(days=-1))  # fmt: skip
    page = text(roles.client("anonymous").get(f"/rounds/{round_.slug}/results/"))
    assert "time to train" not in page.lower()
    assert "no ruleset in the portal yet" in page


def test_published_results_without_scores_say_so(roles):
    round_ = open_round(deadline_in=dt.timedelta(days=-40), publication_in=dt.timedelta(days=-1))
    page = text(roles.client("anonymous").get(f"/rounds/{round_.slug}/results/"))
    assert "The results are published" in page and "no submission of this round has a passing" in page
    assert "No scored results" not in page


def test_revoked_grant_is_shown_as_revoked(roles):
    dataset = DatasetFactory(slug="revoked-one")
    grant(dataset, person=roles.member.person, state=Grant.State.REVOKED, reason="Misuse.",
          ended_at=dt.datetime.now(dt.UTC))  # fmt: skip
    page = text(roles.client("member").get("/datasets/revoked-one/"))
    assert "Access revoked" in page and "No access yet" not in page
    assert "access was revoked: Misuse." in page and "Misuse.." not in page


def test_an_inference_round_names_the_inference_checker_not_mlperf_logging(roles):
    checked = open_round(slug="inference-v5-1", suite="inference")
    type(checked).objects.filter(pk=checked.pk).update(ruleset="5.1")
    page = text(roles.client("anonymous").get(f"/rounds/{checked.slug}/"))
    assert "checked with the inference checker" in page and "ruleset 5.1" in page
    assert "mlperf-logging" not in page
    training = text(roles.client("anonymous").get(f"/rounds/{open_round().slug}/"))
    assert "checked with mlperf-logging ruleset 5.1.0" in training


def test_the_no_ruleset_advisory_does_not_say_only_mlperf_logging(tmp_path):
    from submissions.checks import generic_systems_check

    [advisory] = [f for f in generic_systems_check(tmp_path).findings if f["check"] == "generic.no_ruleset"]
    assert "names no ruleset" in advisory["message"] and "the inference checker's for inference" in advisory["message"]


def test_the_round_form_says_which_tool_ships_each_suites_rulesets(roles):
    form = text(roles.client("chair").get(f"/workinggroups/{roles.group.slug}/manage/rounds/new/"))
    assert "inference 5.1" in form and "inference: the inference checker's" in form
    assert "shipped by the pinned mlperf-logging package: " not in form
