"""The MLPerf Inference submission rules, applied as the official submission checker applies them.

The walk follows the official checker's order: the submitter folder's layout, the open division's
model mapping, systems without results, calibration; then for each system description, model and
scenario: the measurements folder, the accuracy run, the performance run (LoadGen's detail log:
validity, seeds, sample counts, durations, latency constraints, token latencies, equal-issue
mode), power, and the compliance tests. A result passes exactly when the official checker writes
it into its summary table; a package passes when the official checker would end with "submission
looks OK" for it alone. Every number and name comes from the round's rule data (ruleset.py).

Where the official checker logs an error but keeps the result, the finding is a warning; where it
raises (and so drops the result, or stops), the finding is an error that says so. Nothing in the
input is written, and no input makes this module raise.

One module over 600 lines on purpose: it is one walk in the official checker's order, section by
section (marked below), so that it can be read beside the official checker when a new round's rules
are compared; the values live in the ruleset data, the LoadGen parsing in loadgen.py and the power
session's rules in power_session.py."""

from __future__ import annotations

import datetime
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..findings import ADVISORY, ERROR, WARNING, Severity
from .loadgen import DetailLog, read_detail_log, read_summary_log
from .power_session import check_power_session
from .report import InferenceFinding, ResultReport, SubmitterReport
from .ruleset import Ruleset, Target


class C:
    """Stable finding ids of the inference checker (documented in docs/compliance.md)."""

    DIVISION = "inference.division"
    LAYOUT = "inference.layout"
    MODEL_MAPPING = "inference.model_mapping"
    SYSTEM_MISSING = "inference.system.missing"
    SYSTEM_INVALID = "inference.system.invalid"
    SYSTEM_FIELD = "inference.system.field"
    SYSTEMS_WITHOUT_RESULTS = "inference.system.no_results"
    CALIBRATION = "inference.calibration"
    MODEL = "inference.model"
    SCENARIO = "inference.scenario"
    SCENARIOS_MISSING = "inference.scenarios_missing"
    MEASUREMENTS = "inference.measurements"
    FILES = "inference.files"
    ACCURACY = "inference.accuracy"
    ACCURACY_LOG = "inference.accuracy.log"
    LOG = "inference.log"
    LOG_ERRORS = "inference.log.errors"
    VALIDITY = "inference.performance.validity"
    SEEDS = "inference.performance.seeds"
    SAMPLE_COUNT = "inference.performance.sample_count"
    QUERY_COUNT = "inference.performance.query_count"
    DURATION = "inference.performance.duration"
    LATENCY = "inference.performance.latency"
    TOKEN_LATENCY = "inference.performance.token_latency"
    EQUAL_ISSUE = "inference.performance.equal_issue"
    EARLY_STOPPING = "inference.performance.early_stopping"
    INFERRED = "inference.performance.inferred"
    NETWORK = "inference.network"
    SUMMARY = "inference.summary_mismatch"
    POWER = "inference.power"
    COMPLIANCE = "inference.compliance"
    OFFICIAL_CRASH = "inference.official_crash"
    RESULT_ROW = "inference.result_row"


