"""Bad input never crashes the engine; where the official checker gives a verdict, it is the same."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from submissions.compliance import Check, check_file, logparse
from submissions.compliance.oracle import official_file
from tests.compliance.logs import mllog, training_log

RULES = ("training", "6.1.0")


def good_text() -> str:
    return training_log("6.1.0", "llama31_8b").text()


def agree(path: Path) -> tuple[str, object]:
    report = check_file(path, *RULES)
    official = official_file(path, *RULES)
    expected = "fail" if official.verdict == "crash" else official.verdict
    assert report.verdict == expected, (official, report.findings)
    assert report.official_crash == (official.verdict == "crash")
    return official.verdict, report


def lines_of(text: str) -> list[str]:
    return text.splitlines()


BROKEN_LINES = {
    "broken_json": ':::MLLOG {"key": "eval_accuracy", "value": 1',
    "no_metadata": ':::MLLOG {"namespace": "", "time_ms": 1, "key": "x", "value": 1}',
    "no_key": ':::MLLOG {"time_ms": 1, "value": 1, "metadata": {}}',
    "no_value": ':::MLLOG {"time_ms": 1, "key": "x", "metadata": {}}',
    "no_time": ':::MLLOG {"key": "x", "value": 1, "metadata": {}}',
    "time_text": ':::MLLOG {"time_ms": "soon", "key": "x", "value": 1, "metadata": {}}',
    "time_null": ':::MLLOG {"time_ms": null, "key": "x", "value": 1, "metadata": {}}',
    "time_huge": ':::MLLOG {"time_ms": 1' + "0" * 400 + ', "key": "x", "value": 1, "metadata": {}}',
    "array": ":::MLLOG [1, 2, 3]",
    "empty": ":::MLLOG ",
    "extra_data": ':::MLLOG {"time_ms": 1, "key": "x", "value": 1, "metadata": {}} trailing',
    "deep": ":::MLLOG " + "[" * 5000 + "]" * 5000,
    "nan": ':::MLLOG {"time_ms": NaN, "key": "x", "value": NaN, "metadata": {}}',
    "list_key": ':::MLLOG {"time_ms": 1, "key": ["eval_accuracy"], "value": 1, "metadata": {}}',
    "metadata_null": ':::MLLOG {"time_ms": 1, "key": "eval_accuracy", "value": 1, "metadata": null}',
    "two_tokens": "x :::MLLOG garbage :::MLLOG " + mllog("x", 1)[9:],
    "control_char": ':::MLLOG {"time_ms": 1, "key": "x\x01", "value": 1, "metadata": {}}',
}


@pytest.mark.parametrize("name", sorted(BROKEN_LINES))
def test_broken_line_in_a_good_log(tmp_path: Path, name: str) -> None:
    lines = lines_of(good_text())
    lines.insert(5, BROKEN_LINES[name])
    path = tmp_path / "result_0.txt"
    path.write_text("\n".join(lines) + "\n")
    verdict, report = agree(path)
    if name in ("nan", "list_key", "two_tokens"):
        assert verdict == "pass"
    else:
        errors = [f for f in report.findings if f.severity == "error"]
        assert errors and errors[0].line in (6, None)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("empty", b""),
        ("blank", b"\n\n\n"),
        ("no_records", b"hello\nworld\n"),
        ("binary", bytes(range(256)) * 50),
        ("nul_bytes", b"\x00" * 1000),
    ],
)
def test_files_without_records(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / "result_0.txt"
    path.write_bytes(data)
    verdict, report = agree(path)
    assert verdict == "fail"
    assert Check.LOG_NO_RECORDS in {f.check for f in report.findings}


def test_non_utf8_bytes_are_read_as_latin1(tmp_path: Path) -> None:
    text = good_text().replace("8xACME", "8x\udcff\udcfeACME")
    path = tmp_path / "result_0.txt"
    path.write_bytes(text.encode("utf-8", "surrogateescape") + b"\xff\xfe junk \x80\n")
    assert agree(path)[0] == "pass"


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_endings(tmp_path: Path, newline: str) -> None:
    path = training_log("6.1.0", "llama31_8b").write(tmp_path / "result_0.txt", newline=newline)
    verdict, report = agree(path)
    assert verdict == "pass"
    assert not [f for f in report.findings if f.severity == "error"]


def test_line_numbers_count_crlf_lines_once(tmp_path: Path) -> None:
    text = "junk\r\njunk\r\n" + mllog("submission_org", "") + "\r\n"
    path = tmp_path / "result_0.txt"
    path.write_bytes(text.encode())
    report = check_file(path, *RULES)
    assert {f.line for f in report.findings if f.key == "submission_org"} == {3}


def test_rank_prefixes(tmp_path: Path) -> None:
    text = "".join(f"{i % 8}: {line}\n" for i, line in enumerate(lines_of(good_text())))
    path = tmp_path / "result_0.txt"
    path.write_text(text)
    assert agree(path)[0] == "pass"


def test_very_long_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logparse, "READ_CHUNK", 64)  # make "long" cheap to test
    from submissions.compliance import engine

    monkeypatch.setattr(engine.logparse, "READ_CHUNK", 64)
    lines = lines_of(good_text())
    lines.insert(3, "x" * 1000)  # long, no token
    lines.insert(4, "y" * 1000 + lines.pop(4))  # a record after a long prefix
    path = tmp_path / "result_0.txt"
    path.write_text("\n".join(lines) + "\n")
    assert agree(path)[0] == "pass"
    # a token split across read chunks
    for cut in range(50, 70):
        lines2 = lines_of(good_text())
        lines2[2] = "z" * cut + lines2[2]
        path.write_text("\n".join(lines2) + "\n")
        assert check_file(path, *RULES).verdict == "pass"


def test_too_long_record_is_a_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logparse, "READ_CHUNK", 64)
    monkeypatch.setattr(logparse, "MAX_PAYLOAD_CHARS", 1000)
    lines = lines_of(good_text())
    lines.insert(3, mllog("note", "n" * 5000))
    path = tmp_path / "result_0.txt"
    path.write_text("\n".join(lines) + "\n")
    report = check_file(path, *RULES)
    assert report.verdict == "fail"
    assert [f.line for f in report.findings if f.check == Check.LOG_LINE_TOO_LONG] == [4]


def test_memory_stays_flat_on_a_huge_file(tmp_path: Path) -> None:
    # 40 MB of training output around a compliant log: memory must not follow the file size
    path = tmp_path / "result_0.txt"
    noise = ("step 123 loss 1.2345 lr 0.001 " * 4 + "\n") * 2000
    with open(path, "w") as f:
        for line in lines_of(good_text()):
            for _ in range(10):
                f.write(noise)
            f.write(line + "\n")
    assert path.stat().st_size > 40_000_000
    tracemalloc.start()
    try:
        report = check_file(path, *RULES)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.verdict == "pass"
    assert peak < 8_000_000, peak


def test_many_records_stream_past_the_replay_buffer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from submissions.compliance import engine

    monkeypatch.setattr(engine, "REPLAY_BUFFER_LINES", 5)
    lines = lines_of(good_text())
    # move the lines that enqueue the closed configs to the end: they need a second pass
    tail = [ln for ln in lines if '"submission_division"' in ln or '"submission_benchmark"' in ln]
    body = [ln for ln in lines if ln not in tail]
    path = tmp_path / "result_0.txt"
    path.write_text("\n".join(body + tail) + "\n")
    assert agree(path)[0] == check_file(path, *RULES).verdict
    lines[-1] = lines[-1].replace('"success"', '"aborted"')
    bad = [ln.replace('"max_steps", "value": 1200000', '"max_steps", "value": 1') for ln in body]
    path.write_text("\n".join(bad + tail) + "\n")
    assert agree(path)[0] == "fail"


def test_a_folder_or_missing_file_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    report = check_file(tmp_path, *RULES)
    assert report.verdict == "fail" and report.findings[0].check == Check.LOG_UNREADABLE
    report = check_file(tmp_path / "missing.txt", *RULES)
    assert report.verdict == "fail"


@pytest.mark.parametrize(
    "payload",
    [
        '{"a": 1}',
        ' {"a": 1}',
        '{"a": 1}  ',
        '{"a": 1}\t\n',
        "",
        " ",
        "1 2",
        "[1,",
        '"x"',
        "NaN",
        "-Infinity",
        "1" * 5000,
        '{"a": "\\ud800"}',
        '{"a": 1}\x0b',
        "\x0c{}",
        '{"a": 1} {"b": 2}',
    ],
)
def test_json_loads_decides_like_the_standard_library(payload: str) -> None:
    def outcome(fn):  # type: ignore[no-untyped-def]
        try:
            return ("ok", json.dumps(fn(payload), allow_nan=True))
        except ValueError as exc:
            return ("error", type(exc).__name__)

    assert outcome(logparse.json_loads) == outcome(json.loads)


def test_findings_on_bad_lines_are_capped(tmp_path: Path) -> None:
    path = tmp_path / "result_0.txt"
    path.write_text(good_text() + ":::MLLOG {broken\n" * 5000)
    report = check_file(path, *RULES)
    parse = [f for f in report.findings if f.check == Check.LOG_PARSE_ERROR]
    assert len(parse) == 101
    assert "4900 more" in parse[-1].message
    assert report.verdict == "fail"


def test_a_fifo_is_not_opened(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "result_0.txt"
    os.mkfifo(fifo)
    report = check_file(fifo, *RULES)  # opening it would block forever
    assert report.verdict == "fail" and report.findings[0].check == Check.LOG_UNREADABLE
