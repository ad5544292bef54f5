"""ONNX risk models: loaded only through the manifest, tampered files refused, parity with scikit-learn."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from edge.twin import models
from edge.twin.inputs import PatientInputs
from protocol.errors import ModelError


@pytest.fixture
def models_copy(tmp_path):
    """A private copy of the shipped models folder."""
    src = models.default_models_dir()
    for name in ["manifest.json", *(m["file"] for m in models.read_manifest(src)["models"])]:
        shutil.copy(src / name, tmp_path / name)
    return tmp_path


def test_manifest_describes_each_model():
    manifest = models.read_manifest()
    assert {m["name"] for m in manifest["models"]} == {"pima_diabetes_logreg", "pima_diabetes_gbm"}
    for m in manifest["models"]:
        assert len(m["sha256"]) == 64 and m["version"]
        assert [(i["name"], i["unit"]) for i in m["inputs"]] == [
            ("blood_glucose", "mg/dL"), ("diastolic_bp", "mmHg"), ("bmi", "kg/m2"), ("age", "years")]
        assert "Pima.tr" in m["training_data"]["train"]
        assert {"auc", "brier", "calibration"} <= set(m["metrics"])
        assert m["metrics"]["parity_max_abs_diff"] <= 1e-5


def test_shipped_models_discriminate_on_held_out_pima():
    from sklearn.metrics import roc_auc_score

    from models import pima

    split = pima.load()
    for m in models.load_all():
        p = m.predict(split.x_test)
        assert np.all((p >= 0) & (p <= 1))
        # Ripley (1996) reports ~20% test error for logistic regression on these tables; AUC ≥ 0.80 is that level.
        assert roc_auc_score(split.y_test, p) >= 0.80


def test_tampered_model_refused(models_copy):
    path = models_copy / "pima_diabetes_logreg.onnx"
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="does not match its manifest hash"):
        models.load_model("pima_diabetes_logreg", models_copy)
    # The untouched model in the same folder still loads.
    assert models.load_model("pima_diabetes_gbm", models_copy).name == "pima_diabetes_gbm"


def test_model_replaced_after_loading_is_refused(models_copy):
    models.load_model("pima_diabetes_gbm", models_copy)
    target = models_copy / "pima_diabetes_gbm.onnx"
    target.write_bytes((models_copy / "pima_diabetes_logreg.onnx").read_bytes())
    with pytest.raises(ModelError, match="refused"):
        models.load_model("pima_diabetes_gbm", models_copy)


def test_missing_manifest_file_and_unknown_model(models_copy, tmp_path):
    (models_copy / "pima_diabetes_gbm.onnx").unlink()
    with pytest.raises(ModelError, match="missing"):
        models.load_model("pima_diabetes_gbm", models_copy)
    with pytest.raises(ModelError, match="not in the manifest"):
        models.load_model("nope", models_copy)
    with pytest.raises(ModelError, match="no model manifest"):
        models.read_manifest(tmp_path / "empty")


def test_model_only_for_its_training_population():
    woman = PatientInputs(age=45, sex="female", blood_glucose=150, diastolic_bp=80, bmi=33)
    man = woman.replace(sex="male")
    m = models.load_model("pima_diabetes_logreg")
    assert models.predict(m, woman).applicable
    r = models.predict(m, man)
    assert not r.applicable and "female" in r.reason


def test_model_refuses_inputs_outside_its_training_data_and_caveats_inside():
    m = models.load_model("pima_diabetes_gbm")
    woman = PatientInputs(age=45, sex="female", blood_glucose=150, diastolic_bp=80, bmi=33)
    inside = models.predict(m, woman)
    # Pima.tr has no woman over 63: a 75-year-old would be an extrapolation, refused with the range named.
    old = models.predict(m, woman.replace(age=75))
    assert not old.applicable and "age 75" in old.reason and "21–63" in old.reason
    assert not models.predict(m, woman.replace(age=19)).applicable
    assert "Pima" in inside.details["caveat"] and "21–63" in inside.details["caveat"]


def test_higher_glucose_raises_probability():
    m = models.load_model("pima_diabetes_logreg")
    low = PatientInputs(age=45, sex="female", blood_glucose=90, diastolic_bp=70, bmi=25)
    high = low.replace(blood_glucose=190)
    assert models.predict(m, high).probability > models.predict(m, low).probability


@pytest.mark.heavy
def test_export_trains_checks_parity_and_writes_manifest(tmp_path):
    import onnxruntime as ort

    from exporters.risk_models import export_risk_models
    from models import pima, training

    result = export_risk_models(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    split = pima.load()
    for entry in manifest["models"]:
        # Independent parity check: ONNX Runtime on the written file vs a freshly fitted scikit-learn model.
        sess = ort.InferenceSession(str(tmp_path / entry["file"]), providers=["CPUExecutionProvider"])
        p_onnx = sess.run(["probabilities"], {"input": split.x_test})[0][:, 1]
        p_skl = training.train(entry["name"], split.x_train, split.y_train).predict_proba(split.x_test)[:, 1]
        assert np.max(np.abs(p_onnx - p_skl)) <= 1e-5
        assert result.parity[entry["name"]] <= 1e-5
    # The edge loads what the exporter wrote.
    assert len(models.load_all(tmp_path)) == 2
    # Held-out discrimination with a bootstrap interval around it, and a reliability plot as a PNG.
    for entry in manifest["models"]:
        lo, hi = entry["metrics"]["auc_ci95"]
        assert lo < entry["metrics"]["auc"] < hi and hi - lo < 0.2
        assert 0 < entry["metrics"]["brier"] < 0.25  # 0.25 is a coin flip's Brier score
    assert result.plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.heavy
def test_export_fails_when_parity_is_not_met(tmp_path):
    from exporters.risk_models import export_risk_models

    with pytest.raises(ModelError, match="differ"):
        export_risk_models(tmp_path, tolerance=0.0)
    assert not (tmp_path / "manifest.json").exists()
