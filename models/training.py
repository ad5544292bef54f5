"""Risk models trained on the Pima tables: monotone, calibrated scikit-learn estimators and their evaluation."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from models.pima import FEATURES, MONOTONIC

# 2.0.0: monotone in every input (risk never falls as glucose, BP, BMI or age rise), declared validity ranges.
MODEL_VERSION = "2.0.0"
SIGNS = [MONOTONIC[col] for col, *_ in FEATURES]
BOOTSTRAP_ROUNDS = 2000


class SignConstrainedLogisticRegression(LogisticRegression):
    """L2-penalised logistic regression whose coefficients keep declared signs (+1 ≥ 0, −1 ≤ 0, 0 free).

    Unconstrained, Pima.tr gives diastolic BP a small negative weight (noise: hypertension raises diabetes risk),
    so a patient whose BP rises would look safer. Fitted by L-BFGS-B with bounds; the fitted object is an ordinary
    LogisticRegression, so prediction and the ONNX conversion are scikit-learn's own.
    """

    def __init__(self, signs: tuple[int, ...] | list[int] | None = None, C: float = 1.0, max_iter: int = 1000):
        super().__init__(C=C, max_iter=max_iter)
        self.signs = signs

    def fit(self, X, y, sample_weight=None):
        """Minimise C·Σ w·log-loss + ½‖β‖² subject to the sign bounds."""
        from scipy.optimize import minimize
        from scipy.special import expit, log_expit

        x = np.asarray(X, dtype=np.float64)
        t = np.asarray(y, dtype=np.float64)
        w = np.ones_like(t) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        signs = list(self.signs) if self.signs is not None else [0] * x.shape[1]
        bounds = [(0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None) for s in signs] + [(None, None)]

        def loss(theta):
            z = x @ theta[:-1] + theta[-1]
            value = -self.C * np.sum(w * (t * log_expit(z) + (1 - t) * log_expit(-z))) + 0.5 * theta[:-1] @ theta[:-1]
            resid = self.C * w * (expit(z) - t)
            return value, np.append(x.T @ resid + theta[:-1], resid.sum())

        fit = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                       options={"maxiter": self.max_iter})
        self.classes_ = np.array([0, 1])
        self.coef_ = fit.x[:-1].reshape(1, -1)
        self.intercept_ = fit.x[-1:].copy()
        self.n_features_in_ = x.shape[1]
        self.n_iter_ = np.array([fit.nit], dtype=np.int32)
        return self


class Float32HistGradientBoostingClassifier(HistGradientBoostingClassifier):
    """Histogram gradient boosting whose split thresholds are float32 numbers, as ONNX trees store them.

    scikit-learn splits at float64 midpoints; ONNX rounds each to the nearest float32, which can land on the other
    side of a float32 input (BMI 22.7 against a threshold of 22.69999981), sending that row down another branch
    (skl2onnx issue #1192). Rounding every threshold down to the largest float32 not above it decides every float32
    input exactly as before, and ONNX then stores it exactly.
    """

    def fit(self, X, y, sample_weight=None):
        """Fit, then snap the split thresholds to float32."""
        super().fit(X, y, sample_weight=sample_weight)
        for per_class in self._predictors:
            for predictor in per_class:
                nodes = predictor.nodes
                t32 = nodes["num_threshold"].astype(np.float32)
                above = t32.astype(np.float64) > nodes["num_threshold"]
                t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
                nodes["num_threshold"] = np.where(nodes["is_leaf"].astype(bool), nodes["num_threshold"], t32)
        return self


def _register_converters() -> None:
    # skl2onnx finds converters by class: our subclasses convert exactly like their scikit-learn parents.
    from skl2onnx import update_registered_converter
    from skl2onnx.operator_converters.linear_classifier import convert_sklearn_linear_classifier
    from skl2onnx.operator_converters.random_forest import convert_sklearn_random_forest_classifier
    from skl2onnx.shape_calculators.linear_classifier import calculate_linear_classifier_output_shapes

    options = {"zipmap": [True, False, "columns"], "nocl": [True, False], "raw_scores": [True, False]}
    update_registered_converter(
        SignConstrainedLogisticRegression, "HealthSyncSignConstrainedLogisticRegression",
        calculate_linear_classifier_output_shapes, convert_sklearn_linear_classifier, options=options)
    update_registered_converter(
        Float32HistGradientBoostingClassifier, "HealthSyncFloat32HistGradientBoostingClassifier",
        calculate_linear_classifier_output_shapes, convert_sklearn_random_forest_classifier,
        options={**options, "output_class_labels": [False, True]})


def _logreg():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # Standardising divides by a positive scale, so coefficient signs mean the same before and after it.
    return make_pipeline(StandardScaler(), CalibratedClassifierCV(SignConstrainedLogisticRegression(SIGNS),
                                                                  method="sigmoid", cv=5))


def _gbm():
    from sklearn.calibration import CalibratedClassifierCV

    gbm = Float32HistGradientBoostingClassifier(max_iter=100, max_depth=2, learning_rate=0.05, min_samples_leaf=10,
                                         monotonic_cst=SIGNS, early_stopping=False, random_state=0)
    # Sigmoid (Platt) calibration is a monotone map of the score: it keeps the trees' monotonicity, and with
    # 40 rows per fold it is steadier than isotonic steps.
    return CalibratedClassifierCV(gbm, method="sigmoid", cv=5)


# name → (builder, description)
MODELS: dict[str, tuple[Callable[[], Any], str]] = {
    "pima_diabetes_logreg": (_logreg, "standardised logistic regression with non-negative coefficients, "
                                      "sigmoid-calibrated (5-fold)"),
    "pima_diabetes_gbm": (_gbm, "histogram gradient boosting (100 depth-2 trees, monotone increasing in every "
                                "input), sigmoid-calibrated (5-fold)"),
}


def train(name: str, x: np.ndarray, y: np.ndarray):
    """Fit one named model."""
    model = MODELS[name][0]()
    model.fit(x, y)
    return model


def calibration(y: np.ndarray, p: np.ndarray, bins: int = 5) -> dict[str, Any]:
    """Calibration intercept and slope (logistic recalibration of y on logit p) and reliability bins."""
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


def auc_ci(y: np.ndarray, p: np.ndarray, rounds: int = BOOTSTRAP_ROUNDS, level: float = 0.95, seed: int = 0
           ) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the AUC (test rows resampled with replacement)."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(rounds):
        idx = rng.integers(0, len(y), len(y))
        if y[idx].min() != y[idx].max():  # a resample with one class has no AUC
            aucs.append(roc_auc_score(y[idx], p[idx]))
    lo, hi = np.quantile(aucs, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def evaluate(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """Held-out AUC (with a 95% bootstrap interval), Brier score and calibration of predicted probabilities."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    lo, hi = auc_ci(y, p)
    return {"n": int(len(y)), "prevalence": float(y.mean()), "auc": float(roc_auc_score(y, p)),
            "auc_ci95": [lo, hi], "auc_ci_method": f"percentile bootstrap, {BOOTSTRAP_ROUNDS} resamples",
            "brier": float(brier_score_loss(y, p)), "calibration": calibration(y, p)}


def to_onnx(model, n_features: int) -> bytes:
    """Convert a fitted model to ONNX (float32 input, probabilities as a plain tensor)."""
    from skl2onnx import to_onnx as skl_to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    _register_converters()
    onx = skl_to_onnx(model, initial_types=[("input", FloatTensorType([None, n_features]))],
                      options={id(model): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3})
    return onx.SerializeToString()
