"""Licensing fixtures: the roles of tests/conftest.py, with the dataset admin allowed into the admin
in demo mode (as the seeded licensing@example.org is), and mail kept in memory."""

import pytest
from django.contrib.auth.models import Group

from consortium.common.permissions import DATASET_ADMINS_GROUP
from tests.conftest import with_mfa
from tests.factories import PersonFactory, UserFactory


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def lroles(roles):
    """`roles`, with the dataset admin marked as a demo account (the staff MFA middleware lets demo
    accounts into the admin in demo mode, which tests run in)."""
    person = roles.dataset_admin.person
    person.is_demo = True
    person.save(update_fields=["is_demo"])
    return roles


@pytest.fixture
def other_staff(db):
    """Staff, but neither superuser nor dataset admin: licensing admin must stay closed."""
    user = UserFactory(email="otherstaff@test.example", is_staff=True)
    PersonFactory(user=user, full_name="Otto Other", is_demo=True)
    return with_mfa(user)  # past the MFA check: the licensing admin itself must refuse


@pytest.fixture
def dataset_admin(db):
    user = UserFactory(email="dsadmin@test.example", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=DATASET_ADMINS_GROUP)[0])
    PersonFactory(user=user, full_name="Dee Admin", is_demo=True)
    return user
