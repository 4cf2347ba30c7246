"""Bad input on members pages: errors shown in place, the typed input kept, nothing half-saved."""

import pytest

from consortium.members.models import Invitation, Person
from tests.factories import member_of

pytestmark = pytest.mark.django_db


def test_invitation_outside_domains_shows_error_and_keeps_input(roles):
    response = roles.client("primary").post(
        "/members/organisations/acme/roster/", {"email": "friend@gmail.test", "roles": ["submitter"]}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "is not at one of Acme AI&#x27;s email domains" in html
    assert 'value="friend@gmail.test"' in html  # what the user typed is still there
    assert not Invitation.objects.exists()


def test_invitation_outside_domains_with_confirmation_is_sent(roles, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = roles.client("primary").post(
            "/members/organisations/acme/roster/",
            {"email": "friend@gmail.test", "confirm_outside_domains": "on"},
        )
    assert response.status_code == 302
    assert Invitation.objects.get().outside_domains
    assert mailoutbox[0].to == ["friend@gmail.test"]


def test_invalid_email_is_refused_in_place(roles):
    response = roles.client("primary").post("/members/organisations/acme/roster/", {"email": "not-an-email"})
    assert response.status_code == 400 and "Enter a valid email address." in response.content.decode()


def test_unknown_role_in_grant_form_is_refused(roles):
    colleague = member_of(roles.org)
    response = roles.client("primary").post(
        f"/members/organisations/acme/roster/people/{colleague.pk}/roles/grant/",
        {"role": "emperor"},
        follow=True,
    )
    assert "Choose one of the listed roles." in response.content.decode()
    assert not colleague.roles.exists()


def test_removing_last_primary_contact_shows_message(roles):
    primary = roles.primary.person
    response = roles.client("primary").post(
        f"/members/organisations/acme/roster/people/{primary.pk}/remove/", {"reason": "x"}, follow=True
    )
    assert "is the last primary contact of Acme AI" in response.content.decode()
    primary.refresh_from_db()
    assert primary.organisation == roles.org


def test_person_of_other_organisation_is_not_found_in_this_roster(roles):
    outsider = member_of(roles.other_org)
    response = roles.client("primary").post(
        f"/members/organisations/acme/roster/people/{outsider.pk}/remove/", {"reason": "x"}
    )
    assert response.status_code == 404


def test_bad_github_handle_is_refused_and_name_kept(roles):
    response = roles.client("member").post(
        "/members/profile/", {"full_name": "Mel New Name", "github_handle": "-bad--handle-"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "A GitHub handle has up to 39 letters" in html and 'value="Mel New Name"' in html
    assert Person.objects.get(user=roles.member).full_name != "Mel New Name"


def test_profile_saves(roles):
    response = roles.client("member").post("/members/profile/", {"full_name": "Mel", "github_handle": "@mel-m"})
    assert response.status_code == 302
    person = Person.objects.get(user=roles.member)
    assert (person.full_name, person.github_handle) == ("Mel", "mel-m")


def test_expired_or_unknown_invitation_link_says_so(roles):
    response = roles.client("member").get("/members/invitations/not-a-real-token/")
    assert response.status_code == 404 and "This invitation link is not valid" in response.content.decode()


def test_accepting_someone_elses_invitation_shows_message(roles):
    from consortium.members.services import invitation_create

    _, token = invitation_create(organisation=roles.org, email="new@acme.test", roles=[], actor=roles.primary)
    response = roles.client("chair").post(f"/members/invitations/{token}/")
    assert response.status_code == 400
    assert "This invitation is for new@acme.test" in response.content.decode()


def test_directory_filters_and_htmx_partial(roles):
    client = roles.client("member")
    full = client.get("/members/", {"q": "acme"}).content.decode()
    assert "Acme AI" in full and "Globex" not in full
    partial = client.get("/members/", {"kind": "academic"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "No organisation matches these filters." in partial
    by_status = client.get("/members/", {"status": "active"}).content.decode()
    assert "Acme AI" in by_status and "Globex" in by_status
