"""Each kind of rule, on rule files and logs written by the tests, compared with the official
checker run in process on the same files (no real data needed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from submissions.compliance import Check, FileReport, check_file
from tests.compliance.logs import Log, mllog

Runner = Callable[[dict[str, str], Log | str], tuple[FileReport, str]]


@pytest.fixture
def run(tmp_path: Path, custom_rules, official_custom) -> Runner:
    def go(configs: dict[str, str], log: Log | str) -> tuple[FileReport, str]:
        root = custom_rules(configs)
        path = tmp_path / "result_0.txt"
        path.write_text(log if isinstance(log, str) else log.text())
        report = check_file(path, "training", "5.1.0")
        return report, official_custom(path, root)

    return go


def checks(report: FileReport) -> set[str]:
    return {f.check for f in report.findings if f.severity == "error"}


def events(*keys: str) -> Log:
    log = Log()
    for k in keys:
        log.event(k, 1)
    return log


REQ = """
- KEY:
    NAME: a
    REQ: {req}
- KEY:
    NAME: b
    REQ: OPTIONAL
"""


@pytest.mark.parametrize(
    ("req", "keys", "expected"),
    [
        ("EXACTLY_ONE", ("a",), "pass"),
        ("EXACTLY_ONE", (), "fail"),
        ("EXACTLY_ONE", ("a", "a"), "pass"),  # equal values: a warning only
        ("AT_LEAST_ONE", ("a", "a", "a"), "pass"),
        ("AT_LEAST_ONE", ("b",), "fail"),
        ("AT_LEAST(2)", ("a",), "fail"),
        ("AT_LEAST(2)", ("a", "a"), "pass"),
        ("OPTIONAL", (), "pass"),
        ("OPTIONAL", ("a", "a"), "pass"),
    ],
)
def test_req_counts_agree_with_official(run: Runner, req: str, keys: tuple[str, ...], expected: str) -> None:
    report, official = run({"root.yaml": REQ.format(req=req)}, events("b", *keys))
    assert report.verdict == official == expected


def test_exactly_one_with_different_values_fails_on_the_second_line(run: Runner) -> None:
    log = Log().event("a", 1).event("x").event("a", 2)
    report, official = run({"root.yaml": REQ.format(req="EXACTLY_ONE")}, log)
    assert official == report.verdict == "fail"
    [finding] = [f for f in report.findings if f.check == Check.RULE_EXACTLY_ONE]
    assert finding.line == 3
    assert finding.key == "a"


def test_exactly_one_duplicate_with_equal_values_is_a_warning(run: Runner) -> None:
    report, official = run({"root.yaml": REQ.format(req="EXACTLY_ONE")}, events("a", "a"))
    assert official == report.verdict == "pass"
    assert [f.severity for f in report.findings if f.check == Check.RULE_DUPLICATE] == ["warning"]


ALTERNATIVES = """
- KEY:
    NAME: block_start
    REQ: AT_LEAST_ONE_OR(epoch_start)
- KEY:
    NAME: epoch_start
    REQ: AT_LEAST_ONE_OR(block_start)
"""


@pytest.mark.parametrize(
    ("keys", "expected"), [(("block_start",), "pass"), (("epoch_start",), "pass"), (("other",), "fail")]
)
def test_at_least_one_or(run: Runner, keys: tuple[str, ...], expected: str) -> None:
    report, official = run({"root.yaml": ALTERNATIVES}, events(*keys))
    assert report.verdict == official == expected
    if expected == "fail":
        assert Check.RULE_ONE_OF in checks(report)


def test_at_least_one_or_naming_an_unknown_key_crashes_officially_and_fails_here(run: Runner) -> None:
    config = """
- KEY:
    NAME: a
    REQ: AT_LEAST_ONE_OR(nothere)
"""
    report, official = run({"root.yaml": config}, events("x"))
    assert official == "crash"
    assert report.verdict == "fail"
    assert report.official_crash


CHECKS = """
- KEY:
    NAME: a
    CHECK:
        - "v['value'] > 0"
        - "v['metadata']['file'] == 'train.py'"
