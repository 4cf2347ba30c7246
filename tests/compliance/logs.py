"""Small MLLOG result logs written by the tests (no real data needed)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

T0 = 1_760_000_000_000


def mllog(key: Any, value: Any = None, time_ms: Any = T0, metadata: Any = None, **extra: Any) -> str:
    record = {"namespace": "", "time_ms": time_ms, "event_type": "POINT_IN_TIME", "key": key, "value": value}
    record["metadata"] = {"file": "train.py", "lineno": 1} if metadata is None else metadata
    record.update(extra)
    return ":::MLLOG " + json.dumps(record)


@dataclass
class Log:
    """A log as a list of text lines; ``event`` appends an MLLOG line 1 s after the previous one."""

    lines: list[str] = field(default_factory=list)
    t: int = T0
    step: int = 1000

    def event(self, key: str, value: Any = None, **metadata: Any) -> Log:
        self.t += self.step
        self.lines.append(mllog(key, value, self.t, {"file": "train.py", "lineno": len(self.lines) + 1, **metadata}))
        return self

    def text(self, newline: str = "\n") -> str:
        return newline.join(self.lines) + newline

    def write(self, path: Path, newline: str = "\n") -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.text(newline).encode("utf-8"))
        return path


# Hyperparameters that satisfy the closed rules of a few benchmarks, per ruleset.
HYPER: dict[tuple[str, str, str], dict[str, Any]] = {
    ("training", "6.1.0", "llama31_8b"): {
        "global_batch_size": 32,
        "max_sequence_length": 8192,
        "opt_name": "adamw",
        "opt_base_learning_rate": 0.001,
        "opt_end_learning_rate": 0.0001,
        "opt_learning_rate_warmup_steps": 200_000,
        "opt_learning_rate_decay_steps": 1_000_000,
        "opt_learning_rate_decay_schedule": "cosine with linear warmup",
        "opt_adamw_beta_1": 0.9,
        "opt_adamw_beta_2": 0.95,
        "opt_adamw_epsilon": 1e-05,
        "opt_adamw_weight_decay": 0.1,
        "opt_gradient_clip_norm": 1.0,
        "gradient_accumulation_steps": 1,
        "eval_samples": 1024,
        "max_steps": 1_200_000,
        "lowest_numerical_precision_in_linear": "fp8",
        "lowest_numerical_precision_in_attn": "bfloat16",
        "lowest_numerical_precision_in_comm": "bfloat16",
        "tensor_parallelism": 1,
        "pipeline_parallelism": 1,
        "context_parallelism": 1,
        "expert_parallelism": 1,
        "micro_batch_size": 1,
        "config_filename": "config_8b.sh",
        "train_samples": 100000,
    },
    ("training", "4.0.0", "llama2_70b_lora"): {
        "global_batch_size": 8,
        "opt_base_learning_rate": 0.0004,
        "lora_alpha": 32,
        "opt_learning_rate_training_steps": 1024,
        "opt_gradient_clip_norm": 0.3,
        "opt_adamw_weight_decay": 0.0001,
        "gradient_accumulation_steps": 1,
        "lora_rank": 16,
        "eval_samples": 173,
        "train_samples": 3901,
    },
    ("training", "5.1.0", "llama2_70b_lora"): {
        "global_batch_size": 8,
        "opt_base_learning_rate": 0.0004,
        "lora_alpha": 32,
        "opt_learning_rate_training_steps": 1024,
        "opt_learning_rate_warmup_ratio": 0.0,
        "opt_learning_rate_decay_schedule": "cosine",
        "opt_gradient_clip_norm": 0.3,
        "opt_adamw_weight_decay": 0.0001,
        "opt_adamw_beta_1": 0.9,
        "opt_adamw_beta_2": 0.999,
        "opt_adamw_epsilon": 1e-08,
        "gradient_accumulation_steps": 1,
        "lora_rank": 16,
        "lora_dropout": 0.1,
        "max_steps": 1024,
        "sequence_length": 8192,
        "eval_samples": 173,
        "train_samples": 3901,
    },
    ("hpc", "3.0.0", "cosmoflow"): {  # also hpc 2.0.0 (same closed_cosmoflow rules)
        "number_of_nodes": 4,
        "accelerators_per_node": 8,
        "global_batch_size": 64,
        "opt_name": "sgd",
        "opt_base_learning_rate": 0.004,
        "opt_learning_rate_warmup_epochs": 4,
        "opt_learning_rate_warmup_factor": 1.0,
        "opt_learning_rate_decay_boundary_epochs": [32, 64],
        "opt_learning_rate_decay_factor": [0.25, 0.125],
        "dropout": 0.5,
        "opt_weight_decay": 0.0,
        "train_samples": 524288,
        "eval_samples": 65536,
    },
}

ACCURACY = {
    "llama31_8b": 3.2,
    "llama2_70b_lora": 0.92,
    "cosmoflow": 0.12,
}


def training_log(
    ruleset: str,
    benchmark: str,
    *,
    usage: str = "training",
    division: str = "closed",
    org: str = "Acme",
    hyper: dict[str, Any] | None = None,
    accuracy: float | None = None,
    drop: tuple[str, ...] = (),
    status: str = "success",
    seed: int = 1234,
    epochs: tuple[int, ...] = (1, 2),
    samples: tuple[int, ...] = (1536, 3072),
    step_ms: int = 1000,
    start_ms: int = T0,
    eval_key: str | None = None,
) -> Log:
    """A log that the official checker accepts for ``usage ruleset benchmark`` (closed division),
    unless asked otherwise; ``drop`` leaves keys out. Its first record is at ``start_ms`` plus
    one step."""
    params = dict(HYPER[(usage, ruleset, benchmark)] if hyper is None else hyper)
    acc = ACCURACY[benchmark] if accuracy is None else accuracy
    if eval_key is None:
        eval_key = "eval_error" if usage == "hpc" else "eval_accuracy"
    log = Log(t=start_ms, step=step_ms)

    def ev(key: str, value: Any = None, **meta: Any) -> None:
        if key not in drop:
            log.event(key, value, **meta)

    ev("cache_clear", True)
    ev("init_start")
    ev("submission_org", org)
    ev("submission_platform", "8xACME")
    ev("submission_division", division)
    ev("submission_benchmark", benchmark)
    ev("submission_status", "onprem")
    for key, value in params.items():
        ev(key, value)
    ev("seed", seed)
    ev("init_stop")
    ev("run_start")
    if usage == "hpc":
        ev("staging_start")
        ev("staging_stop", staging_duration=1.0)
        for epoch in epochs:
            ev("epoch_start", epoch_num=epoch)
            ev("epoch_stop", epoch_num=epoch)
            ev("eval_start", epoch_num=epoch)
            ev(eval_key, acc + (0.01 if epoch != epochs[-1] else 0), epoch_num=epoch)
            ev("eval_stop", epoch_num=epoch)
    else:
        for n in samples:
            ev("block_start", samples_count=n)
            ev("block_stop", samples_count=n)
            ev("eval_start", samples_count=n)
            ev(eval_key, acc + (0.05 if n != samples[-1] else 0), samples_count=n)
            ev("eval_stop", samples_count=n)
    ev("run_stop", status=status, samples_count=samples[-1])
    return log


SYSTEM_DESC: dict[str, Any] = {
    "submitter": "Acme",
    "division": "closed",
    "status": "Available on-premise",
    "system_name": "acme8",
    "number_of_nodes": "1",
    "host_processors_per_node": "2",
    "host_processor_model_name": "Acme CPU",
    "host_processor_core_count": "64",
    "host_processor_vcpu_count": "",
    "host_processor_frequency": "",
    "host_processor_caches": "",
    "host_processor_interconnect": "",
    "host_memory_capacity": "2 TB",
    "host_storage_type": "",
    "host_storage_capacity": "",
    "host_networking": "",
    "host_networking_topology": "",
    "host_memory_configuration": "",
    "accelerators_per_node": "8",
    "accelerator_model_name": "Acme X",
    "accelerator_host_interconnect": "",
    "accelerator_frequency": "",
    "accelerator_on-chip_memories": "",
    "accelerator_memory_configuration": "",
    "accelerator_memory_capacity": "",
    "accelerator_interconnect": "",
    "accelerator_interconnect_topology": "",
    "cooling": "",
    "hw_notes": "",
    "framework": "PyTorch",
    "other_software_stack": "",
    "operating_system": "Linux",
    "sw_notes": "",
}


def write_package(
    root: Path,
    *,
    usage: str = "training",
    ruleset: str = "5.1.0",
    benchmark: str = "llama2_70b_lora",
    division: str = "closed",
    system: str = "acme8",
    runs: int = 10,
    scaling: str = "strong",
    **log_args: Any,
) -> Path:
    """A submitter package (systems/, results/) of ``runs`` compliant runs, distinct seeds."""
    (root / "systems").mkdir(parents=True, exist_ok=True)
    desc = {**SYSTEM_DESC, "division": division, "submitter": root.name, "system_name": system}
    (root / "systems" / f"{system}.json").write_text(json.dumps(desc, indent=1))
    folder = root / "results" / system
    if usage == "hpc":
        folder = folder / scaling
    folder = folder / benchmark
    for i in range(runs):
        log = training_log(
            ruleset,
            benchmark,
            usage=usage,
            division=division,
            org=root.name,
            seed=1000 + i,
            step_ms=60_000 + 1_234 * i,  # runs of different lengths
            **log_args,
        )
        log.write(folder / f"result_{i}.txt")
    return root


def stable_diffusion_log(
    *, steps: int = 3, fid: float = 80.0, clip: float = 0.16, metrics: tuple[str, ...] = ("FID", "CLIP")
) -> Log:
    """A stable diffusion log (rulesets 3.1.0-5.0.0): FID and CLIP are logged on separate lines
    that the official rules' BEGIN code aggregates."""
    log = Log()
    for key, value in [
        ("cache_clear", True),
        ("init_start", None),
        ("submission_org", "Acme"),
        ("submission_platform", "8xACME"),
        ("submission_division", "closed"),
        ("submission_benchmark", "stable_diffusion"),
        ("submission_status", "onprem"),
        ("global_batch_size", 512),
        ("gradient_accumulation_steps", 1),
        ("opt_name", "adamw"),
        ("opt_adamw_beta_1", 0.9),
        ("opt_adamw_beta_2", 0.999),
        ("opt_adamw_epsilon", 1e-08),
        ("opt_adamw_weight_decay", 0.01),
        ("opt_base_learning_rate", 1.25e-7),
        ("opt_learning_rate_warmup_steps", 1000),
        ("train_samples", 6513144),
        ("eval_samples", 30000),
        ("seed", 1),
        ("init_stop", None),
        ("run_start", None),
    ]:
        log.event(key, value)
    for step in range(steps):
        n = (step + 1) * 512000
        log.event("block_start", None, samples_count=n, step_num=step)
        log.event("block_stop", None, samples_count=n, step_num=step)
        log.event("eval_start", None, samples_count=n, step_num=step)
        for metric in metrics:
            log.event("eval_accuracy", fid if metric == "FID" else clip, samples_count=n, step_num=step, metric=metric)
        log.event("eval_stop", None, samples_count=n, step_num=step)
    log.event("run_stop", None, status="success")
    return log
