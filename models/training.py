"""Risk models trained on the Pima tables: calibrated scikit-learn estimators and their held-out evaluation."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

MODEL_VERSION = "1.0.0"


def _logreg():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), CalibratedClassifierCV(LogisticRegression(max_iter=1000),
                                                                  method="sigmoid", cv=5))


def _gbm():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import GradientBoostingClassifier

    gbm = GradientBoostingClassifier(n_estimators=100, max_depth=2, learning_rate=0.05, subsample=0.8,
                                     random_state=0)
    return CalibratedClassifierCV(gbm, method="sigmoid", cv=5)


# name → (builder, description)
MODELS: dict[str, tuple[Callable[[], Any], str]] = {
    "pima_diabetes_logreg": (_logreg, "standardised logistic regression, sigmoid-calibrated (5-fold)"),
    "pima_diabetes_gbm": (_gbm, "gradient boosting (100 depth-2 trees), sigmoid-calibrated (5-fold)"),
}


def train(name: str, x: np.ndarray, y: np.ndarray):
    """Fit one named model."""
    model = MODELS[name][0]()
    model.fit(x, y)
    return model


def calibration(y: np.ndarray, p: np.ndarray, bins: int = 5) -> dict[str, Any]:
    """Calibration intercept and slope (logistic recalibration of y on logit p) and reliability bins."""
    from sklearn.linear_model import LogisticRegression

    eps = 1e-6
    logit = np.log(np.clip(p, eps, 1 - eps) / np.clip(1 - p, eps, 1 - eps)).reshape(-1, 1)
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(logit, y)
    edges = np.quantile(p, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    reliability = [
        {"mean_predicted": float(p[which == b].mean()), "observed": float(y[which == b].mean()),
         "n": int((which == b).sum())}
        for b in range(bins) if (which == b).any()
    ]
    return {"slope": float(fit.coef_[0, 0]), "intercept": float(fit.intercept_[0]), "reliability": reliability}


def evaluate(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """Held-out AUC, Brier score and calibration of predicted probabilities."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    return {"n": int(len(y)), "prevalence": float(y.mean()), "auc": float(roc_auc_score(y, p)),
            "brier": float(brier_score_loss(y, p)), "calibration": calibration(y, p)}


def to_onnx(model, n_features: int) -> bytes:
    """Convert a fitted model to ONNX (float32 input, probabilities as a plain tensor)."""
    from skl2onnx import to_onnx as skl_to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    onx = skl_to_onnx(model, initial_types=[("input", FloatTensorType([None, n_features]))],
                      options={id(model): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3})
    return onx.SerializeToString()
