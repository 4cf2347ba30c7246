"""The published facts of a system, from its description, as the official result summarizer
(mlperf_logging.result_summarizer, pinned) prints them. Pure: no Django."""

from __future__ import annotations

import re
from typing import Any


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def system_facts(desc: dict[str, Any]) -> dict[str, Any]:
    """system_name, accelerator, accelerator_count, nodes, framework, division, availability."""
    name = str(desc.get("system_name", ""))
    per_node = _int(desc.get("accelerators_per_node"))
    nodes = _int(desc.get("number_of_nodes"))
    if name == "tpu-v3" and per_node is not None:
        name = f"TPUv3.{per_node * 2}"
    accelerator = str(desc.get("accelerator_model_name", ""))
    if accelerator == "tpu-v3":
        accelerator = "TPUv3"
    framework = str(desc.get("framework", ""))
    if "TensorFlow" in framework:
        commit = re.search(r" commit hash = .*", framework)
        if commit:
            framework = framework.replace(commit.group(0), "")
    return {
        "system_name": name,
        "accelerator": accelerator,
        "accelerator_count": per_node * nodes if per_node is not None and nodes is not None else None,
        "nodes": nodes,
        "framework": framework,
        "division": str(desc.get("division", "")).lower(),
        "availability": str(desc.get("status", "")),
    }