- KEY:
    NAME: b
    CHECK: " v['value'] == 'x' "
"""


@pytest.mark.parametrize(
    ("lines", "expected", "check"),
    [
        ([("a", 1), ("b", "x")], "pass", None),
        ([("a", 0), ("b", "x")], "fail", Check.RULE_CHECK),
        ([("a", 1), ("b", "y")], "fail", Check.RULE_CHECK),
        ([("a", "text"), ("b", "x")], "fail", Check.RULE_CHECK_ERROR),  # '>' raises TypeError
    ],
)
def test_check_expressions(run: Runner, lines: list[tuple[str, object]], expected: str, check: str | None) -> None:
    log = Log()
    for key, value in lines:
        log.event(key, value)
    report, official = run({"root.yaml": CHECKS}, log)
    assert report.verdict == official == expected
    if check:
        [finding] = [f for f in report.findings if f.severity == "error"]
        assert finding.check == check
        assert finding.line is not None


def test_check_failure_points_at_the_real_line_number(run: Runner) -> None:
    text = "some training output\n\n0: " + mllog("b", "y") + "\nmore output\n"
    report, official = run({"root.yaml": CHECKS}, text)
    assert official == report.verdict == "fail"
    assert [f.line for f in report.findings if f.check == Check.RULE_CHECK] == [3]


STATEFUL = """
- BEGIN:
    CODE: " s.update({'started': False, 'n': 0}) "
- KEY:
    NAME: start
    REQ: EXACTLY_ONE
    CHECK: " not s['started'] "
    POST: " s['started'] = True "
- KEY:
    NAME: step
    PRE: " s['n'] += 1 "
    CHECK: " s['started'] "
- END:
    PRE: " total = s['n'] "
    CHECK: " total >= 2 "
"""


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (("start", "step", "step"), "pass"),
        (("step", "start", "step"), "fail"),  # CHECK sees the state PRE/POST left
        (("start", "step"), "fail"),  # END CHECK sees END PRE's global
    ],
)
def test_begin_pre_post_end_state(run: Runner, keys: tuple[str, ...], expected: str) -> None:
    report, official = run({"root.yaml": STATEFUL}, events(*keys))
    assert report.verdict == official == expected


def test_end_check_failure_is_reported(run: Runner) -> None:
    report, _ = run({"root.yaml": STATEFUL}, events("start", "step"))
    assert Check.RULE_END_CHECK in checks(report)


FIRST_AND_ATLEAST = """
- KEY:
    NAME: acc
    REQ: AT_LEAST_ONE
    FIRST_CHECK: " v['value'] < 0.5 "
    ATLEAST_ONE_CHECK: " v['value'] >= 0.9 "
"""


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ((0.1, 0.5, 0.95), "pass"),
        ((0.6, 0.95), "fail"),  # the first value fails FIRST_CHECK
        ((0.1, 0.5, 0.8), "fail"),  # none reaches the target
    ],
)
def test_first_check_and_at_least_one_check(run: Runner, values: tuple[float, ...], expected: str) -> None:
    log = Log()
    for v in values:
        log.event("acc", v)
    report, official = run({"root.yaml": FIRST_AND_ATLEAST}, log)
    assert report.verdict == official == expected


def test_at_least_one_check_that_raises_crashes_officially_and_fails_here(run: Runner) -> None:
    log = Log().event("acc", 0.1).event("acc", "high")
    report, official = run({"root.yaml": FIRST_AND_ATLEAST}, log)
    assert official == "crash"
    assert report.verdict == "fail" and report.official_crash


ONCE = """
- KEY:
    NAME: submission_benchmark
    REQ: EXACTLY_ONE
    POST: " s['n'] = s.get('n', 0) + 1 "
    CHECK: " s.get('n', 0) == 0 "