class _Raised(Exception):
    """Where the official checker raises: the message says what it trips on."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.line = line


def _raise_message(exc: Exception) -> str:
    if isinstance(exc, _Raised):
        return str(exc)
    return f"a value the rules compare is missing or of the wrong type ({type(exc).__name__}: {exc})"


OFFICIAL_RAISES = (_Raised, TypeError, ValueError, KeyError, AttributeError, ZeroDivisionError, IndexError)


def _list_dirs(path: str) -> list[str]:
    try:
        with os.scandir(path) as it:
            return sorted(e.name for e in it if e.is_dir())
    except OSError:
        return []


def _list_files(path: str) -> list[str]:
    try:
        with os.scandir(path) as it:
            return sorted(e.name for e in it if e.is_file())
    except OSError:
        return []


def _truthy_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


@dataclass
class _Context:
    rs: Ruleset
    root: str  # the folder holding the division folder
    division: str
    division_dir: str
    logs: dict[str, DetailLog] = field(default_factory=dict)

    @property
    def closed_rules(self) -> bool:
        return self.division in self.rs["divisions_with_closed_rules"]

    def rel(self, path: str) -> str:
        """``<division>/<Submitter>/...``, wherever the division folder lies (an upload is
        unpacked into a folder not named after its division)."""
        inside = os.path.relpath(path, self.division_dir).replace(os.sep, "/")
        return self.division if inside == "." else f"{self.division}/{inside}"

    def log(self, path: str) -> DetailLog:
        if path not in self.logs:
            self.logs[path] = read_detail_log(path)
        return self.logs[path]


class _Sink:
    """Collects findings for one result or package."""

    def __init__(self, ctx: _Context, findings: list[InferenceFinding]) -> None:
        self.ctx = ctx
        self.findings = findings

    def add(
        self, severity: Severity, check: str, message: str, path: str | None = None, line: int | None = None
    ) -> None:
        self.findings.append(InferenceFinding(severity, check, message, self.ctx.rel(path) if path else None, line))

    def error(self, check: str, message: str, path: str | None = None, line: int | None = None) -> None:
        self.add(ERROR, check, message, path, line)

    def warning(self, check: str, message: str, path: str | None = None, line: int | None = None) -> None:
        self.add(WARNING, check, message, path, line)


# ---------------------------------------------------------------------------------------------
# the submitter folder as a whole


def _walk(top: str) -> Iterator[tuple[str, list[os.DirEntry[str]], list[os.DirEntry[str]]]]:
    stack = [top]
    while stack:
        path = stack.pop()
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except OSError:
            continue
        dirs: list[os.DirEntry[str]] = []
        files: list[os.DirEntry[str]] = []
        for e in entries:
            try:
                (dirs if e.is_dir() and not e.is_symlink() else files).append(e)
            except OSError:
                files.append(e)
        yield path, dirs, files
        stack.extend(e.path for e in reversed(dirs))


def _layout_findings(ctx: _Context, top: str, sink: _Sink) -> bool:
    """The checks the official checker makes on every file and folder of the submitter folder;
    any of them rejects the whole package. Returns True when the package is rejected."""
    limit = ctx.rs["file_size_limit_bytes"]
    broken, oversized, dotted, spaced, pycache, empty = [], [], [], [], [], []
    for path, dirs, files in _walk(top):
        name = os.path.basename(path)
        if name.startswith("."):
            dotted.append(path)
        if " " in name:
            spaced.append(path)
        if path.endswith("__pycache__"):
            pycache.append(path)
        if not dirs and not files:
            empty.append(path)
        for e in files:
            if e.name.startswith("."):
                dotted.append(e.path)
            if " " in e.name:
                spaced.append(e.path)
            try:
                if e.is_symlink():
                    target = os.readlink(e.path)
                    # the official checker resolves a relative link target from its working
                    # folder, the folder holding the divisions
                    if not os.path.exists(os.path.join(ctx.root, target)):
                        broken.append(e.path)
                        continue
                    size = os.path.getsize(e.path)
                else:
                    size = e.stat().st_size
            except OSError:
                broken.append(e.path)
                continue
            if size > limit:
                oversized.append(e.path)
    problems = [
        (broken, "a broken symbolic link"),
        (oversized, f"a file over {limit // (1024 * 1024)} MB"),
        (dotted, "a name starting with a dot (git unfriendly)"),
        (spaced, "a space in its name"),
        (pycache, "a __pycache__ folder"),
        (empty, "an empty folder"),
    ]
    for paths, what in problems:
        for p in paths[:20]:
            sink.error(C.LAYOUT, f"{what}: the official checker rejects the whole package", p)
        if len(paths) > 20:
            sink.error(C.LAYOUT, f"{len(paths) - 20} more with {what}", top)
    return any(paths for paths, _ in problems)


# ---------------------------------------------------------------------------------------------
# system descriptions


def _network_mode(ctx: _Context, system: dict[str, Any]) -> tuple[bool, bool]:
    net = ctx.rs["network"]
    flag = system.get(net["flag_field"])
    is_network = flag.lower() == "true" if isinstance(flag, str) else False
    if flag is not None and not isinstance(flag, str):
        raise _Raised(f"{net['flag_field']} is not a string")
    expected = net["required_by_division"].get(ctx.division)
    valid = expected is None or expected is is_network
    return is_network, valid


def _check_system(ctx: _Context, path: str, submitter: str, sink: _Sink) -> tuple[dict[str, Any] | None, str | None]:
    """The system description: readable, status, system type, required and meaningful fields,
    submitter and division. Returns the description and its system type key when it passes."""
    try:
        with open(path, encoding="utf-8") as f:
            system = json.load(f)
    except (OSError, ValueError) as exc:
        sink.error(C.SYSTEM_INVALID, f"not a readable JSON file ({exc}); the official checker raises here", path)
        return None, None
    if not isinstance(system, dict):
        sink.error(C.SYSTEM_INVALID, "not a JSON object; the official checker raises here", path)
        return None, None
    status = system.get("status")
    if not isinstance(status, str):
        sink.error(C.SYSTEM_INVALID, "status is missing or not text; the official checker raises here", path)
        return None, None
    if status.lower() not in ctx.rs["availabilities"]:
        sink.error(C.SYSTEM_INVALID, f"invalid status {status!r}; expected one of {ctx.rs['availabilities']}", path)
        return None, None
    type_key = ctx.rs.system_type_key(system.get("system_type"))
    if type_key is None:
        sink.error(C.SYSTEM_INVALID, f"invalid system_type {system.get('system_type')!r}", path)
        return None, None
    valid = True
    try:
        is_network, network_ok = _network_mode(ctx, system)
    except _Raised as exc:
        sink.error(C.SYSTEM_INVALID, f"{exc}; the official checker raises here", path)
        return None, None
    if not network_ok:
        sink.error(C.NETWORK, f"network mode is {is_network}, which division {ctx.division!r} does not allow", path)
        valid = False
    required = list(ctx.rs["system_required_fields"])
    if is_network:
        required += ctx.rs["network"]["required_fields"]
    meaningful = set(ctx.rs["system_meaningful_fields"])
    for k in required:
        if k not in system:
            sink.error(C.SYSTEM_FIELD, f"required field {k!r} is missing", path)
            valid = False
        elif k in meaningful and not system[k]:
            sink.error(C.SYSTEM_FIELD, f"field {k!r} needs a meaningful value but is empty", path)
            valid = False
    known = set(required) | set(ctx.rs["system_power_fields"])
    for k in system:
        if k not in known:
            sink.warning(C.SYSTEM_FIELD, f"unknown field {k!r}", path)
    sub = system.get("submitter")
    if not isinstance(sub, str):
        sink.error(C.SYSTEM_INVALID, "submitter is not text; the official checker raises here", path)
        return None, None
    if sub.lower() != submitter.lower():
        sink.error(C.SYSTEM_FIELD, f"submitter is {sub!r} but the folder is {submitter!r}", path)
        valid = False
    if system.get("division") != ctx.division:
        sink.error(
            C.SYSTEM_FIELD, f"division is {system.get('division')!r} but the folder is in {ctx.division!r}", path
        )
        valid = False
    return (system, type_key) if valid else (None, None)


# ---------------------------------------------------------------------------------------------
# files


def _files_diff(present: list[str], required: list[str], optional: list[str], always: list[str]) -> set[str]:
    return set(present).symmetric_difference(required) - set(optional) - set(always)


def _check_files(ctx: _Context, folder: str, required: list[str], optional: list[str], sink: _Sink) -> bool:
    diff = _files_diff(_list_files(folder), required, optional, ctx.rs["files"]["always_optional"])
    if not diff:
        return True
    present = set(_list_files(folder))
    missing = sorted(d for d in diff if d not in present)
    extra = sorted(d for d in diff if d in present)
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if extra:
        parts.append(f"unexpected {', '.join(extra)}")
    sink.error(C.FILES, f"file list mismatch: {'; '.join(parts)}", folder)
    return False


# ---------------------------------------------------------------------------------------------
# measurements


def _check_measurements(
    ctx: _Context,
    folder: str,
    system_desc: str,
    submitter_dir: str,
    model: str,
    scenario: str,
    has_power: bool,
    sink: _Sink,
) -> str | None:
    """The measurements folder: user.conf and README.md, power settings when power is measured,
    the implementation description JSON and its fields, the code folder. Returns None when it
    passes, else the reason; findings go to ``sink``."""
    files = _list_files(folder)
    ok = True
    for name in ctx.rs["files"]["measurements"]:
        p = os.path.join(folder, name)
        if name not in files:
            sink.error(C.MEASUREMENTS, f"{name} is missing", folder)
            ok = False
        elif os.path.getsize(p) == 0:
            sink.error(C.MEASUREMENTS, f"{name} is empty", p)
            ok = False
    if has_power:
        candidates: list[str] = []
        p = folder
        for _ in range(4):
            candidates += [os.path.join(p, f) for f in _list_files(p)]
            p = os.path.join(p, "..")
        for pattern in ctx.rs["files"]["power_measurements"]:
            found = [c for c in candidates if re.match(pattern, os.path.basename(c))]
            if not found:
                sink.error(C.MEASUREMENTS, f"no {pattern} file for the power measurement", folder)
                ok = False
            elif os.path.getsize(found[-1]) == 0:
                sink.error(C.MEASUREMENTS, f"{os.path.basename(found[-1])} is empty", found[-1])
                ok = False
    system_file, end = None, 0
    for name in files:
        if name.startswith(system_desc) and name.endswith("_" + scenario + ".json"):
            system_file, end = name, len("_" + scenario + ".json")
            break
        if name.startswith(system_desc) and name.endswith(".json"):
            system_file, end = name, len(".json")
            break
    if system_file is None:
        sink.error(C.MEASUREMENTS, f"no {system_desc}*.json implementation description", folder)
        return "measurements"
    jpath = os.path.join(folder, system_file)
    try:
        with open(jpath, encoding="utf-8") as f:
            j = json.load(f)
        if not isinstance(j, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        sink.error(C.MEASUREMENTS, f"not a readable JSON object ({exc}); the official checker raises here", jpath)
        return "measurements"
    if "weight_data_types" not in j:
        sink.error(C.MEASUREMENTS, "weight_data_types is missing; the official checker raises here", jpath)
        return "measurements"
    for k in ctx.rs["measurement_required_fields"]:
        if k not in j:
            sink.error(C.MEASUREMENTS, f"field {k!r} is missing", jpath)
            ok = False
        elif not j[k]:
            sink.error(C.MEASUREMENTS, f"field {k!r} needs a meaningful value", jpath)
            ok = False
    impl = system_file[len(system_desc) + 1 : -end] if end else ""
    code_dir = os.path.join(submitter_dir, "code", model)
    if os.path.isfile(code_dir):
        try:
            with open(code_dir, encoding="utf-8") as f:
                code_dir = os.path.join(submitter_dir, "code", f.read().strip(), impl)
        except (OSError, ValueError):
            sink.error(C.MEASUREMENTS, "unreadable code redirect file; the official checker raises here", code_dir)
            return "measurements"
    else:
        code_dir = os.path.join(submitter_dir, "code", model, impl)
    if not os.path.exists(code_dir) and not os.path.exists(os.path.dirname(code_dir)):
        sink.error(C.MEASUREMENTS, f"no code folder {ctx.rel(os.path.dirname(code_dir))}", folder)
        ok = False
    return None if ok else "measurements"


# ---------------------------------------------------------------------------------------------
# accuracy


def _read_text_lines(path: str) -> list[str]:
    """A small text file's lines, as the official checker reads them (UTF-8, strict)."""
    with open(path, encoding="utf-8") as f:
        return f.readlines()


