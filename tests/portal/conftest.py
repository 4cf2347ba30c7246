import pytest
from django.utils import timezone

from consortium.licensing.demo import seed_licensing
from consortium.members.demo import seed_members
from consortium.portal.scale import ScaleCounts, seed_scale
from submissions.demo import seed_pools
from workinggroups.demo import seed_workinggroups


def _quiet(*_args) -> None:
    pass


@pytest.fixture
def scale_world(db, settings):
    """Builds the demo data (members, working groups, pools, licensing; no real uploads) and the
    scale data of the given counts on top. Call it again with larger counts to add rows."""
    settings.DEMO_MODE = True

    def build(counts: ScaleCounts) -> None:
        today = timezone.localdate()
        seed_members(today=today, log=_quiet)
        seed_workinggroups(today=today, log=_quiet)
        seed_pools()
        seed_licensing(today=today, log=_quiet)
        seed_scale(counts=counts, today=today, log=_quiet)

    return build
