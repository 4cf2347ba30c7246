import pytest

from tests.results.factories import two_rounds


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def rounds(roles):
    return two_rounds(roles.group, roles.org)
