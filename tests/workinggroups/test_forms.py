"""Bad input on every form: the person sees a clear message, and nothing is saved."""

import datetime as dt
import html

import pytest

from tests.workinggroups.factories import MeetingSeriesFactory, deadline_in, round_with_phases
from workinggroups import selectors
from workinggroups.models import GroupMembership, JoinRequest, MeetingOccurrence, MeetingSeries, Round, RoundPhase

pytestmark = pytest.mark.django_db
M = "/workinggroups/training/manage"


def text(response) -> str:
    return html.unescape(response.content.decode())


def round_data(**changes):
    data = {
        "name": "Training v9.0",
        "slug": "training-v9-0",
        "suite": "training",
        "ruleset": "6.1.0",
        "benchmarks_text": "",
        "divisions": ["closed", "open"],
        "time_zone": "America/Los_Angeles",
        "grace_minutes": "60",
        "description": "",
        "deadline": str(deadline_in(70)),
    }
    return data | changes


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ruleset": "9.9.9"}, "The pinned mlperf-logging package has no training ruleset '9.9.9'; it ships"),
        ({"suite": "hpc", "ruleset": "6.1.0"}, "has no hpc ruleset '6.1.0'"),
        ({"benchmarks_text": "llama31_8b, bert"}, "Not in the training 6.1.0 ruleset: bert."),
        ({"suite": "other"}, "has no mlperf-logging ruleset; leave the ruleset empty"),
        ({"suite": "inference"}, "The inference checker has no inference ruleset '6.1.0'; it ships 5.1."),
        ({"deadline": "2030-05-16"}, "The MLPerf submission deadline is on a Friday; 16 May 2030 is a Thursday."),
        ({"time_zone": "Mars/Olympus"}, "Select a valid choice"),
        ({"name": ""}, "This field is required."),
    ],
)
def test_bad_round_is_refused_with_a_message(roles, changes, message):
    response = roles.client("chair").post(f"{M}/rounds/new/", round_data(**changes))
    assert response.status_code == 400
    assert message in text(response)
    assert "nothing was saved" in text(response)
    assert not Round.objects.exists() and not RoundPhase.objects.exists()


def test_good_round_is_created_with_its_phases(roles):
    response = roles.client("chair").post(f"{M}/rounds/new/", round_data(benchmarks_text="llama31_8b, flux1"))
    assert response.status_code == 302 and response["Location"] == "/rounds/training-v9-0/schedule/"
    round = Round.objects.get()
    assert round.benchmarks == ["llama31_8b", "flux1"] and round.phases.count() == 6


@pytest.fixture
def draft(roles):
    return round_with_phases(group=roles.group, slug="draft", name="Draft", deadline=deadline_in(70), published=False)


def phase_data(round, **changes):
    tz = round.tz
    data = {}
    for phase in round.phases.all():
        data[f"phase-{phase.kind}_start"] = phase.starts_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
        if not phase.is_instant:
            data[f"phase-{phase.kind}_end"] = phase.ends_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
    return data | changes


def test_phases_out_of_order_are_refused(roles, draft):
    before = list(RoundPhase.objects.order_by("kind").values_list("starts_at", "ends_at", "sequence"))
    review = draft.phases.get(kind="objection_review")
    early = (review.starts_at - dt.timedelta(days=4)).astimezone(draft.tz).strftime("%Y-%m-%dT%H:%M")
    response = roles.client("chair").post(
        "/rounds/draft/schedule/", phase_data(draft, **{"phase-objection_review_start": early})
    )
    assert response.status_code == 400
    assert "Objection review starts" in text(response) and "before objection filing closes" in text(response)
    assert "Phases must follow one another in order without overlapping." in text(response)
    assert list(RoundPhase.objects.order_by("kind").values_list("starts_at", "ends_at", "sequence")) == before


def test_phase_ending_before_it_starts_is_refused(roles, draft):
    revision = draft.phases.get(kind="revision")
    end = (revision.starts_at - dt.timedelta(hours=2)).astimezone(draft.tz).strftime("%Y-%m-%dT%H:%M")
    response = roles.client("chair").post("/rounds/draft/schedule/", phase_data(draft, **{"phase-revision_end": end}))
    assert response.status_code == 400
    assert "Revision must end after it starts" in text(response)
    assert RoundPhase.objects.get(pk=revision.pk).ends_at == revision.ends_at


def test_adjusted_times_are_read_in_the_rounds_zone(roles, draft):
    response = roles.client("chair").post(
        "/rounds/draft/schedule/", phase_data(draft, **{"phase-publication_start": "2031-01-08T10:00"})
    )
    assert response.status_code == 302
    publication = draft.phases.get(kind="publication")
    assert publication.starts_at == dt.datetime(2031, 1, 8, 18, tzinfo=dt.UTC)  # 10:00 PST
    assert publication.sequence == 1


