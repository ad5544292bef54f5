"""ONNX risk models on the edge: found only through the manifest, hash-checked, run with onnxruntime."""
from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge.twin.equations.result import RiskResult, not_applicable
from protocol.errors import MissingDependencyError, ModelError

ENV_MODELS_DIR = "HEALTHSYNC_MODELS_DIR"
MANIFEST = "manifest.json"


def default_models_dir() -> Path:
    """$HEALTHSYNC_MODELS_DIR, else the `models/` folder shipped with the package."""
    env = os.environ.get(ENV_MODELS_DIR)
    if env:
        return Path(env)
    import models

    return Path(models.__file__).parent


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(models_dir: Path | None = None) -> dict[str, Any]:
    """The models manifest, or ModelError when it is missing or unreadable."""
    path = Path(models_dir or default_models_dir()) / MANIFEST
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ModelError(f"no model manifest at {path}", hint="run `healthsync export risk-models`") from None
    return _parse_manifest(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=8)
def _parse_manifest(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    # Keyed on the file's identity: re-read whenever the manifest is rewritten. Callers must not mutate it.
    try:
        manifest = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"model manifest {path} is unreadable: {exc}") from None
    if not isinstance(manifest.get("models"), list):
        raise ModelError(f"model manifest {path} has no 'models' list")
    return manifest


@dataclass(frozen=True)
class RiskModel:
    """A verified ONNX risk model and its manifest entry."""

    entry: dict[str, Any]
    session: Any

    @property
    def name(self) -> str:
        return self.entry["name"]

    @functools.cached_property
    def caveat(self) -> str | None:
        """The population caveat of every applicable result (computed once per loaded model)."""
        return population_caveat(self.entry)

    @property
    def input_names(self) -> tuple[str, ...]:
        """Edge input names, in the model's feature order."""
        return tuple(i["name"] for i in self.entry["inputs"])

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """Probability of the positive class for each row (float32, FEATURES order)."""
        try:
            outputs = self.session.run([self.entry.get("output", "probabilities")],
                                       {self.entry.get("input", "input"): np.asarray(rows, dtype=np.float32)})
        except Exception as exc:  # onnxruntime raises its own exception types; translate at the boundary
            raise ModelError(f"model {self.name} failed to run: {exc}") from exc
        return outputs[0][:, 1]


@functools.lru_cache(maxsize=32)
def _session(path: str, mtime_ns: int, size: int, sha256: str):
    # Keyed on the file's identity, so a replaced file is hashed again before it is ever run.
    actual = sha256_file(Path(path))
    if actual != sha256:
        raise ModelError(f"model file {path} does not match its manifest hash (expected {sha256[:12]}…, "
                         f"found {actual[:12]}…): refused", hint="re-export with `healthsync export risk-models`")
    try:
        import onnxruntime as ort
    except ImportError:
        raise MissingDependencyError("onnxruntime", "ml") from None
    options = ort.SessionOptions()
    # One row at a time is the edge's load: extra threads only add wake-up latency.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelError(f"model file {path} is not a loadable ONNX model: {exc}") from exc


def load_model(name: str, models_dir: Path | None = None) -> RiskModel:
    """Load one model by manifest name, refusing a file whose sha256 differs from the manifest's."""
    directory = Path(models_dir or default_models_dir())
    manifest = read_manifest(directory)
    entry = next((m for m in manifest["models"] if m.get("name") == name), None)
    if entry is None:
        known = ", ".join(m.get("name", "?") for m in manifest["models"])
        raise ModelError(f"model {name!r} is not in the manifest (known: {known})")
    path = directory / entry["file"]
    if not path.is_file():
        raise ModelError(f"model file {path} named by the manifest is missing")
    st = path.stat()
    return RiskModel(entry, _session(str(path.resolve()), st.st_mtime_ns, st.st_size, entry["sha256"]))