- KEY:
    NAME: other_key
    POST: " s['m'] = s.get('m', 0) + 1 "
    CHECK: " s.get('m', 0) == 0 "
"""


def test_submission_keys_run_their_code_once(run: Runner) -> None:
    # a second submission_benchmark is not re-checked (a warning for the duplicate only);
    # a second other_key is, and fails
    report, official = run({"root.yaml": ONCE}, events("submission_benchmark", "submission_benchmark"))
    assert report.verdict == official == "pass"
    report, official = run({"root.yaml": ONCE}, events("other_key", "other_key"))
    assert report.verdict == official == "fail"


ENQUEUE = {
    "root.yaml": """
- KEY:
    NAME: submission_division
    REQ: EXACTLY_ONE
    POST: " enqueue_config('{RULES}/' + v['value'] + '.yaml') "
- KEY:
    NAME: a
    REQ: EXACTLY_ONE
    CHECK: " v['value'] == 1 "
""",
    "closed.yaml": """
- KEY:
    NAME: a
    REQ: EXACTLY_ONE
    CHECK: " v['value'] == 2 "
""",
    "open.yaml": """
- KEY:
    NAME: b
    REQ: AT_LEAST_ONE
""",
}


@pytest.mark.parametrize(
    ("division", "a", "expected"),
    [
        ("closed", 2, "pass"),  # closed.yaml names 'a': root's failure on it is overwritten
        ("closed", 1, "fail"),
        ("open", 1, "fail"),  # open.yaml requires 'b'
        ("missing", 1, "crash"),  # a config that does not exist
    ],
)
def test_enqueued_configs_and_overwritten_messages(run: Runner, division: str, a: int, expected: str) -> None:
    log = Log().event("submission_division", division).event("a", a)
    report, official = run(ENQUEUE, log)
    assert official == expected
    assert report.verdict == ("fail" if expected == "crash" else expected)
    assert report.official_crash == (expected == "crash")


def test_config_enqueued_late_replays_earlier_lines(run: Runner) -> None:
    # 'a' comes before the line that enqueues closed.yaml: closed.yaml must still see it
    log = Log().event("a", 2).event("x").event("submission_division", "closed")
    report, official = run(ENQUEUE, log)
    assert report.verdict == official == "pass"


def test_unknown_keys_and_unhashable_keys_are_ignored(run: Runner) -> None:
    text = mllog("a", 1) + "\n" + mllog(["list", "key"], 1) + "\n" + mllog("zzz", 5) + "\n"
    report, official = run({"root.yaml": REQ.format(req="EXACTLY_ONE")}, text)
    assert report.verdict == official == "pass"


def test_state_that_cannot_be_reported_crashes_officially(run: Runner) -> None:
    config = """
- BEGIN:
    CODE: " s['seen'] = set() "
- KEY:
    NAME: a
    CHECK: " v['value'] == 1 "
"""
    report, official = run({"root.yaml": config}, events("a").event("a", 2))
    assert official == "crash"
    assert report.verdict == "fail" and report.official_crash


def test_pre_code_that_raises_is_a_message_not_a_crash(run: Runner) -> None:
    config = """
- KEY:
    NAME: a
    PRE: " s['missing'] += 1 "
"""
    report, official = run({"root.yaml": config}, events("a"))
    assert report.verdict == official == "fail"
    assert checks(report) == {Check.RULE_CODE_ERROR}


def test_begin_reading_loglines_runs_listwise(run: Runner) -> None:
    # the stable diffusion rules append aggregated lines in BEGIN; later configs see them too
    config = """
- BEGIN:
    CODE: |
        from dataclasses import replace
        extra = replace(loglines[0])
        extra.key = 'agg'
        loglines.append(extra)
- KEY:
    NAME: agg
    REQ: EXACTLY_ONE
"""
    report, official = run({"root.yaml": config}, events("a"))
    assert report.verdict == official == "pass"
    report, official = run({"root.yaml": config}, "no records\n")
    assert official == "crash"
    assert report.verdict == "fail"
