"""Reading MLLOG result files line by line, the way the official parser reads them.

The official parser (``mlp_parser/ruleset_*.py``) opens the file as latin-1 text with universal
newlines, keeps the lines that contain ``:::MLLOG ``, cuts everything before the *last* token (so
rank prefixes like ``0: `` go), strips, and ``json.loads`` the rest. A line whose JSON or
``time_ms`` is bad is a *parse error*; a line that lacks ``time_ms``, ``key``, ``value`` or
``metadata`` (or is not a JSON object) makes the official parser raise and the checker crash.

Here the same decisions are made while streaming, with the file's real 1-based line numbers, and
with a bound on memory: a line longer than :data:`MAX_PAYLOAD_CHARS` after its last token is
reported instead of being held in memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TextIO, cast

TOKEN = ":::MLLOG "
TOKEN_060 = ":::MLL"  # the 0.6.0 text format
READ_CHUNK = 1 << 20
MAX_PAYLOAD_CHARS = 8 << 20


@dataclass(slots=True)
class LogLine:
    """A parsed MLLOG record. The first five fields are the official ``LogLine``'s (rules see
    ``ll.timestamp``, ``ll.key``, ``ll.value``; ``lineno`` is the official 0-based index among
    MLLOG lines); ``line`` is the file's real 1-based line number."""

    full_string: str
    timestamp: float
    key: Any
    value: Any
    lineno: int
    line: int = 0


@dataclass(slots=True)
class BadLine:
    """An MLLOG line the official parser rejects (``crash`` False) or raises on (``crash`` True)."""

    line: int
    crash: bool
    message: str
    too_long: bool = False


@dataclass(slots=True)
class RawLine:
    """One MLLOG line as text: the official tools that do their own reading (the RCP checker)
    look at the raw JSON text, so package checks need it alongside the parsed record."""

    line: int
    payload: str  # the text after the token, stripped
    obj: Any  # json.loads(payload), or the exception it raised
    ok: bool


# json.loads(s) is decoder.decode(s): skip JSON whitespace, scan one value, allow only JSON
# whitespace after it. Calling the C scanner directly makes the same decisions, faster.
_decoder = json.JSONDecoder()
# scan_once is set by JSONDecoder.__init__ and is missing from typeshed's class.
scan_once: Callable[[str, int], tuple[Any, int]] = _decoder.scan_once  # type: ignore[attr-defined]
# The pattern matches the empty string, so match() never returns None here.
_ws = cast("Callable[[str, int], re.Match[str]]", re.compile(r"[ \t\n\r]*").match)
_JSON_WS = " \t\n\r"


try:  # orjson where it decides exactly as json.loads; the standard library decides the rest
    from orjson import JSONDecodeError as _FastError
    from orjson import loads as _orjson_loads

    _fast_loads: Callable[[bytes], Any] | None = _orjson_loads
except ImportError:  # pragma: no cover - orjson is pinned in requirements.txt
    _fast_loads = None
