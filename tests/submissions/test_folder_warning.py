"""An upload whose top folder is another organisation's results folder gets a warning (Krai's package
uploaded by NVIDIA); the organisation's own folder gets none."""

import io

import pytest

from submissions import services
from submissions.models import CheckKind, CheckRun, Finding
from tests.factories import MembershipFactory, OrganisationFactory
from tests.submissions.factories import open_round, register, submitter_of, tar_gz_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def _unpack(tmp_path, folder: str):
    nvidia = MembershipFactory(organisation=OrganisationFactory(name="NVIDIA", slug="nvidia", results_folder="NVIDIA"))
    MembershipFactory(organisation=OrganisationFactory(name="Krai", slug="krai", results_folder="Krai"))
    round_ = open_round()
    register(round_, nvidia.organisation)
    pkg = tmp_path / folder
    (pkg / "systems").mkdir(parents=True)
    (pkg / "results").mkdir()
    (pkg / "systems" / "s1.json").write_text("{}")
    version = services.submission_upload(
        round=round_, organisation=nvidia.organisation, division="closed", category="available",
        archive=io.BytesIO(tar_gz_of(pkg)), original_name="p.tar.gz",
        actor=submitter_of(nvidia.organisation, "sub@nvidia.test"), source="api",
    )  # fmt: skip
    run = version.check_runs.get(kind=CheckKind.UNPACK)
    services.check_run_execute(run_id=run.pk, attempt=1, worker="w")
    run.refresh_from_db()
    return run


def test_another_organisations_folder_is_warned_about(tmp_path):
    run = _unpack(tmp_path, "Krai")
    assert run.state == CheckRun.State.PASSED  # a warning, not a refusal
    finding = Finding.objects.get(run=run, check_id="unpack.other_organisation")
    assert finding.severity == "warning"
    assert finding.message == (
        "The package's top folder Krai/ is the results folder of Krai, not of NVIDIA (expected NVIDIA/). "
        "Check that this is the right package."
    )


def test_own_folder_gets_no_warning(tmp_path):
    run = _unpack(tmp_path, "NVIDIA")
    assert not Finding.objects.filter(run=run, check_id="unpack.other_organisation").exists()
