"""The typed entry of every predicate: `signed_in` narrows a Viewer to a User, and whoever has no
account (the anonymous visitor, or None from a caller without a request) is judged as anonymous."""

import pytest
from django.contrib.auth.models import AnonymousUser

from consortium.members.permissions import is_staff_admin, person_of, signed_in
from tests.factories import UserFactory


@pytest.mark.django_db
def test_signed_in_is_true_for_an_account_only():
    assert signed_in(UserFactory()) is True
    assert signed_in(AnonymousUser()) is False
    assert signed_in(None) is False  # not a Viewer, but tolerated as the predicates always did


@pytest.mark.django_db
def test_anonymous_and_none_have_no_person_and_no_staff_rights():
    for nobody in (AnonymousUser(), None):
        assert person_of(nobody) is None
        assert is_staff_admin(nobody) is False


@pytest.mark.django_db
def test_inactive_superuser_is_not_staff_admin():
    assert is_staff_admin(UserFactory(is_superuser=True)) is True
    assert is_staff_admin(UserFactory(is_superuser=True, is_active=False)) is False
