"""Shared fixtures: one user per role, logged-in clients, and the paths of shared data."""

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from consortium.common.permissions import DATASET_ADMINS_GROUP
from consortium.members.models import OrganisationRole
from tests.factories import MembershipFactory, OrganisationFactory, PersonFactory, UserFactory, member_of

SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"
MLPERF_DIR = SHARED_DIR / "mlperf"

Role = OrganisationRole.Role
ROLE_NAMES = ["anonymous", "member", "submitter", "primary", "chair", "dataset_admin", "staff"]


@dataclass
class Roles:
    """One user per portal role. `org` is the organisation of member, submitter and primary;
    `other_org` is the chair's (a different one, so cross-organisation rules are exercised)."""

    org: object
    other_org: object
    member: object
    submitter: object
    primary: object
    chair: object
    dataset_admin: object
    staff: object
    group: object = None  # the working group "Training" (slug "training") that `chair` chairs

    def user(self, name: str):
        return None if name == "anonymous" else getattr(self, name)

    def client(self, name: str) -> Client:
        client = Client()
        user = self.user(name)
        if user is not None:
            client.force_login(user)
        return client


@pytest.fixture(autouse=True)
def _outbox_delivers_in_process(request, monkeypatch):
    """Without a worker, the outbox's after-commit announcement delivers in this process, exactly as
    the `common.outbox_send` task would (same function). Tests marked `real_outbox` keep the real
    announcement to the broker (tests/common/test_outbox_smtp.py drives real worker processes)."""
    if request.node.get_closest_marker("real_outbox"):
        return
    from consortium.common import mail as outbox

    def deliver_now(message_ids):
        for pk in message_ids:
            outbox.outbox_deliver(message_id=pk)

    monkeypatch.setattr(outbox, "_dispatch", deliver_now)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and allauth's email cooldowns live in the (local) cache: no test sees another's."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def roles(db) -> Roles:
    org = MembershipFactory(organisation=OrganisationFactory(name="Acme AI", slug="acme")).organisation
    other = MembershipFactory(organisation=OrganisationFactory(name="Globex", slug="globex")).organisation
    dataset_admin = UserFactory(email="licensing@test.example", is_staff=True)
    dataset_admin.groups.add(Group.objects.get_or_create(name=DATASET_ADMINS_GROUP)[0])
    PersonFactory(user=dataset_admin, full_name="Dana Dataset")
    staff = UserFactory(email="staff@test.example", is_staff=True, is_superuser=True)
    PersonFactory(user=staff, full_name="Stef Staff", is_demo=True)
    roles = Roles(
        org=org,
        other_org=other,
        member=member_of(org, email="member@acme.test").user,
        submitter=member_of(org, Role.SUBMITTER, email="submitter@acme.test").user,
        primary=member_of(org, Role.PRIMARY_CONTACT, email="primary@acme.test").user,
        chair=member_of(other, email="chair@globex.test").user,
        dataset_admin=dataset_admin,
        staff=staff,
    )
    roles.group = _chaired_group(roles.chair)
    # Staff pages and chair powers need MFA (consortium/portal/middleware.py): the fixture's holders of
    # powers have a TOTP authenticator, as they must in production.
    for holder in (roles.staff, roles.dataset_admin, roles.chair):
        with_mfa(holder)
    return roles


def with_mfa(user):
    """Gives `user` a TOTP authenticator (what /accounts/2fa/totp/activate/ creates)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(user, generate_totp_secret())
    return user


def _chaired_group(chair):
    """The chair user chairs the working group "Training" (slug "training")."""
    from workinggroups.models import GroupMembership, WorkingGroup

    group = WorkingGroup.objects.create(
        name="Training", slug="training", area=WorkingGroup.Area.BENCHMARKS, purpose="MLPerf Training"
    )
    GroupMembership.objects.create(group=group, person=chair.person, role=GroupMembership.Role.CHAIR)
    return group


@pytest.fixture
def mlperf_dir() -> Path:
    if not MLPERF_DIR.is_dir():
        pytest.skip(f"real MLPerf data not present at {MLPERF_DIR}")
    return MLPERF_DIR