def _check_accuracy_txt(ctx: _Context, model: str, folder: str, sink: _Sink) -> tuple[bool, dict[str, str]]:
    """accuracy.txt against the model's targets and upper limits, the hash line."""
    rs = ctx.rs
    path = os.path.join(folder, "accuracy.txt")
    targets: tuple[Target, ...] = rs.targets.get(model, ())
    if model not in rs.targets:
        raise _Raised(f"model {model!r} has no accuracy target", path)
    uppers = rs.upper_limits.get(model)
    hash_re = re.compile(rs["accuracy_hash_pattern"])
    seen = [False] * len(targets)
    all_valid, limit_ok = True, True
    hash_val = None
    result: dict[str, str] = {}
    try:
        lines = _read_text_lines(path)
    except UnicodeDecodeError:
        raise _Raised("accuracy.txt has bytes that are not UTF-8", path) from None
    for number, line in enumerate(lines, start=1):
        for i, t in enumerate(targets):
            m = rs.patterns[t.metric].match(line)
            acc = m.group(1) if m else None
            h = hash_re.match(line)
            if h:
                hash_val = h.group(1)
            if acc is not None:
                try:
                    value = float(acc)
                except ValueError:
                    raise _Raised(f"{t.metric} value {acc!r} is not a number", path, number) from None
                if value >= t.value:
                    seen[i] = True
                else:
                    all_valid = False
                    sink.error(C.ACCURACY, f"{t.metric} = {acc} is below the target {t.value:f}", path, number)
            if acc:
                result[t.metric] = acc
        if uppers is not None:
            for u in uppers:
                m = rs.patterns[u.metric].match(line)
                h = hash_re.match(line)
                if h:
                    hash_val = h.group(1)
                if m is not None:
                    try:
                        value = float(m.group(1))
                    except ValueError:
                        raise _Raised(f"{u.metric} value {m.group(1)!r} is not a number", path, number) from None
                    if value > u.value:
                        limit_ok = False
                        sink.error(
                            C.ACCURACY, f"{u.metric} = {m.group(1)} is above the upper limit {u.value:f}", path, number
                        )
        if all(seen) and hash_val:
            break
    valid = all_valid and all(seen) and limit_ok
    for t, s in zip(targets, seen, strict=True):
        if not s and t.metric not in result:
            sink.error(C.ACCURACY, f"no {t.metric} value found", path)
    if not hash_val:
        sink.error(C.ACCURACY, "no hash= line for mlperf_log_accuracy.json", path)
        valid = False
    return valid, result


def _check_accuracy_dir(ctx: _Context, model: str, folder: str, sink: _Sink) -> tuple[bool, dict[str, str]]:
    rs = ctx.rs
    valid, result = _check_accuracy_txt(ctx, model, folder, sink)
    acc_log = os.path.join(folder, "mlperf_log_accuracy.json")
    try:
        size = os.stat(acc_log).st_size  # size only: the accuracy log is never read
    except OSError:
        sink.error(C.ACCURACY_LOG, "mlperf_log_accuracy.json is missing", acc_log)
        valid = False
    else:
        if size > rs["files"]["max_accuracy_log_bytes"]:
            sink.error(
                C.ACCURACY_LOG,
                f"{size} bytes: not truncated (at most {rs['files']['max_accuracy_log_bytes']} bytes; "
                "run truncate_accuracy_log.py)",
                acc_log,
            )
            valid = False
    detail_path = os.path.join(folder, "mlperf_log_detail.txt")
    log = ctx.log(detail_path)
    if log.missing:
        sink.error(C.LOG, "mlperf_log_detail.txt is missing", detail_path)
        return False, result
    if log.problem:
        raise _Raised(f"the accuracy run's detail log: {log.problem}", detail_path, log.problem_line)
    try:
        has_errors = log.num_errors() != 0
    except Exception:
        has_errors = True
    if has_errors:
        # the official checker then trips over its own error message (a name used before it is
        # set) and stops: no result after this one gets into its table
        for line, value in log.errors[:10]:
            sink.error(C.LOG_ERRORS, f"LoadGen error: {value}", detail_path, line)
        raise _Raised("the accuracy run's detail log has LoadGen errors", detail_path, log.line("num_errors"))
    expected = rs["dataset_size"].get(rs.resolve_model(model))
    if expected is None:
        raise _Raised(f"model {model!r} has no dataset size", detail_path)
    total = log.get("qsl_reported_total_count")
    if total != expected:
        sev = ERROR if rs["dataset_size_mismatch_fails"] else WARNING
        sink.add(
            sev,
            C.ACCURACY,
            f"the accuracy run covers {total} samples, not the whole data set ({expected})",
            detail_path,
            log.line("qsl_reported_total_count"),
        )
        if sev == ERROR:
            valid = False
    if "effective_accuracy_sample_count" in log.values:
        need = rs["accuracy_sample_count"].get(
            rs.resolve_model(model), rs["performance_sample_count"].get(rs.resolve_model(model))
        )
        got = log.get("effective_accuracy_sample_count")
        if need is None:
            raise _Raised(f"model {model!r} has no accuracy sample count", detail_path)
        if got < need:
            sink.error(
                C.ACCURACY,
                f"accuracy sample count {got} is below {need}",
                detail_path,
                log.line("effective_accuracy_sample_count"),
            )
            valid = False
    return valid, result