# orjson turns integers beyond 64 bits into floats: a text with 19 digits in a row goes to json.
# (bytes.translate and a substring test are much cheaper than a regular expression here.)
_DIGITS_TO_9 = bytes(0x39 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_NINETEEN_DIGITS = b"9" * 19


def json_loads(s: str) -> Any:
    """``json.loads(s)``. ASCII text goes to orjson first (as UTF-8 bytes, which ASCII is), unless
    it has 19 digits in a row; what orjson rejects (NaN, Infinity, numbers out of range, lone
    surrogates, bad JSON) goes to the standard library's C scanner, which then decides."""
    if _fast_loads is not None and s.isascii():
        b = s.encode("ascii")
        if _NINETEEN_DIGITS not in b.translate(_DIGITS_TO_9):
            try:
                return _fast_loads(b)
            except _FastError:
                pass
    idx = _ws(s, 0).end() if s[:1] in _JSON_WS and s else 0
    try:
        obj, end = scan_once(s, idx)
    except StopIteration as err:
        raise json.JSONDecodeError("Expecting value", s, err.value) from None
    if end != len(s):
        end = _ws(s, end).end()
        if end != len(s):
            raise json.JSONDecodeError("Extra data", s, end)
    return obj


def iter_token_lines(f: TextIO, token: str = TOKEN) -> Iterator[tuple[int, str | None]]:
    """Yield ``(line number, text from the last token to the end of line, stripped)`` for each
    line containing ``token``; the text is ``None`` when it is longer than MAX_PAYLOAD_CHARS."""
    readline = f.readline
    lineno = 0
    while True:
        line = readline(READ_CHUNK)
        if not line:
            return
        lineno += 1
        if len(line) == READ_CHUNK and line[-1] != "\n":
            text = long_line(line, readline, token)
            if text is False:
                continue
            yield lineno, text
            continue
        i = line.rfind(token)
        if i >= 0:
            yield lineno, line[i:].strip()


def long_line(first: str, readline: Callable[[int], str], token: str) -> str | Literal[False] | None:
    """Stream the rest of a long line, keeping only what follows its last token.
    Returns False when the line has no token, None when what follows is too long."""
    keep: list[str] | None = None  # text from the last token seen so far
    kept = 0
    too_long = False
    tail = ""  # the end of the previous chunk, to find a token split across chunks
    chunk = first
    while True:
        window = tail + chunk
        j = window.rfind(token)
        if j >= 0:
            keep, kept, too_long = [window[j:]], len(window) - j, False
        elif keep is not None:
            keep.append(chunk)
            kept += len(chunk)
        if keep is not None and kept > MAX_PAYLOAD_CHARS:
            keep, kept, too_long = None, 0, True
        tail = window[-(len(token) - 1) :]
        if chunk.endswith("\n"):
            break
        chunk = readline(READ_CHUNK)
        if not chunk:
            break
    if keep is not None:
        return "".join(keep).strip()
    return None if too_long else False


def parse_record(text: str, index: int, line: int) -> LogLine | BadLine:
    """Parse one stripped ``:::MLLOG {...}`` text as the official parser (ruleset >= 0.7.0) does."""
    try:
        m = json_loads(text[9:])
    except ValueError as exc:
        return BadLine(line, False, f"the MLLOG line is not valid JSON: {exc}")
    except RecursionError:
        return BadLine(line, True, "the MLLOG line nests too deeply to parse")
    if type(m) is dict:
        try:
            t = m["time_ms"]
            # float() like the official parser: a bad string is a parse error, other types crash it
            ts = t if type(t) is float else float(t)
            return LogLine(text, ts, m["key"], {"value": m["value"], "metadata": m["metadata"]}, index, line)
        except KeyError as exc:
            return BadLine(line, True, f"the MLLOG record has no {exc.args[0]!r} field")
        except ValueError:
            return BadLine(line, False, f"'time_ms' is not a number: {_short(m['time_ms'])}")
        except (TypeError, OverflowError):
            return BadLine(line, True, f"'time_ms' is not a number: {_short(m['time_ms'])}")
    return BadLine(line, True, f"the MLLOG record is a JSON {type(m).__name__}, not an object")


_LINE_060 = re.compile(
    "^"
    + TOKEN_060
    + r""" [ ] # token and version
([\d\.]+) [ ] # timestamp
([A-Za-z0-9_]+) [ ]? # key
:\s+(.+) # value
$
""",
    re.X,
)


def parse_record_060(text: str, index: int, line: int) -> LogLine | BadLine:
    """The 0.6.0 text format: ``:::MLL <timestamp> <key>: <json value>``."""
    m = _LINE_060.match(text)
    if m is None:
        return BadLine(line, False, "the :::MLL line does not match the 0.6.0 format")
    try:
        ts = float(m.group(1))
        value = json.loads(m.group(3))
    except ValueError as exc:
        return BadLine(line, False, f"the :::MLL line does not parse: {exc}")
    except RecursionError:
        return BadLine(line, True, "the :::MLL line nests too deeply to parse")
    return LogLine(text, ts, m.group(2), value, index, line)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