def test_publishing_with_a_past_deadline_is_refused(roles):
    old = round_with_phases(group=roles.group, slug="old", name="Old", deadline=dt.date(2020, 5, 15), published=False)
    response = roles.client("chair").post("/rounds/old/publish/", follow=True)
    assert "Not published: The submission deadline (Fri 15 May 2020, 13:00 PDT) is in the past." in text(response)
    old.refresh_from_db()
    assert not old.published


def test_generate_from_a_thursday_is_refused(roles, draft):
    before = list(draft.phases.values_list("starts_at", flat=True))
    response = roles.client("chair").post(
        "/rounds/draft/schedule/generate/",
        {"generate-deadline": "2030-05-16", "generate-deadline_time": "13:00"},
        follow=True,
    )
    assert "The MLPerf submission deadline is on a Friday; 16 May 2030 is a Thursday." in text(response)
    assert list(draft.phases.values_list("starts_at", flat=True)) == before


def series_data(**changes):
    data = {
        "title": "Weekly call",
        "rrule": "FREQ=WEEKLY;BYDAY=TU",
        "starts_on": "2030-01-01",
        "start_time": "09:00",
        "time_zone": "America/Los_Angeles",
        "duration_minutes": "60",
        "ends_on": "2030-12-31",
        "join_link": "https://meet.example.org/x",
    }
    return data | changes


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "This is not a valid recurrence rule (RFC 5545 RRULE)"),
        ({"ends_on": ""}, "This rule never ends. Add COUNT=… or UNTIL=… to the rule, or give the series an end date."),
        ({"rrule": "FREQ=MINUTELY;COUNT=5"}, "FREQ=MINUTELY is not allowed"),
        ({"duration_minutes": "0"}, "Enter a duration between 5 and 1440 minutes."),
        ({"join_link": "not a link"}, "Enter a valid URL."),
    ],
)
def test_bad_meeting_series_is_refused(roles, changes, message):
    response = roles.client("chair").post(f"{M}/meetings/", series_data(**changes))
    assert response.status_code == 400
    assert message in text(response)
    assert not MeetingSeries.objects.exists()


def test_good_meeting_series_is_created(roles):
    response = roles.client("chair").post(f"{M}/meetings/", series_data(rrule="rrule:freq=weekly;byday=tu"))
    assert response.status_code == 302
    assert MeetingSeries.objects.get().rrule == "FREQ=WEEKLY;BYDAY=TU"


def test_meeting_cannot_be_cancelled_and_moved(roles):
    series = MeetingSeriesFactory(
        group=roles.group, starts_on=dt.date.today(), ends_on=None, rrule="FREQ=WEEKLY;COUNT=5"
    )
    meeting = selectors.group_upcoming_meetings(roles.group)[0]
    response = roles.client("chair").post(
        f"{M}/meetings/{series.pk}/{meeting.key}/", {"cancelled": "on", "moved_to": "2030-01-01T10:00"}
    )
    assert response.status_code == 400
    assert "A cancelled meeting cannot also be moved; choose one." in text(response)
    assert not MeetingOccurrence.objects.exists()


def test_join_request_twice_shows_why(roles):
    member = roles.client("member")
    assert member.post("/workinggroups/training/join/", {"message": "Hello"}).status_code == 302
    response = member.post("/workinggroups/training/join/", {"message": "Again"})
    assert response.status_code == 400
    assert "its chairs have not decided yet" in text(response)
    assert JoinRequest.objects.count() == 1


def test_join_request_message_too_long(roles):
    response = roles.client("member").post("/workinggroups/training/join/", {"message": "x" * 2001})
    assert response.status_code == 400
    assert "Ensure this value has at most 2000 characters" in text(response)
    assert not JoinRequest.objects.exists()


def test_decline_without_reason_is_refused(roles):
    request = JoinRequest.objects.create(group=roles.group, person=roles.member.person)
    response = roles.client("chair").post(f"{M}/requests/{request.pk}/decline/", {"reason": ""}, follow=True)
    assert "Give a reason: the applicant reads it in the email." in text(response)
    request.refresh_from_db()
    assert request.is_open


def test_adding_an_unknown_person_is_refused(roles):
    response = roles.client("chair").post(f"{M}/members/", {"add-email": "nobody@nowhere.test", "add-role": "member"})
    assert response.status_code == 400
    assert "Nobody with the address nobody@nowhere.test has an account on the portal." in text(response)
    assert GroupMembership.objects.count() == 1


def test_registration_without_contacts_is_refused(roles):
    round_with_phases(group=roles.group, slug="open", name="Open", deadline=deadline_in(70))
    response = roles.client("submitter").post("/rounds/open/register/", {})
    assert response.status_code == 400
    assert "Name at least one contact (a person with the submitter role)." in text(response)
    response = roles.client("submitter").post("/rounds/open/register/", {"contacts": [roles.member.person.pk]})
    assert response.status_code == 400
    assert "Select a valid choice" in text(response)
    assert not Round.objects.get(slug="open").registrations.exists()
