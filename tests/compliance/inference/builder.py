"""Small MLPerf Inference submissions written in the real formats, for the checker's tests.

``Submission(tmp_path).result(...)`` writes one result folder with everything the v5.1 rules
require of it (system description, measurements, code, accuracy and performance runs, the
compliance tests), every value passing; keyword arguments change one thing at a time. Values are
the published v5.1 ones (seeds, sample counts, durations) written out here, not read from the
engine's rule data, so a wrong rule in the data shows up as a failing test.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEEDS = {
    "qsl_rng_seed": 1780908523862526354,
    "sample_index_rng_seed": 14771362308971278857,
    "schedule_rng_seed": 18209322760996052031,
}

# model -> (performance sample count, data set size, Offline samples per query)
COUNTS = {
    "resnet": (1024, 50000, 24576),
    "retinanet": (64, 24781, 24576),
    "bert-99": (10833, 10833, 10833),
    "bert-99.9": (10833, 10833, 10833),
    "dlrm-v2-99": (204800, 330067, 24576),
    "dlrm-v2-99.9": (204800, 330067, 24576),
    "3d-unet-99": (43, 43, 43),
    "3d-unet-99.9": (43, 43, 43),
    "llama3.1-8b": (13368, 13368, 13368),
    "llama3.1-8b-edge": (5000, 5000, 5000),
    "llama2-70b-99": (24576, 24576, 24576),
    "llama2-70b-99.9": (24576, 24576, 24576),
    "stable-diffusion-xl": (5000, 5000, 5000),
    "mixtral-8x7b": (15000, 15000, 15000),
    "llama3.1-405b": (8313, 8313, 8313),
    "rgat": (788379, 788379, 788379),
    "pointpainting": (1024, 39987, 1024),
    "deepseek-r1": (4388, 4388, 4388),
    "whisper": (1633, 1633, 1633),
}

LLMS = {
    "llama3.1-8b",
    "llama3.1-8b-edge",
    "llama2-70b-99",
    "llama2-70b-99.9",
    "mixtral-8x7b",
    "llama3.1-405b",
    "deepseek-r1",
}
EQUAL_ISSUE = LLMS | {"3d-unet-99", "3d-unet-99.9", "rgat", "whisper"}

# accuracy.txt for each model, at the reference accuracy (the line formats of the reference
# accuracy scripts)
ACCURACY_TXT = {
    "resnet": "accuracy=76.460%, good=38230, total=50000\n",
    "retinanet": "mAP=37.550%\n",
    "bert-99": '{"exact_match": 83.67, "f1": 90.874}\n',
    "bert-99.9": '{"exact_match": 83.67, "f1": 90.874}\n',
    "dlrm-v2-99": "AUC=80.310\n",
    "dlrm-v2-99.9": "AUC=80.310\n",
    "3d-unet-99": "Accuracy: mean = 0.86170, kidney = 0.9347, tumor = 0.7887\n",
    "3d-unet-99.9": "Accuracy: mean = 0.86170, kidney = 0.9347, tumor = 0.7887\n",
    "llama3.1-8b": "{'rouge1': 38.7792, 'rouge2': 15.9075, 'rougeL': 24.4957, 'rougeLsum': 35.793, "
    "'gen_len': 8167644, 'gen_num': 13368}\n",
    "llama3.1-8b-edge": "{'rouge1': 39.06, 'rouge2': 16.1147, 'rougeL': 24.6375, 'rougeLsum': 36.124, "
    "'gen_len': 3051113, 'gen_num': 5000}\n",
    "llama2-70b-99": "{'rouge1': 44.4312, 'rouge2': 22.0352, 'rougeL': 28.6162, 'rougeLsum': 42.0, "
    "'gen_len': 29615930, 'gen_num': 24576, 'tokens_per_sample': 294.45}\n",
    "llama2-70b-99.9": "{'rouge1': 44.4312, 'rouge2': 22.0352, 'rougeL': 28.6162, 'rougeLsum': 42.0, "
    "'gen_len': 29615930, 'gen_num': 24576, 'tokens_per_sample': 294.45}\n",
    "stable-diffusion-xl": "{'FID_SCORE': 23.4, 'CLIP_SCORE': 31.75}\n",
    "mixtral-8x7b": "{'rouge1': 45.5989, 'rouge2': 23.3526, 'rougeL': 30.4608, 'rougeLsum': 42.5, "
    "'gsm8k': 73.66, 'mbxp': 60.16, 'gen_len': 2177473, 'gen_num': 15000, 'tokens_per_sample': 145.0}\n",
    "llama3.1-405b": "{'rougeL': 21.6666, 'exact_match': 90.1335, 'gen_len': 5691787, 'gen_num': 8313, "
    "'tokens_per_sample': 684.68}\n",
    "rgat": '{"accuracy": 0.7286, "total": 788379}\n',
    "pointpainting": "mAP=0.5425\n",
    "deepseek-r1": "{'exact_match': 81.3582, 'tokens_per_sample': 3886.2274}\n",
    "whisper": "Word Error Rate: 2.0671%, accuracy=97.9329%\n",
}

SDXL_IMAGES = ["2747", "2235", "2165", "1515", "1538", "1367", "2419", "4629", "3657", "4532"]

# compliance tests each v5.1 model needs
TESTS = {
    "resnet": ["TEST01", "TEST04"],
    "stable-diffusion-xl": ["TEST01", "TEST04"],
    "pointpainting": ["TEST01", "TEST04"],
    "llama3.1-8b-edge": [],
}
for _m in (
    "retinanet",
    "bert-99",
    "bert-99.9",
    "dlrm-v2-99",
    "dlrm-v2-99.9",
    "3d-unet-99",
    "3d-unet-99.9",
    "rgat",
    "whisper",
):
    TESTS[_m] = ["TEST01"]
for _m in ("llama3.1-8b", "llama2-70b-99", "llama2-70b-99.9", "mixtral-8x7b", "llama3.1-405b", "deepseek-r1"):
    TESTS[_m] = ["TEST06"]


def record(key: str, value: Any, *, error: bool = False) -> str:
    body = {
        "key": key,
        "value": value,
        "time_ms": 0.01,
        "namespace": "mlperf::logging",
        "event_type": "POINT_IN_TIME",
        "metadata": {"is_error": error, "is_warning": False, "file": "loadgen.cc", "line_no": 1, "pid": 1, "tid": 1},
    }
    return ":::MLLOG " + json.dumps(body)


def detail_values(model: str, log_scenario: str, score: float, mode: str = "PerformanceOnly") -> dict[str, Any]:
    psc, dataset, spq = COUNTS[model]
    v: dict[str, Any] = {
        "loadgen_version": "5.1.0 @ 0000000",
        "test_datetime": "2025-07-31T09:26:03Z",
        "sut_name": "PySUT",
        "qsl_reported_total_count": dataset,
        "qsl_reported_performance_count": psc,
        "requested_scenario": log_scenario,
        "requested_use_token_latencies": model in LLMS,
        "effective_scenario": log_scenario,
        "effective_test_mode": mode,
        "effective_samples_per_query": spq
        if log_scenario == "Offline"
        else (8 if log_scenario == "MultiStream" else 1),
        "effective_target_latency_ns": 0,
        "effective_min_duration_ms": 600000,
        "effective_min_query_count": 270336 if log_scenario == "Server" else (1 if log_scenario == "Offline" else 1024),
        "effective_performance_sample_count": psc,
        "effective_sample_concatenate_permutation": model in EQUAL_ISSUE,
        "loaded_qsl_set": list(range(min(psc, 3000))),
        "result_validity": "VALID",
        "early_stopping_met": True,
        "result_99.00_percentile_latency_ns": 1000000,
        "result_mean_latency_ns": 500000,
        "result_query_count": 300000,
        "result_first_token_99.00_percentile_latency_ns": 100000000,
        "result_time_per_output_token_99.00_percentile_ns": 10000000,
        **{"effective_" + k: s for k, s in SEEDS.items()},
    }
    if log_scenario == "Offline":
        v["result_samples_per_second"] = score
        v["result_tokens_per_second"] = score
    elif log_scenario == "Server":
        v["result_completed_samples_per_sec"] = score
        v["result_completed_tokens_per_second"] = score
        v["result_scheduled_samples_per_sec"] = score
    elif log_scenario == "SingleStream":
        v["early_stopping_latency_ss"] = score
        v["result_90.00_percentile_latency_ns"] = score
    elif log_scenario == "MultiStream":
        v["early_stopping_latency_ms"] = score
        v["result_99.00_percentile_per_query_latency_ns"] = score
        v["result_mean_query_latency_ns"] = score
    v["num_errors"] = 0
    return v


def write_detail(path: Path, values: dict[str, Any], extra_lines: list[str] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [record(k, v) for k, v in values.items()]
    lines += extra_lines or []
    path.write_text("\n".join(lines) + "\n")


def write_summary(path: Path, values: dict[str, Any]) -> None:
    scenario = values["effective_scenario"]
    out = [
        "================================================",
        "MLPerf Results Summary",
        "================================================",
        f"SUT name : {values['sut_name']}",
        f"Scenario : {scenario}",
        "Mode     : PerformanceOnly",
    ]
    if "result_samples_per_second" in values:
        out.append(f"Samples per second: {values['result_samples_per_second']}")
    if "result_completed_samples_per_sec" in values:
        out.append(f"Completed samples per second    : {values['result_completed_samples_per_sec']}")
    out.append(f"Result is : {values['result_validity']}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n")


SYSTEM_FIELDS = [
    "status", "system_name", "number_of_nodes", "host_processor_model_name", "host_processors_per_node",
    "host_processor_core_count", "host_memory_capacity", "host_storage_capacity", "host_storage_type",
    "accelerators_per_node", "accelerator_model_name", "accelerator_memory_capacity", "framework",
    "operating_system", "system_type", "other_software_stack", "host_processor_frequency",
    "host_processor_caches", "host_memory_configuration", "host_processor_interconnect", "host_networking",
    "host_networking_topology", "accelerator_frequency", "accelerator_host_interconnect",
    "accelerator_interconnect", "accelerator_interconnect_topology", "accelerator_memory_configuration",
    "accelerator_on-chip_memories", "cooling", "hw_notes", "sw_notes", "host_network_card_count",
    "system_type_detail",
]  # fmt: skip


def system_json(submitter: str, division: str, system_type: str) -> dict[str, Any]:
    d: dict[str, Any] = {k: "x" for k in SYSTEM_FIELDS}
    d.update(
        division=division,
        submitter=submitter,
        status="available",
        system_type=system_type,
        number_of_nodes=1,
        accelerators_per_node=8,
        host_processors_per_node=2,
        host_processor_core_count=64,
        host_network_card_count=1,
    )
    return d


@dataclass
class Submission:
    """``<tmp>/<division>/<submitter>`` with result folders added by ``result()``."""

    base: Path
    division: str = "closed"
    submitter: str = "Acme"
    system: str = "sys8"
    system_type: str = "datacenter"
    systems: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def division_dir(self) -> Path:
        return self.base / self.division

    @property
    def root(self) -> Path:
        return self.base / self.division / self.submitter

    def result_dir(self, model: str, scenario: str, system: str | None = None) -> Path:
        return self.root / "results" / (system or self.system) / model / scenario

    def write_system(self, system: str | None = None, **changes: Any) -> Path:
        name = system or self.system
        d = system_json(self.submitter, self.division, self.system_type)
        d.update(changes)
        path = self.root / "systems" / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(d, indent=1))
        return path

    def result(
        self,
        model: str,
        scenario: str,
        *,
        score: float = 1234.5,
        log_scenario: str | None = None,
        perf: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
        accuracy_txt: str | None = None,
        accuracy: dict[str, Any] | None = None,
        model_folder: str | None = None,
        system: str | None = None,
    ) -> Path:
        """Writes a passing result folder; ``perf`` overrides detail log values of the
        performance run, ``accuracy`` those of the accuracy run, ``drop`` removes detail log keys."""
        sysname = system or self.system
        folder = model_folder or model
        log_scenario = log_scenario or {"Interactive": "Server"}.get(scenario, scenario)
        if not (self.root / "systems" / f"{sysname}.json").exists():
            self.write_system(sysname)
        doc = self.root / "documentation" / "calibration.md"
        if not doc.exists():
            doc.parent.mkdir(parents=True, exist_ok=True)
            doc.write_text("# Calibration\nNone needed.\n")
        code = self.root / "code" / folder / "README.md"
        code.parent.mkdir(parents=True, exist_ok=True)
        code.write_text("# code\n")
        meas = self.root / "measurements" / sysname / folder / scenario
        meas.mkdir(parents=True, exist_ok=True)
        (meas / "user.conf").write_text(f"*.{scenario}.target_qps = 100\n")
        (meas / "README.md").write_text("# How to run\n")
        (meas / f"{sysname}.json").write_text(
            json.dumps(
                {
                    "input_data_types": "fp16",
                    "retraining": "no",
                    "starting_weights_filename": "weights.bin",
                    "weight_data_types": "fp8",
                    "weight_transformations": "quantization",
                }
            )
        )
        res = self.result_dir(folder, scenario, sysname)
        run = res / "performance" / "run_1"
        values = detail_values(model, log_scenario, score)
        values.update(perf or {})
        for k in drop:
            values.pop(k, None)
        write_detail(run / "mlperf_log_detail.txt", values)
        write_summary(run / "mlperf_log_summary.txt", values)
        acc = res / "accuracy"
        acc_values = detail_values(model, log_scenario, score, mode="AccuracyOnly")
        acc_values.update(accuracy or {})
        write_detail(acc / "mlperf_log_detail.txt", acc_values)
        write_summary(acc / "mlperf_log_summary.txt", acc_values)
        (acc / "mlperf_log_accuracy.json").write_text('[\n{"seq_id" : 0, "qsl_idx" : 1, "data" : "00"}\n]\n')
        text = ACCURACY_TXT[model] if accuracy_txt is None else accuracy_txt
        (acc / "accuracy.txt").write_text(
            text + "hash=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0\n"
        )
        if model == "stable-diffusion-xl":
            images = acc / "images"
            images.mkdir(exist_ok=True)
            for stem in SDXL_IMAGES:
                (images / f"{stem}.png").write_bytes(b"\x89PNG\r\n\x1a\n")
            (images / "captions.txt").write_text("a photo\n")
        if self.division in ("closed", "network"):
            self.write_compliance(model, scenario, log_scenario, score, folder=folder, system=sysname)
        return res

    def write_compliance(
        self, model: str, scenario: str, log_scenario: str, score: float, *, folder: str, system: str
    ) -> None:
        base = self.root / "compliance" / system / folder / scenario
        for test in TESTS[model]:
            t = base / test
            if test == "TEST06":
                t.mkdir(parents=True, exist_ok=True)
                (t / "verify_accuracy.txt").write_text(
                    "First token check pass: True\nEOS check pass: True\n"
                    "Sample length check pass: True\nTEST06 verification complete\n"
                )
                (t / "accuracy").mkdir(exist_ok=True)
                (t / "accuracy" / "mlperf_log_accuracy.json").write_text("[]\n")
                continue
            run = t / "performance" / "run_1"
            values = detail_values(model, log_scenario, score)
            write_detail(run / "mlperf_log_detail.txt", values)
            write_summary(run / "mlperf_log_summary.txt", values)
            (t / "verify_performance.txt").write_text("Performance check\nTEST PASS\n")
            if test == "TEST01":
                (t / "verify_accuracy.txt").write_text("Accuracy check\nTEST PASS\n")
                (t / "accuracy").mkdir(exist_ok=True)
                (t / "accuracy" / "mlperf_log_accuracy.json").write_text("[]\n")
                (t / "accuracy" / "accuracy.txt").write_text(ACCURACY_TXT[model])


# -- power sessions -------------------------------------------------------------------------------

# the sources checksums of a released mlcommons/power client and server (sources_checksums.json)
RELEASED_SOURCES = {
    "__init__.py": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "client.py": "33ca4f26368777ac06e01f9567b714a4b8063886",
    "lib/__init__.py": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "lib/client.py": "ac2aa093c8e8bbc9569b9e2a3471bc64e58a2258",
    "lib/common.py": "611d8b29633d331eb19c9455ea3b5fa3284ed6df",
    "lib/external/__init__.py": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "lib/external/ntplib.py": "4da8f970656505a40483206ef2b5d3dd5e81711d",
    "lib/server.py": "c7af63c31bb2fbedea4345f571f6e3507d268ada",
    "lib/source_hashes.py": "60a2e02193209e8d392803326208d5466342da18",
    "lib/summary.py": "aa92f0a3f975eecd44d3c0cd0236342ccc9f941d",
    "lib/time_sync.py": "122eba67a9abc85635223e054def53be1367ade2",
    "server.py": "c3f90f2f7eeb4db30727556d0c815ebc89b3d28b",
    "tests/unit/__init__.py": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "tests/unit/test_server.py": "948c1995d4008bc2aa6c4046a34ffa3858d6d671",
    "tests/unit/test_source_hashes.py": "00468a2907583c593e6574a1f6b404e4651c221a",
}
POWER_TIME = "%m-%d-%Y %H:%M:%S.%f"


def _epoch(text: str) -> float:
    return datetime.datetime.strptime(text, POWER_TIME).replace(tzinfo=datetime.UTC).timestamp()


def _ptd_time(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).strftime(POWER_TIME)[:-3]


def power_session(ranging: tuple[str, str], testing: tuple[str, str]) -> dict[str, Any]:
    """A passing session of the mlcommons/power client and server around LoadGen's two runs
    (power_begin, power_end of each), as dicts the test may change before ``write_power_session``."""
    r0, r1 = (_epoch(t) for t in ranging)
    t0, t1 = (_epoch(t) for t in testing)
    phases = {
        "ranging": [[r0 - 60, 0], [r0 - 30, 0], [r1 + 30, 0], [r1 + 60, 0]],
        "testing": [[t0 - 60, 0], [t0 - 30, 0], [t1 + 30, 0], [t1 + 60, 0]],
    }
    messages = [
        {"cmd": "mlcommons/power client v4", "reply": "mlcommons/power server v4"},
        {"cmd": "time", "reply": str(r0 - 90)},
        {"cmd": "new,sess", "reply": "OK sess"},
        {"cmd": "session,sess,start,ranging", "reply": "OK"},
        {"cmd": "session,sess,stop,ranging", "reply": "OK"},
        {"cmd": "session,sess,start,testing", "reply": "OK"},
        {"cmd": "session,sess,stop,testing", "reply": "OK"},
        {"cmd": "session,sess,done", "reply": "OK"},
    ]
    ptd_messages = [
        {"cmd": "Hello", "reply": "Hello, PTD"},
        {"cmd": "Identify", "reply": "YokogawaWT310,version=1.10.0-abcdef,Yokogawa,C3XXXXXXX"},
        {"cmd": "RR", "reply": "10,0,20,0,300"},
        {"cmd": "SR,A,Auto", "reply": "Range A changed"},
        {"cmd": "SR,V,Auto", "reply": "Range V changed"},
        {
            "cmd": "Go,1000,0,sess_ranging",
            "reply": "Starting untimed measurement, maximum 500000 samples at 1000ms with 0 rampup samples",
        },
        {"cmd": "Stop", "reply": "Stopping untimed measurement"},
        {"cmd": "SR,A,5", "reply": "Range A changed"},
        {"cmd": "SR,V,300", "reply": "Range V changed"},
        {
            "cmd": "Go,1000,0,sess_testing",
            "reply": "Starting untimed measurement, maximum 500000 samples at 1000ms with 0 rampup samples",
        },
        {"cmd": "Stop", "reply": "Stopping untimed measurement"},
        {"cmd": "SR,A,20", "reply": "Range A changed"},
        {"cmd": "SR,V,300", "reply": "Range V changed"},
        {"cmd": "Stop", "reply": "Error: no measurement to stop"},
    ]
    ids = {"client": "6f1c1f52-3b0a-4e5c-9d55-2f0d6f8e1a01", "server": "0b9d0c3e-8a4f-4c1e-b2a7-5d3e9f6c7b02"}
    common = {
        "version": "4",
        "timezone": 0,
        "modules": {},
        "sources": dict(RELEASED_SOURCES),
        "messages": messages,
        "uuid": ids,
        "session_name": "sess",
        "results": {},
    }
    client = {**json.loads(json.dumps(common)), "phases": phases}
    server = {
        **json.loads(json.dumps(common)),
        "phases": {k: [[p[0] + 0.2, 0] for p in v] for k, v in phases.items()},
        "ptd_messages": ptd_messages,
        "ptd_config": {"device_type": 49, "command": ["ptd", "-p", "8888", "49", "/dev/usbtmc0"], "channel": None},
        "debug": False,
    }
    ptd_log = [
        f"{_ptd_time(r0 - 300)}: Uncertainty checking for YokogawaWT310 is activated",
        f"{_ptd_time(r0 - 40)}: Go with mark 'sess_ranging'",
        f"{_ptd_time(r1 + 40)}: Completed test",
        f"{_ptd_time(t0 - 40)}: Go with mark 'sess_testing'",
        f"{_ptd_time(t1 + 40)}: Completed test",
    ]
    return {"client": client, "server": server, "ptd_log": ptd_log}


def write_power_session(perf: Path, session: dict[str, Any]) -> None:
    """``perf/power``: the logs, then client.json and server.json recording the checksums of the
    files of the session (the runs' logs must be written before)."""
    power = perf / "power"
    power.mkdir(exist_ok=True)
    (power / "ptd_logs.txt").write_text("\n".join(session["ptd_log"]) + "\n")
    (power / "client.log").write_text("client: session sess done\n")
    (power / "server.log").write_text("server: session sess done\n")
    sums = {}
    for rel in ("power/client.log", "power/ptd_logs.txt", "power/server.log"):
        sums[rel] = hashlib.sha1((perf / rel).read_bytes()).hexdigest()
    for run in ("ranging", "run_1"):
        for name in ("mlperf_log_detail.txt", "mlperf_log_summary.txt", "spl.txt"):
            sums[f"{run}/{name}"] = hashlib.sha1((perf / run / name).read_bytes()).hexdigest()
    for side in ("client", "server"):
        sd = session[side]
        if not sd.get("results"):
            sd["results"] = dict(sums)
        (power / f"{side}.json").write_text(json.dumps(sd, indent=2) + "\n")
