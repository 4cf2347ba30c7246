"""What the engine returns (findings, scores), made safe to store."""

from __future__ import annotations

import math
from typing import Any

from django.db import models

from submissions.models import (
    Finding,
    InferenceScore,
    Score,
)

# ---------------------------------------------------------------- what the engine returns, made safe to store


def _text(value: Any, limit: int | None = None) -> str:
    """Any value as text PostgreSQL accepts (no NUL), at most `limit` characters."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    text = text.replace("\x00", "\ufffd")
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _count(value: Any, maximum: int = 2**31 - 1) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    number = int(value)
    return number if 0 <= number <= maximum else None


def _limit(model: type[models.Model], field: str) -> int:
    found = model._meta.get_field(field)
    assert isinstance(found, models.CharField) and found.max_length is not None  # asked of CharFields only
    return found.max_length


def finding_clean(raw: Any) -> dict[str, Any]:
    """One finding from the engine or the official checker, with every field of the type and length
    the Finding table takes; whatever is missing or malformed becomes a safe default."""
    f = raw if isinstance(raw, dict) else {"message": raw}
    severity = f.get("severity")
    if severity not in Finding.Severity.values:
        severity = Finding.Severity.ERROR
    key = f.get("key")
    return {
        "severity": severity,
        "check": _text(f.get("check") or "engine.unknown", _limit(Finding, "check_id")),
        "key": _text(key, _limit(Finding, "key")) if key not in (None, "") else None,
        "path": _text(f.get("path") or "", _limit(Finding, "path")),
        "line": _count(f.get("line")),
        "message": _text(f.get("message") or "", 20_000),
    }


def scores_clean(raw: Any) -> list[dict[str, Any]]:
    """The engine's scores, fitted to the Score table: names shortened to the column, numbers checked,
    one score per (system, benchmark, scaling) (a second one after shortening is dropped)."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}  # by (system, benchmark, scaling)
    for s in raw if isinstance(raw, list) else []:
        if not isinstance(s, dict):
            continue
        minutes = s.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not math.isfinite(minutes):
            continue
        scaling = s.get("scaling") if s.get("scaling") in Score.Scaling.values else Score.Scaling.STRONG
        score = {
            "system": _text(s.get("system"), _limit(Score, "system")),
            "benchmark": _text(s.get("benchmark"), _limit(Score, "benchmark")),
            "minutes": float(minutes),
            "scaling": scaling,
            "number_of_models": _count(s.get("number_of_models")),
            "instance_scale": _count(s.get("instance_scale")),
            "system_name": _text(s.get("system_name") or "", _limit(Score, "system_name")),
            "accelerator": _text(s.get("accelerator") or "", _limit(Score, "accelerator")),
            "accelerator_count": _count(s.get("accelerator_count")),
        }
        out.setdefault((score["system"], score["benchmark"], scaling), score)
    return list(out.values())


def inference_scores_clean(raw: Any) -> list[dict[str, Any]]:
    """The inference checker's scores (`checks.inference_scores`), fitted to the InferenceScore table:
    text shortened to the column, numbers finite, one score per (system, model, scenario)."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}

    def number(value: Any) -> float | None:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        return float(value) if ok else None

    for s in raw if isinstance(raw, list) else []:
        if not isinstance(s, dict) or "scenario" not in s or number(s.get("value")) is None:
            continue
        text = {k: _text(s.get(k) or "", _limit(InferenceScore, k)) for k in INFERENCE_SCORE_TEXT}
        accuracy_values = s.get("accuracy_values")
        score = {
            **text,
            "value": number(s.get("value")),
            "accuracy": number(s.get("accuracy")),
            "accuracy_values": {str(k)[:40]: str(v)[:40] for k, v in list(accuracy_values.items())[:20]}
            if isinstance(accuracy_values, dict)
            else {},
            "power": number(s.get("power")),
            "accelerator_count": _count(s.get("accelerator_count")),
        }
        out.setdefault((text["system"], text["model"], text["scenario"]), score)
    return list(out.values())


INFERENCE_SCORE_TEXT = ("system", "model", "mlperf_model", "scenario", "division", "units", "accuracy_metric",
                        "power_units", "system_name", "accelerator")  # fmt: skip
