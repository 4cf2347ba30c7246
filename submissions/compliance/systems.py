"""The system descriptions (``systems/<system>.json``), as the official package checker checks them
first (``system_desc_checker.py``): required fields, the availability status, the summary row."""

from __future__ import annotations

import glob
import json
import os
from typing import TYPE_CHECKING, Any

from .findings import Check

if TYPE_CHECKING:
    from .package import _Package

# The official system description checker's required fields (system_desc_checker.py, 4.1.68);
# tests/compliance compare this list with the official function.
SYSTEM_REQUIRED_FIELDS = (
    "submitter",
    "division",
    "status",
    "system_name",
    "number_of_nodes",
    "host_processors_per_node",
    "host_processor_model_name",
    "host_processor_core_count",
    "host_processor_vcpu_count",
    "host_processor_frequency",
    "host_processor_caches",
    "host_processor_interconnect",
    "host_memory_capacity",
    "host_storage_type",
    "host_storage_capacity",
    "host_networking",
    "host_networking_topology",
    "host_memory_configuration",
    "accelerators_per_node",
    "accelerator_model_name",
    "accelerator_host_interconnect",
    "accelerator_frequency",
    "accelerator_on-chip_memories",
    "accelerator_memory_configuration",
    "accelerator_memory_capacity",
    "accelerator_interconnect",
    "accelerator_interconnect_topology",
    "cooling",
    "hw_notes",
    "framework",
    "other_software_stack",
    "operating_system",
    "sw_notes",
)
AVAILABILITY_OPTIONS = (
    "Available on-premise",
    "Available cloud",
    "Research, Development, or Internal (RDI)",
    "Preview",
)
_CSV_FIELDS = (
    "submitter",
    "system_name",
    "host_processor_model_name",
    "host_processor_core_count",
    "accelerator_model_name",
    "accelerators_per_node",
    "framework",
)


def _check_systems(pkg: _Package) -> None:
    pattern = os.path.join(glob.escape(pkg.root), "systems", "*.json")
    for json_file in sorted(glob.glob(pattern)):
        if not pkg.guard(json_file):
            continue
        _check_system_desc(pkg, json_file)


def _load_json(path: str) -> Any:
    with open(path) as f:  # the official checker's open(): the locale's encoding
        return json.load(f)


def _check_system_desc(pkg: _Package, json_file: str) -> None:
    rel = pkg.rel(json_file)
    try:
        contents = _load_json(json_file)
    except (OSError, ValueError) as exc:
        pkg.crash(f"{rel}: not a readable JSON file: {exc}", check=Check.SYSTEM_UNREADABLE)
        return
    try:
        missing = [f for f in SYSTEM_REQUIRED_FIELDS if f not in contents]

        def get(name: str) -> Any:
            # not contents.get(): contents may be any JSON value, as in the official checker
            return contents[name] if name in contents else ""  # noqa: SIM401

        ",".join([get(name) for name in _CSV_FIELDS])  # the official summary row: str fields only
        status_ok = True
        if pkg.usage == "training":
            major = int(pkg.ruleset.split(".")[0])
            if "status" in contents and major >= 4 and contents["status"] not in AVAILABILITY_OPTIONS:
                status_ok = False
    except Exception as exc:
        pkg.crash(f"{rel}: the system description has an unexpected shape: {exc}", check=Check.SYSTEM_INVALID)
        return
    if not status_ok:
        # the official checker then reports only the status (it replaces its list of reasons)
        pkg.error(
            Check.SYSTEM_STATUS,
            f"{rel}: status {contents['status']!r} is not one of {', '.join(AVAILABILITY_OPTIONS)}",
            key="status",
        )
    for name in missing:
        pkg.error(Check.SYSTEM_MISSING_FIELD, f"{rel}: required field {name!r} is missing", key=name)
