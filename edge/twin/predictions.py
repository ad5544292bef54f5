"""Predictions in the store: one row per result, written once per inputs hash and model version (a cache)."""
from __future__ import annotations

import uuid
from typing import Any

from edge.twin.equations.result import RiskResult


def record(store: Any, user_id: uuid.UUID | str, inputs_hash: str, results: list[RiskResult]
           ) -> dict[str, list[str]]:
    """Store each result unless the same model and version already scored these exact inputs."""
    existing = store.predictions.list(owner=user_id, inputs_hash=inputs_hash, limit=1000)
    seen = {(p.model_name, p.model_version) for p in existing}
    written, cached = [], []
    new = []
    for r in results:
        if (r.model_name, r.model_version) in seen:
            cached.append(r.name)
            continue
        details = {"applicable": r.applicable, "horizon_years": r.horizon_years, **r.details}
        for key in ("reason", "score", "category"):
            if getattr(r, key) is not None:
                details[key] = getattr(r, key)
        if r.missing:
            details["missing"] = list(r.missing)
        new.append({"user_id": user_id, "disease": r.disease, "probability": r.probability,
                    "confidence": r.confidence, "model_name": r.model_name, "model_version": r.model_version,
                    "inputs_hash": inputs_hash, "details": details})
        written.append(r.name)
    if new:
        # One transaction: the panel is stored (and queued for sync) whole or not at all.
        store.predictions.add_many(new)
    return {"written": written, "cached": cached}