def _check_extra_accuracy_files(ctx: _Context, model: str, folder: str, sink: _Sink) -> bool:
    extras = ctx.rs["required_accuracy_extras"].get(model)
    if not extras:
        return True
    ok = True
    dirs = _list_dirs(folder)
    for sub, stems in extras.items():
        if sub not in dirs:
            sink.error(
                C.ACCURACY,
                f"the {sub}/ folder is missing (expected {len(stems)} sample files in it)",
                os.path.join(folder, sub),
            )
            ok = False
            continue
        have = {f.split(".")[0] for f in _list_files(os.path.join(folder, sub))}
        for stem in stems:
            if stem not in have:
                sink.error(C.ACCURACY, f"{stem}.png is missing", os.path.join(folder, sub))
                ok = False
        if "captions" not in have:
            sink.warning(C.ACCURACY, "captions.txt is missing", os.path.join(folder, sub))
    return ok


# ---------------------------------------------------------------------------------------------
# performance


@dataclass
class _Perf:
    valid: bool
    score: Any
    inferred: bool = False


def _result_value(ctx: _Context, model: str, log: DetailLog, path: str) -> Any:
    scenario = log.get("effective_scenario")
    fields = ctx.rs["result_field"]
    if scenario not in fields:
        raise _Raised(f"effective_scenario {scenario!r} has no result field", path, log.line("effective_scenario"))
    key = ctx.rs["result_field_per_model"].get(model, {}).get(scenario, fields[scenario])
    value = log.get(key)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _Raised(f"{key} is {value!r}, not a number", path, log.line(key)) from None


def _inferred(
    ctx: _Context, scenario_fixed: str, scenario: str, res: Any, log: DetailLog, path: str
) -> tuple[bool, Any, bool]:
    """A result for one scenario measured in another (Offline from SingleStream or MultiStream,
    MultiStream from SingleStream); Interactive only from a Server run."""
    inferred, valid = False, True
    if scenario_fixed == "Offline" and scenario == "SingleStream":
        inferred, res = True, log.get("result_qps_without_loadgen_overhead")
    elif scenario_fixed == "Offline" and scenario == "MultiStream":
        inferred = True
        spq, mean = log.get("effective_samples_per_query"), log.get("result_mean_query_latency_ns")
        try:
            res = spq * 1000 / (mean / (1000 * 1000))
        except Exception:
            raise _Raised("cannot infer Offline from this MultiStream log", path) from None
    elif scenario_fixed == "MultiStream" and scenario == "SingleStream":
        inferred = True
        spq = ctx.rs["multistream_samples_per_query"]
        if scenario in ctx.rs["early_stopping_scenarios"]:
            es = log.get("early_stopping_latency_ms")
            if es == 0:
                valid = False
            try:
                res = (es * spq) / (1000 * 1000)
            except TypeError:
                raise _Raised("early_stopping_latency_ms is missing: cannot infer MultiStream", path) from None
    allowed = ctx.rs["inferred_scenarios"].get(scenario_fixed)
    if allowed is not None and scenario not in allowed:
        valid = False
    return inferred, res, valid


