"""The health twin of one patient: inputs from the store → risk panel → stored (cached) predictions."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.twin import inputs as twin_inputs
from edge.twin.equations.result import RiskResult
from edge.twin.family import inherited_risk
from edge.twin.inputs import PatientInputs
from edge.twin.panel import risk_panel
from edge.twin.predictions import record


@dataclass
class Assessment:
    """A patient's risk panel with the inputs it used and what was stored."""

    user_id: str
    inputs: PatientInputs
    inputs_hash: str
    results: list[RiskResult]
    family: dict[str, Any] | None = None
    stored: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"user_id": self.user_id, "inputs": self.inputs.to_dict(), "inputs_hash": self.inputs_hash,
                "results": [r.to_dict() for r in self.results], "family": self.family, "stored": self.stored}


def family_summary(store: Any, user_id: uuid.UUID | str) -> dict[str, Any] | None:
    """The inherited-risk summary of the user's family graph, or None without one."""
    graphs = store.family_graph.list(owner=user_id, limit=1)
    return inherited_risk(graphs[0].members).to_dict() if graphs else None


def assess(store: Any, user_id: uuid.UUID | str, *, models_dir: Path | None = None, on: dt.date | None = None,
           save: bool = True) -> Assessment:
    """Build inputs from the store, run the panel and store new predictions (unchanged inputs are not re-written)."""
    inputs = twin_inputs.from_store(store, user_id, on)
    results = risk_panel(inputs, models_dir)
    h = inputs.inputs_hash()
    stored = record(store, user_id, h, results) if save else {}
    return Assessment(str(user_id), inputs, h, results, family_summary(store, user_id), stored)
