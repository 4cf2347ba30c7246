"""``logparse.json_loads`` (orjson where it decides as the standard library, the standard library
otherwise) gives what ``json.loads`` gives, value for value, or fails where it fails."""

from __future__ import annotations

import json

import pytest

from submissions.compliance.logparse import json_loads

PAYLOADS = [
    '{"key": "run_start", "value": null, "time_ms": 1747683021432.113, "metadata": {"file": "a.py", "lineno": 3}}',
    '{"a": NaN}',
    '{"a": Infinity, "b": -Infinity}',
    '{"a": 123456789012345678901234567890}',
    '{"a": -9223372036854775809}',
    '{"a": 18446744073709551616}',
    '{"a": 9223372036854775807, "b": -9223372036854775808}',
    '{"a": 1e400}',
    '{"a": 0.1000000000000000055511151231257827021181583404541015625}',
    '{"a": 2.2250738585072011e-308, "b": 4.9e-324, "c": 1.7976931348623157e308}',
    '{"a": -0, "b": -0.0, "c": 1E5, "d": 1e-5}',
    '{"a": "\\ud800"}',
    '{"a": "\\ud83d\\ude00", "b": "\\u00e9"}',
    '{"a": 1, "a": 2}',
    ' {"a": 1} \t\r\n',
    '{"a": 1}\x0c',
    '{"a": "\x01"}',
    '{"a": "\x7f"}',
    '{"a": "caf\xc3\xa9 \xff"}',  # latin-1 text of UTF-8 bytes: kept as these characters
    "[1,]",
    "",
    " ",
    "{}extra",
    '"just a string"',
    "[" * 2000 + "]" * 2000,
    "[" * 500 + "]" * 500,
    '{"a": [1, 2.5, "x", true, false, null, {"b": []}]}',
]


def outcome(parse, text: str) -> object:
    try:
        return ("ok", parse(text))
    except (ValueError, RecursionError) as exc:
        return ("error", type(exc) is RecursionError)


@pytest.mark.parametrize("text", PAYLOADS, ids=range(len(PAYLOADS)))
def test_json_loads_decides_as_the_standard_library(text: str) -> None:
    # repr tells nan, -0.0, int from float, key order and nesting apart
    assert repr(outcome(json_loads, text)) == repr(outcome(json.loads, text))