def _check_performance(
    ctx: _Context, model: str, folder: str, scenario_fixed: str, system: dict[str, Any], sink: _Sink
) -> _Perf:
    """One LoadGen performance run. Raises _Raised where the official checker raises."""
    rs = ctx.rs
    path = os.path.join(folder, "mlperf_log_detail.txt")
    log = ctx.log(path)
    if log.missing:
        raise _Raised("mlperf_log_detail.txt is missing", path)
    if log.problem:
        raise _Raised(f"the detail log: {log.problem}", path, log.problem_line)
    L = log.line
    valid = log.get("result_validity") == "VALID"
    if not valid:
        sink.error(
            C.VALIDITY,
            f"LoadGen says the result is {log.get('result_validity')!r}, not VALID",
            path,
            L("result_validity"),
        )
    scenario = log.get("effective_scenario")
    res = _result_value(ctx, model, log, path)
    if model in rs["token_latency_models"]:
        if not log.get("requested_use_token_latencies"):
            sink.error(
                C.TOKEN_LATENCY,
                "use_token_latencies must be enabled for this model",
                path,
                L("requested_use_token_latencies"),
            )
            valid = False
        elif scenario_fixed in rs["token_latency_scenarios"]:
            limits = rs["token_latency_limits_ns"].get(model, {}).get(scenario_fixed)
            if limits is None:
                raise _Raised(f"no token latency limits for {model} {scenario_fixed}", path)
            ttft = log.get("result_first_token_99.00_percentile_latency_ns")
            tpot = log.get("result_time_per_output_token_99.00_percentile_ns")
            try:
                ok = ttft < limits["ttft"] and tpot < limits["tpot"]
            except TypeError:
                raise _Raised("the token latency percentiles are missing", path) from None
            if not ok:
                sink.error(
                    C.TOKEN_LATENCY,
                    f"99th percentile TTFT {ttft} ns and TPOT {tpot} ns must be below "
                    f"{limits['ttft']} ns and {limits['tpot']} ns",
                    path,
                    L("result_first_token_99.00_percentile_latency_ns"),
                )
                valid = False
    min_query_count = log.get("effective_min_query_count")
    samples_per_query = log.get("effective_samples_per_query")
    min_duration = log.get("effective_min_duration_ms")
    if model in rs["equal_issue_models"] and log.get("effective_sample_concatenate_permutation") != True:  # noqa: E712 - as the official checker compares
        sink.error(
            C.EQUAL_ISSUE,
            "equal-issue mode (sample_concatenate_permutation) is required",
            path,
            L("effective_sample_concatenate_permutation"),
        )
        valid = False
    try:
        has_errors = log.num_errors() != 0
    except Exception:
        has_errors = True
    if has_errors:
        for line, value in log.errors[:10]:
            sink.error(C.LOG_ERRORS, f"LoadGen error: {value}", path, line)
        if not log.errors:
            sink.error(C.LOG_ERRORS, f"LoadGen reports {log.num_errors()} errors", path, L("num_errors"))
        valid = False
    resolved = rs.resolve_model(model)
    if resolved not in rs["performance_sample_count"]:
        raise _Raised(f"model {model!r} has no performance sample count", path)
    need = rs["performance_sample_count"][resolved]
    got = log.get("effective_performance_sample_count")
    if got < need:
        sink.error(
            C.SAMPLE_COUNT,
            f"performance_sample_count is {got}, needs to be at least {need}",
            path,
            L("effective_performance_sample_count"),
        )
        valid = False
    for seed, expected in rs["seeds"].items():
        if log.get("effective_" + seed) != expected:
            sink.error(
                C.SEEDS, f"{seed} is {log.get('effective_' + seed)}, expected {expected}", path, L("effective_" + seed)
            )
            valid = False
    if scenario in rs["latency_scenarios_ns_to_ms"]:
        res /= 1000 * 1000
    target = rs["latency_constraint_ns"].get(model, {}).get(scenario)
    if scenario in rs["early_stopping_scenarios"]:
        if not log.get("early_stopping_met"):
            sink.warning(
                C.EARLY_STOPPING,
                f"early stopping condition not met: {log.get('early_stopping_result')}",
                path,
                L("early_stopping_met"),
            )
        if target:
            latency = log.get("effective_target_latency_ns")
            if latency > target:
                sink.error(
                    C.LATENCY,
                    f"target latency {latency} ns is above the constraint {target} ns",
                    path,
                    L("effective_target_latency_ns"),
                )
                valid = False
    else:
        latency = log.get("result_99.00_percentile_latency_ns")
        if target and latency > target:
            sink.warning(
                C.LATENCY,
                f"99th percentile latency {latency} ns is above {target} ns",
                path,
                L("result_99.00_percentile_latency_ns"),
            )
        if resolved not in rs["min_queries"]:
            raise _Raised(f"model {model!r} has no minimum query count", path)
        need_q = rs["min_queries"][resolved].get(scenario)
        if need_q and min_query_count < need_q:
            sink.error(
                C.QUERY_COUNT,
                f"min_query_count is {min_query_count}, needs {need_q}",
                path,
                L("effective_min_query_count"),
            )
            valid = False
    if scenario == "Offline":
        spq_need = rs["offline_min_samples_per_query"].get(model)
        if spq_need is None:
            raise _Raised(f"model {model!r} has no Offline minimum samples per query", path)
        if samples_per_query < spq_need:
            sink.error(
                C.QUERY_COUNT,
                f"samples_per_query is {samples_per_query}, needs {spq_need}",
                path,
                L("effective_samples_per_query"),
            )
            valid = False
    if min_duration < rs["min_duration_ms"]:
        sink.error(
            C.DURATION,
            f"min_duration is {min_duration} ms, needs {rs['min_duration_ms']} ms",
            path,
            L("effective_min_duration_ms"),
        )
        valid = False
    inferred = False
    if scenario_fixed != scenario:
        inferred, res, inferred_ok = _inferred(ctx, scenario_fixed, scenario, res, log, path)
        if not inferred_ok:
            sink.error(
                C.INFERRED,
                f"a {scenario_fixed} result cannot come from a {scenario} run",
                path,
                L("effective_scenario"),
            )
            valid = False
    is_network, network_ok = _network_mode(ctx, system)
    if not network_ok:
        sink.error(C.NETWORK, f"network mode is {is_network}, which division {ctx.division!r} does not allow", path)
        valid = False
    if is_network:
        sut = log.get("sut_name")
        if rs["network"]["sut_name_substring"] not in sut:
            sink.error(
                C.NETWORK, f"sut_name {sut!r} must contain {rs['network']['sut_name_substring']!r}", path, L("sut_name")
            )
            valid = False
    return _Perf(valid, res, inferred)


def _summary_advisories(ctx: _Context, folder: str, log: DetailLog, sink: _Sink) -> None:
    """The summary is LoadGen's human copy of the detail log: say where it disagrees."""
    path = os.path.join(folder, "mlperf_log_summary.txt")
    if not os.path.exists(path) or not log.readable:
        return
    summary = read_summary_log(path)
    for key, text in summary.values.items():
        if key not in log.values:
            continue
        detail = log.values[key]
        if isinstance(detail, (int, float)) and not isinstance(detail, bool):
            try:
                same = abs(float(text) - float(detail)) <= max(1e-3 * abs(float(detail)), 0.0051)  # printed rounded
            except ValueError:
                same = False
        else:
            same = str(text) == str(detail)
        if not same:
            sink.add(
                ADVISORY,
                C.SUMMARY,
                f"the summary says {key} is {text!r} but the detail log says {detail!r} "
                f"(line {log.line(key)}); the detail log is what counts",
                path,
                summary.lines[key],
            )


# ---------------------------------------------------------------------------------------------
# power


def _power_metric(ctx: _Context, scenario_fixed: str, folder: str, res: Any) -> tuple[bool, float, float, str | None]:
    fmt = ctx.rs["power"]["timestamp_format"]
    log = ctx.log(os.path.join(folder, "mlperf_log_detail.txt"))
    try:
        begin = datetime.datetime.strptime(log.get("power_begin"), fmt)
        end = datetime.datetime.strptime(log.get("power_end"), fmt)
    except (TypeError, ValueError):
        raise _Raised("power_begin or power_end is missing or malformed", log.path, log.line("power_begin")) from None
    samples = []
    spl = os.path.join(folder, "spl.txt")
    try:
        with open(spl, encoding="utf-8", errors="strict") as f:
            for line in f:
                if not line.startswith("Time"):
                    continue
                parts = line.split(",")
                ts = datetime.datetime.strptime(parts[1], fmt)
                if begin < ts < end:
                    value = float(parts[3])
                    if value > 0:
                        samples.append(value)
    except (OSError, ValueError, IndexError):
        raise _Raised("spl.txt is missing or malformed", spl) from None
    if not samples:
        return False, 0.0, 0.0, f"no power samples between {begin} and {end}"
    avg = sum(samples) / len(samples)
    duration = (end - begin).total_seconds()
    if scenario_fixed not in ctx.rs["power"]["energy_scenarios"]:
        return True, avg, res / avg, None
    queries = int(log.get("result_query_count"))
    spq = 1 if scenario_fixed == "SingleStream" else ctx.rs["multistream_samples_per_query"]
    metric = avg * duration * 1000 / queries
    if scenario_fixed == "MultiStream" and log.get("effective_scenario") == "SingleStream":
        metric = avg * duration * spq * 1000 / queries
    return True, metric, (spq * 1000) / metric, None