def load_all(models_dir: Path | None = None) -> list[RiskModel]:
    """Every model in the manifest, verified."""
    return [load_model(m["name"], models_dir) for m in read_manifest(models_dir)["models"]]


def loaded_models(models_dir: Path | None = None) -> tuple[RiskModel, ...]:
    """Every manifest model, verified once and kept in memory until the manifest changes (the hot path)."""
    directory = Path(models_dir or default_models_dir())
    try:
        st = (directory / MANIFEST).stat()
    except FileNotFoundError:
        raise ModelError(f"no model manifest in {directory}", hint="run `healthsync export risk-models`") from None
    # The sessions hold the verified bytes in memory, so a file changed on disk later never runs unverified.
    return _load_all_cached(str(directory), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=8)
def _load_all_cached(directory: str, mtime_ns: int, size: int) -> tuple[RiskModel, ...]:
    return tuple(load_all(Path(directory)))


def feature_row(model: RiskModel, inputs: Any) -> list[float] | None:
    """The model's input row from PatientInputs, or None when an input is missing."""
    row = []
    for name in model.input_names:
        value = inputs.body_mass_index if name == "bmi" else getattr(inputs, name)
        if value is None:
            return None
        row.append(float(value))
    return row


def applicability(model: RiskModel, inputs: Any, row: list[float] | None = None) -> str | None:
    """Why the model's training population or input ranges exclude this patient, or None."""
    pop = model.entry.get("population", {})
    if pop.get("sex") and inputs.sex != pop["sex"]:
        return f"trained only on {pop['sex']} patients ({pop.get('note', '')})".strip()
    if pop.get("age_min") is not None and inputs.age < pop["age_min"]:
        return f"trained on ages {pop['age_min']} and over"
    row = row if row is not None else feature_row(model, inputs) or []
    for spec, value in zip(model.entry["inputs"], row, strict=False):
        low, high = spec.get("range") or (None, None)
        if low is not None and not low <= value <= high:
            # Outside the training data the model only extrapolates (trees go flat, a logistic keeps climbing).
            return (f"{spec['name']} {value:g} {spec['unit']} is outside the training data's range "
                    f"{low:g}–{high:g} {spec['unit']}")
    return None


def population_caveat(entry: dict[str, Any]) -> str | None:
    """The plain caveat every applicable result of this model carries: who it was trained on."""
    pop = entry.get("population") or {}
    if not pop:
        return None
    who = pop.get("note") or f"{pop.get('sex', 'all')} patients"
    ages = next((i.get("range") for i in entry.get("inputs", []) if i.get("name") == "age"), None)
    span = f" aged {ages[0]:g}–{ages[1]:g}" if ages else (f" aged {pop['age_min']} and over"
                                                           if pop.get("age_min") is not None else "")
    return (f"trained only on {who}{span}; for anyone else it is an extrapolation"
            + ("" if not entry.get("target") else f" (it estimates: {entry['target']})"))


def predict(model: RiskModel, inputs: Any) -> RiskResult:
    """One patient's result from a learned model, or not-applicable with the reason."""
    entry = model.entry
    template = {"name": entry["name"], "disease": entry["disease"], "model_name": entry["name"],
                "model_version": entry["version"], "horizon_years": entry.get("horizon_years"),
                "confidence": entry.get("metrics", {}).get("auc")}
    row = feature_row(model, inputs)
    if row is None:
        missing = inputs.missing(model.input_names)
        return not_applicable(template, f"missing inputs: {', '.join(missing)}", missing=missing)
    reason = applicability(model, inputs, row)
    if reason:
        return not_applicable(template, reason)
    p = float(model.predict(np.asarray([row], dtype=np.float32))[0])
    details = {"sha256": entry["sha256"]}
    if model.caveat:
        # `validity` as every equation result carries it (panel.NOTES); `caveat` marks it as a population warning.
        details["caveat"] = details["validity"] = model.caveat
    return RiskResult(**template, probability=p, details=details)
