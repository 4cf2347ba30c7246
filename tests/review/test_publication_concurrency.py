"""Two publication runs at the same moment (two beat processes, say) publish once: the round row is
locked, the Publication is one per round, result IDs are unique. Real threads, real transactions."""

import threading

import pytest
from django.db import connection

from submissions.review import services
from submissions.review.models import Publication, PublishedResult
from tests.review.conftest import make_review

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_two_concurrent_publication_runs_publish_once(roles):
    review = make_review(roles, phase="published")
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            outcomes.append(services.round_publish(round=review.round).pk)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert Publication.objects.filter(round=review.round).count() == 1
    assert PublishedResult.objects.filter(round=review.round).count() == 3
    assert len(outcomes) == 2 and len(set(outcomes)) == 1  # both get the one publication