def _check_power(
    ctx: _Context, name: str, perf: str, scenario_fixed: str, res: Any, sink: _Sink
) -> tuple[bool, float, float]:
    files = ctx.rs["files"]
    power_dir = os.path.join(name, "performance", "power")
    ranging = os.path.join(name, "performance", "ranging")
    ok = True
    required = files["performance"] + files["performance_power"]
    ok &= _check_files(ctx, perf, required, files["performance_optional"], sink)
    ok &= _check_files(ctx, ranging, required, files["performance_optional"], sink)
    ok &= _check_files(ctx, power_dir, files["power"], [], sink)
    valid, metric, efficiency, why = _power_metric(ctx, scenario_fixed, perf, res)
    if why:
        sink.error(C.POWER, why, os.path.join(perf, "spl.txt"))
    # the Power WG's power_checker.py, which the official checker runs on every power result
    for finding in check_power_session(ctx.rs["power_session"], os.path.join(name, "performance")):
        sink.add(
            ERROR if finding.severity == "error" else WARNING, C.POWER, finding.message, finding.path, finding.line
        )
        ok &= finding.severity != "error"
    return bool(ok and valid), metric, efficiency


# ---------------------------------------------------------------------------------------------
# compliance tests


def _check_compliance_perf_dir(ctx: _Context, test_dir: str, sink: _Sink) -> bool:
    verify = os.path.join(test_dir, "verify_performance.txt")
    if not os.path.exists(verify):
        sink.error(C.COMPLIANCE, "verify_performance.txt is missing", test_dir)
        return False
    try:
        ok = any("TEST PASS" in line for line in _read_text_lines(verify))
    except (OSError, UnicodeDecodeError):
        raise _Raised("verify_performance.txt is unreadable or not UTF-8", verify) from None
    if not ok:
        sink.error(C.COMPLIANCE, "the performance check did not pass (no TEST PASS line)", verify)
    run = os.path.join(test_dir, "performance", "run_1")
    if not os.path.isdir(run):
        sink.error(C.COMPLIANCE, "no performance/run_1 folder", test_dir)
        return False
    files = ctx.rs["files"]
    if not _check_files(ctx, run, files["compliance_performance"], files["compliance_performance_optional"], sink):
        return False
    return ok


def _metric_values(ctx: _Context, model: str, path: str) -> dict[str, float]:
    targets = ctx.rs.targets[model]
    out = {t.metric: 0.0 for t in targets}
    for line in _read_text_lines(path):
        for t in targets:
            m = ctx.rs.patterns[t.metric].match(line)
            if m:
                out[t.metric] = float(m.group(1))
    return out


