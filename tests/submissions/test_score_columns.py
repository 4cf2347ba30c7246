"""Scores in the portal are the engine's (the official result summarizer's): minutes, and the
summarizer's system name, accelerator and accelerator count, stored and shown on the results page."""

import io
import json

import pytest
from django.test import Client

from submissions import services
from submissions.compliance import check_package
from submissions.models import SubmissionVersion
from tests.compliance.logs import write_package
from tests.factories import MembershipFactory, OrganisationFactory
from tests.submissions.factories import open_round, register, submitter_of, tar_gz_of
from tests.submissions.test_pages_permissions import PHASES
from tests.submissions.test_pipeline import _drain

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_stored_scores_are_the_engines_with_the_summarizers_system_columns(tmp_path):
    org = MembershipFactory(
        organisation=OrganisationFactory(name="Acme", slug="acme", results_folder="Acme")
    ).organisation
    round_ = open_round(**PHASES["published"])
    register(round_, org)
    pkg = write_package(tmp_path / "Acme")
    desc = json.loads((pkg / "systems" / "acme8.json").read_text())
    (pkg / "systems" / "acme8.json").write_text(json.dumps({**desc, "system_name": "Acme Eight"}))
    version = services.submission_upload(
        round=round_, organisation=org, division="closed", category="available", archive=io.BytesIO(tar_gz_of(pkg)),
        original_name="Acme.tar.gz", actor=submitter_of(org, "sub@acme.test"), source="api", enforce_rules=False,
    )  # fmt: skip
    _drain(version)
    version.refresh_from_db()
    assert version.verdict == SubmissionVersion.Verdict.PASSED
    [engine] = check_package(pkg, "training", "5.1.0").scores
    [score] = version.scores.all()
    assert score.to_dict() == engine.to_dict()
    assert (score.system, score.system_name, score.accelerator, score.accelerator_count) == (
        "acme8",
        "Acme Eight",
        "Acme X",
        8,
    )
    page = Client().get(f"/rounds/{round_.slug}/results/").content.decode()
    assert "<td>Acme Eight</td><td>8 × Acme X</td>" in page
    assert f"{engine.minutes:.2f}" in page
