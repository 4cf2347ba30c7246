"""Findings read root cause first: package, then systems, then files; repeated findings grouped; the
official tool's messages in the package's own paths."""

import io
from types import SimpleNamespace

import pytest

from submissions import services
from submissions.checks import official_words
from submissions.models import Finding
from submissions.presentation import findings_grouped
from tests.submissions.factories import open_round, register

SCRATCH = "/tmp/official-abc123/Acme"


def _f(path, line, message, severity="error", check="log.malformed_record", kind="result_files"):
    return SimpleNamespace(path=path, line=line, message=message, severity=severity, check_id=check,
                           run=SimpleNamespace(kind=kind))  # fmt: skip


def test_groups_put_package_then_systems_then_files_first():
    findings = [
        _f("results/s1/bert/result_0.txt", 1, "bad line"),
        _f("results/a/bert/result_0.txt", 2, "only a warning", severity="warning"),
        _f("systems/s2.json", None, "missing", kind="system_descriptions"),
        _f("", None, "wrong number of result files", kind="package_rules"),
    ]
    groups = findings_grouped(findings)
    assert [g.title for g in groups] == [
        "The package as a whole",
        "systems/s2.json",
        "results/s1/bert/result_0.txt",  # has an error: before the file with only a warning
        "results/a/bert/result_0.txt",
    ]


def test_repeated_finding_is_one_row_with_its_lines():
    findings = [_f("results/s1/bert/result_0.txt", n, "bad line") for n in (9, 3, 5)]
    findings.append(_f("results/s1/bert/result_0.txt", 4, "other", severity="advisory"))
    (group,) = findings_grouped(findings)
    assert [(r.finding.message, r.lines, r.count) for r in group.rows] == [
        ("bad line", [3, 5, 9], 3),
        ("other", [4], 1),
    ]
    assert group.errors == 3 and group.total == 4


def test_official_missing_file_is_said_in_package_paths():
    words = official_words(
        f"FileNotFoundError: [Errno 2] No such file or directory: '{SCRATCH}/systems/s2.json'", SCRATCH
    )
    assert words["path"] == "systems/s2.json"
    assert "FileNotFoundError" not in words["message"] and "/tmp" not in words["message"]
    assert words["message"].startswith("The system description systems/s2.json is missing")


def test_official_messages_lose_scratch_paths_and_python_lists():
    assert official_words(f"Checking {SCRATCH}/results/s1 failed", SCRATCH)["message"] == "Checking results/s1 failed"
    words = official_words(
        "  System description checker failed for  : ['Missing field division', 'Missing field status']", SCRATCH
    )
    assert words["message"] == "A system description lacks required fields: division, status."


@pytest.mark.django_db
def test_submission_page_lists_the_missing_system_description_before_result_files(roles, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    round_ = open_round()
    register(round_, roles.org)
    version = services.submission_upload(
        round=round_, organisation=roles.org, division="closed", category="available",
        archive=io.BytesIO(b"\x1f\x8b x"), original_name="p.tar.gz", actor=roles.submitter, source="web",
        enforce_rules=False,
    )  # fmt: skip
    run = version.check_runs.first()
    path = "results/s1/bert/result_0.txt"
    for n in range(3):
        Finding.objects.create(run=run, severity="error", check_id="log.malformed_record", path=path, line=n + 1,
                               message="Not an MLLOG line.")  # fmt: skip
    Finding.objects.create(run=run, severity="error", check_id="official.crash", path="systems/s2.json",
                           message="The system description systems/s2.json is missing.")  # fmt: skip
    page = roles.client("submitter").get(f"/submissions/{version.submission_id}/").content.decode()
    assert page.index("systems/s2.json is missing") < page.index("Not an MLLOG line.")
    assert page.count("Not an MLLOG line.") == 1
    assert "1, 2, 3" in page and "(3 times)" in page