def _check_compliance_acc_dir(ctx: _Context, test: str, test_dir: str, model: str, sink: _Sink) -> bool:
    rs = ctx.rs
    verify = os.path.join(test_dir, "verify_accuracy.txt")
    if not os.path.exists(verify):
        sink.error(C.COMPLIANCE, "verify_accuracy.txt is missing", test_dir)
        return False
    try:
        lines = _read_text_lines(verify)
    except (OSError, UnicodeDecodeError):
        raise _Raised("verify_accuracy.txt is unreadable or not UTF-8", verify) from None
    if test == "TEST06":
        stripped = {line.strip() for line in lines}
        ok = True
        for alternatives in rs["compliance_tests"]["test06_required_lines"]:
            if not any(a in stripped for a in alternatives):
                sink.error(C.COMPLIANCE, f"TEST06 check failed: no line {alternatives[0]!r}", verify)
                ok = False
        return ok
    # TEST01: accuracy may differ in deterministic mode if the non-deterministic check passes
    passed = any("TEST PASS" in line for line in lines)
    acc_dir = os.path.join(test_dir, "accuracy")
    if not os.path.isdir(acc_dir):
        sink.error(C.COMPLIANCE, "no accuracy folder", test_dir)
        return False
    files = rs["files"]
    required = files["test01_accuracy"] + ([] if passed else files["test01_accuracy_when_failed"])
    if not _check_files(ctx, acc_dir, required, [], sink):
        return False
    if passed:
        return True
    try:
        baseline = _metric_values(ctx, model, os.path.join(acc_dir, "baseline_accuracy.txt"))
        compliance = _metric_values(ctx, model, os.path.join(acc_dir, "compliance_accuracy.txt"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise _Raised("baseline_accuracy.txt or compliance_accuracy.txt is unreadable", acc_dir) from None
    ok = True
    for t in rs.targets[model]:
        b, c = baseline[t.metric], compliance[t.metric]
        if b == 0 or c == 0:
            sink.error(C.COMPLIANCE, f"TEST01: no {t.metric} in the baseline or compliance accuracy", acc_dir)
            return False
        delta = abs(1 - b / c) * 100
        allowed = rs.delta_percent(model, t.metric)
        if delta <= allowed:
            ok = True
        else:
            sink.error(C.COMPLIANCE, f"TEST01: {t.metric} differs by {delta:.3f}% (at most {allowed}%)", acc_dir)
            return False
    return ok


def _check_compliance(
    ctx: _Context, compliance_dir: str, model: str, scenario_fixed: str, system: dict[str, Any], sink: _Sink
) -> bool:
    rs = ctx.rs
    tests = rs.compliance_tests(model)
    if tests and not os.path.isdir(compliance_dir):
        sink.error(C.COMPLIANCE, f"no compliance folder (needs {', '.join(tests)})", compliance_dir)
        return False
    perf_ok, dirs_ok = True, True
    skip_perf = rs["compliance_tests"]["skip_performance_when_listed"] in tests
    perf_valid: bool | None = None
    for test in tests:
        test_dir = os.path.join(compliance_dir, test)
        if not os.path.isdir(test_dir):
            sink.error(C.COMPLIANCE, f"{test} is missing", test_dir)
            dirs_ok = False
            continue
        if skip_perf:
            continue
        run = os.path.join(test_dir, "performance", "run_1")
        test_sink = _Sink(ctx, [])
        try:
            perf_valid = _check_performance(ctx, model, run, scenario_fixed, system, test_sink).valid
        except OFFICIAL_RAISES as exc:
            test_sink.error(
                C.COMPLIANCE,
                f"{_raise_message(exc)}; the official checker raises here",
                getattr(exc, "file", None) or os.path.join(run, "mlperf_log_detail.txt"),
                getattr(exc, "line", None),
            )
        for f in test_sink.findings:
            sink.findings.append(
                InferenceFinding(
                    f.severity, C.COMPLIANCE if f.severity == ERROR else f.check, f"{test}: {f.message}", f.file, f.line
                )
            )
        dir_ok = _check_compliance_perf_dir(ctx, test_dir, sink)
        if perf_ok and dir_ok and perf_valid is None:
            raise _Raised(f"{test}: the performance check raised before any result", run)
        perf_ok = perf_ok and dir_ok and bool(perf_valid)
    acc_ok = True
    for test in rs["compliance_tests"]["accuracy_tests"]:
        if test in tests:
            acc_ok &= _check_compliance_acc_dir(ctx, test, os.path.join(compliance_dir, test), model, sink)
    return perf_ok and acc_ok and dirs_ok


# ---------------------------------------------------------------------------------------------
# one result folder


def _csv_row_problem(system: dict[str, Any]) -> str | None:
    """The official checker writes a passing result's row with string concatenation: a
    non-text value in these fields makes it raise instead."""
    for k in ("host_processor_model_name", "accelerator_model_name"):
        if not isinstance(system.get(k), str):
            return f"{k} is not text"
    for k in ("framework", "operating_system"):
        if not isinstance(system.get(k, ""), str):
            return f"{k} is not text"
    hw = system.get("hw_notes", "")
    if system.get("sw_notes"):
        if hw and not isinstance(hw, str):
            return "hw_notes is not text"
        if not isinstance(system.get("sw_notes"), str):
            return "sw_notes is not text"
    return None


def _check_scenario(
    ctx: _Context,
    rep: ResultReport,
    name: str,
    submitter_dir: str,
    system_desc: str,
    model_name: str,
    mlperf_model: str,
    scenario: str,
    all_scenarios: set[str],
    system: dict[str, Any],
    system_json_path: str,
) -> str | None:
    """Checks one result folder. Its findings go to ``rep``; a passing result gets its score and
    units. Returns the official scenario name when the performance run is valid: the official
    checker counts the scenario as present for the package from then on, whatever the accuracy
    and compliance checks say."""
    rs = ctx.rs
    sink = _Sink(ctx, rep.findings)
    scenario_fixed = rs["scenario_mapping"].get(scenario, scenario)
    if ctx.closed_rules and scenario_fixed not in all_scenarios:
        sink.error(C.SCENARIO, f"{scenario!r} is neither a required nor an optional scenario of {mlperf_model}", name)
        return None
    has_power = os.path.exists(os.path.join(name, "performance", "power"))
    measurement_dir = os.path.join(submitter_dir, "measurements", system_desc, model_name, scenario)
    if not os.path.isdir(measurement_dir):
        sink.error(C.MEASUREMENTS, "no measurements folder for this result", measurement_dir)
        return None
    if _check_measurements(ctx, measurement_dir, system_desc, submitter_dir, model_name, scenario, has_power, sink):
        return None
    acc_path = os.path.join(name, "accuracy")
    if not os.path.exists(os.path.join(acc_path, "accuracy.txt")):
        sink.error(C.ACCURACY, "accuracy.txt is missing (make it with the model's accuracy script)", acc_path)
        return None
    files = rs["files"]
    if not _check_files(ctx, acc_path, files["accuracy"], [], sink):
        return None
    acc_sink = _Sink(ctx, [])
    try:
        accuracy_valid, acc = _check_accuracy_dir(ctx, mlperf_model, acc_path, acc_sink)
    except OFFICIAL_RAISES as exc:
        # the official checker stops here: this result (and those after it) get no row
        sink.error(
            C.OFFICIAL_CRASH,
            f"{_raise_message(exc)}; the official checker raises on this accuracy run",
            getattr(exc, "file", None) or acc_path,
            getattr(exc, "line", None),
        )
        rep.findings.extend(acc_sink.findings)
        return None
    rep.accuracy = acc
    if mlperf_model in rs["required_accuracy_extras"] and not _check_extra_accuracy_files(
        ctx, mlperf_model, acc_path, acc_sink
    ):
        accuracy_valid = False
    if not accuracy_valid and acc and not ctx.closed_rules:
        # the open division takes any accuracy it can read
        acc_sink.findings[:] = [
            InferenceFinding(WARNING, f.check, f"{f.message} (accepted in the open division)", f.file, f.line)
            if f.severity == ERROR
            else f
            for f in acc_sink.findings
        ]
        accuracy_valid = True
    rep.findings.extend(acc_sink.findings)
    if not accuracy_valid and not any(f.severity == ERROR for f in acc_sink.findings):
        sink.error(C.ACCURACY, "the accuracy run is not valid", acc_path)

    perf_ok, score = True, None
    perf_path = os.path.join(name, "performance", "run_1")
    if not os.path.isdir(perf_path):
        sink.error(C.FILES, "performance/run_1 is missing", perf_path)
        return None
    required = files["performance"] + (files["performance_power"] if has_power else [])
    if not _check_files(ctx, perf_path, required, files["performance_optional"], sink):
        return None
    try:
        perf = _check_performance(ctx, mlperf_model, perf_path, scenario_fixed, system, sink)
        perf_ok, score, rep.inferred = perf.valid, perf.score, perf.inferred
    except OFFICIAL_RAISES as exc:
        sink.error(
            C.OFFICIAL_CRASH,
            f"{_raise_message(exc)}; the official checker raises on this performance run",
            getattr(exc, "file", None) or os.path.join(perf_path, "mlperf_log_detail.txt"),
            getattr(exc, "line", None),
        )
        perf_ok, score = False, None
    _summary_advisories(ctx, perf_path, ctx.log(os.path.join(perf_path, "mlperf_log_detail.txt")), sink)
    power_metric = 0.0
    if has_power:
        ranging = os.path.join(name, "performance", "ranging")
        try:
            _result_value(ctx, mlperf_model, ctx.log(os.path.join(ranging, "mlperf_log_detail.txt")), ranging)
        except OFFICIAL_RAISES as exc:
            sink.error(C.POWER, f"ranging run: {_raise_message(exc)}", getattr(exc, "file", None) or ranging)
            perf_ok = False
        try:
            power_ok, power_metric, efficiency = _check_power(ctx, name, perf_path, scenario_fixed, score, sink)
            if not power_ok:
                perf_ok, power_metric = False, 0.0
            else:
                rep.power = {
                    "metric": power_metric,
                    "units": rs["units"]["power"].get(scenario_fixed),
                    "efficiency": efficiency,
                }
        except OFFICIAL_RAISES as exc:
            sink.error(
                C.POWER,
                f"{_raise_message(exc)}; the official checker raises on this power run",
                getattr(exc, "file", None) or perf_path,
            )
            perf_ok, score, power_metric = False, None, 0.0
    present = scenario_fixed if perf_ok else None
    compliance_ok = True
    if ctx.closed_rules:
        compliance_dir = os.path.join(submitter_dir, "compliance", system_desc, model_name, scenario)
        try:
            if not _check_compliance(ctx, compliance_dir, mlperf_model, scenario_fixed, system, sink):
                compliance_ok = False
        except OFFICIAL_RAISES as exc:
            sink.error(
                C.OFFICIAL_CRASH,
                f"{_raise_message(exc)}; the official checker raises here",
                getattr(exc, "file", None) or compliance_dir,
                getattr(exc, "line", None),
            )
            compliance_ok = False
    if not perf_ok or not accuracy_valid or not compliance_ok:
        if not any(f.severity == ERROR for f in rep.findings):
            sink.error(C.RESULT_ROW, "the result is not valid", name)
        return present
    if not score:
        sink.error(C.RESULT_ROW, f"the result is {score!r}: the official checker lists no result for it", perf_path)
        return present
    unit = rs.unit(mlperf_model, scenario_fixed)
    if unit is None:
        sink.error(
            C.OFFICIAL_CRASH,
            f"no units for scenario {scenario_fixed!r}: the official checker raises writing its row",
            name,
        )
        return present
    problem = _csv_row_problem(system)
    if problem:
        sink.error(C.OFFICIAL_CRASH, f"{problem}: the official checker raises writing its row", system_json_path)
        return present
    rep.score, rep.units = score, unit
    if power_metric > 0 and _truthy_bool(system.get("system_power_only")):
        rep.score, rep.units = power_metric, rs["units"]["power"].get(scenario_fixed)
    return present


# ---------------------------------------------------------------------------------------------
# one submitter


def check_submitter_dir(ctx: _Context, submitter_dir: str) -> SubmitterReport:
    rs = ctx.rs
    submitter = os.path.basename(os.path.normpath(submitter_dir))
    pkg = SubmitterReport(path=f"{ctx.division}/{submitter}", division=ctx.division, submitter=submitter)
    psink = _Sink(ctx, pkg.findings)
    results_dir = os.path.join(submitter_dir, "results")
    if os.path.exists(results_dir) and not os.path.isdir(results_dir):
        psink.error(C.LAYOUT, "results is a file, not a folder: the official checker raises here", results_dir)
        return pkg
    if not os.path.isdir(results_dir):
        psink.warning(C.LAYOUT, "no results folder: the official checker skips this folder", submitter_dir)
        return pkg

    # every result folder, whatever happens to the package
    reports: dict[tuple[str, str, str], ResultReport] = {}
    for system_desc in _list_dirs(results_dir):
        for model_name in _list_dirs(os.path.join(results_dir, system_desc)):
            for scenario in _list_dirs(os.path.join(results_dir, system_desc, model_name)):
                path = f"{ctx.division}/{submitter}/results/{system_desc}/{model_name}/{scenario}"
                reports[(system_desc, model_name, scenario)] = ResultReport(
                    path, ctx.division, submitter, system_desc, model_name, scenario
                )
    pkg.results = list(reports.values())

    def fail_all(where: Callable[[tuple[str, str, str]], bool], message: str, file: str | None) -> None:
        for key, rep in reports.items():
            if where(key):
                rep.findings.append(InferenceFinding(ERROR, C.LAYOUT, message, ctx.rel(file) if file else None, None))

    if _layout_findings(ctx, submitter_dir, psink):
        fail_all(lambda _k: True, "the package is rejected as a whole (see the package's findings)", submitter_dir)
        return pkg

    extra_mapping = None
    if ctx.division == "open":
        mpath = os.path.join(submitter_dir, rs["open_model_mapping_file"])
        if os.path.exists(mpath):
            try:
                with open(mpath, encoding="utf-8") as f:
                    extra_mapping = json.load(f)
                if not isinstance(extra_mapping, dict):
                    raise ValueError("not a JSON object")
            except (OSError, ValueError) as exc:
                psink.error(
                    C.MODEL_MAPPING, f"not a readable JSON object ({exc}); the official checker raises here", mpath
                )
                fail_all(lambda _k: True, "the open division's model mapping is unreadable", mpath)
                return pkg

    systems_dir = os.path.join(submitter_dir, "systems")
    described = {f[: -len(".json")] for f in _list_files(systems_dir) if f.endswith(".json")}
    for s in sorted(described - set(_list_dirs(results_dir))):
        psink.error(
            C.SYSTEMS_WITHOUT_RESULTS, "a system description without results", os.path.join(systems_dir, s + ".json")
        )

    if (
        rs["calibration_required"]
        and ctx.division != "open"
        and not any(os.path.exists(os.path.join(submitter_dir, c)) for c in rs["calibration_files"])
    ):
        psink.error(
            C.CALIBRATION,
            f"no calibration documentation: one of {', '.join(rs['calibration_files'])} is required",
            submitter_dir,
        )

    for system_desc in _list_dirs(results_dir):
        system_path = os.path.join(systems_dir, system_desc + ".json")
        in_system = lambda k, s=system_desc: k[0] == s  # noqa: E731
        if not os.path.exists(system_path):
            psink.error(C.SYSTEM_MISSING, f"no system description for results/{system_desc}", system_path)
            fail_all(in_system, "no system description for this system", system_path)
            continue
        system, type_key = _check_system(ctx, system_path, submitter, psink)
        if system is None or type_key is None:
            fail_all(in_system, "the system description is rejected (see the package's findings)", system_path)
            continue
        for model_name in _list_dirs(os.path.join(results_dir, system_desc)):
            model_dir = os.path.join(results_dir, system_desc, model_name)
            in_model = lambda k, s=system_desc, m=model_name: k[0] == s and k[1] == m  # noqa: E731
            mlperf_model = rs.resolve_model(model_name, extra_mapping)
            if ctx.closed_rules and mlperf_model not in rs["models"]:
                psink.error(C.MODEL, f"{model_name!r} is not a model of the {ctx.division} division", model_dir)
                fail_all(in_model, f"{model_name!r} is not a model of the {ctx.division} division", model_dir)
                continue
            required = rs.required_scenarios(type_key, mlperf_model)
            if required is None:
                psink.error(
                    C.MODEL, f"{model_name!r} ({mlperf_model}) is not a model for {type_key} systems", model_dir
                )
                fail_all(in_model, f"{mlperf_model!r} is not a model for {type_key} systems", model_dir)
                continue
            optional = rs.optional_scenarios(type_key, mlperf_model)
            all_scenarios = required | optional
            for scenario in _list_dirs(model_dir):
                rep = reports[(system_desc, model_name, scenario)]
                rep.mlperf_model = mlperf_model
                try:
                    fixed = _check_scenario(
                        ctx,
                        rep,
                        os.path.join(model_dir, scenario),
                        submitter_dir,
                        system_desc,
                        model_name,
                        mlperf_model,
                        scenario,
                        all_scenarios,
                        system,
                        system_path,
                    )
                except Exception as exc:
                    rep.findings.append(
                        InferenceFinding(
                            ERROR, "engine.error", f"the checker failed on this result: {exc!r}", rep.path, None
                        )
                    )
                    fixed = None
                if fixed:
                    required.discard(fixed)
                    optional.discard(fixed)
            if required and ctx.closed_rules:
                psink.error(
                    C.SCENARIOS_MISSING, f"required scenarios missing: {', '.join(sorted(required))}", model_dir
                )
            elif required:
                psink.warning(
                    C.SCENARIOS_MISSING,
                    f"required scenarios missing (allowed in the open division): {', '.join(sorted(required))}",
                    model_dir,
                )
            if ctx.closed_rules and rs["one_of_server_or_interactive"] and {"Server", "Interactive"} <= optional:
                psink.error(C.SCENARIOS_MISSING, "one of Server or Interactive is required", model_dir)
    return pkg


def make_context(rs: Ruleset, division_dir: str, division: str) -> _Context:
    path = os.path.abspath(division_dir)
    return _Context(rs, os.path.dirname(path), division, path)
