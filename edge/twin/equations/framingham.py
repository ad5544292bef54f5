"""Framingham 2008 general cardiovascular disease risk (lipid model): 10-year risk of any CVD event.

D'Agostino RB Sr et al. General cardiovascular risk profile for use in primary care: the Framingham Heart Study.
Circulation 2008;117:743–753, Table 2 (sex-specific coefficients, mean sums, baseline survival). Derived in people
aged 30–74 without CVD; outside that age range the result is not applicable.
"""
from __future__ import annotations

import math

from edge.twin.equations import checks
from edge.twin.equations.result import RiskResult, not_applicable, out_of_range

NAME = "framingham_cvd_10y"
VERSION = "dagostino2008"
# C statistic of the general CVD algorithm (D'Agostino 2008): 0.763 men, 0.793 women.
C_STATISTIC = {"male": 0.763, "female": 0.793}

COEFFICIENTS: dict[str, dict[str, float]] = {
    "female": {"ln_age": 2.32888, "ln_tc": 1.20904, "ln_hdl": -0.70833, "ln_untreated_sbp": 2.76157,
               "ln_treated_sbp": 2.82263, "smoker": 0.52873, "diabetes": 0.69154,
               "mean": 26.1931, "baseline_survival": 0.95012},
    "male": {"ln_age": 3.06117, "ln_tc": 1.12370, "ln_hdl": -0.93263, "ln_untreated_sbp": 1.93303,
             "ln_treated_sbp": 1.99881, "smoker": 0.65451, "diabetes": 0.57367,
             "mean": 23.9802, "baseline_survival": 0.88936},
}

AGE_RANGE = (30, 74)
# Not stated as limits in the paper; ranges of plausible lab values so a unit slip is never scored.
LAB_RANGES = {"total_cholesterol": (100, 405), "hdl_cholesterol": (10, 100), "systolic_bp": (90, 200)}


def cvd_10y(sex: str, age: float, total_cholesterol: float, hdl_cholesterol: float, systolic_bp: float,
            bp_treated: bool, smoker: bool, diabetes: bool) -> RiskResult:
    """10-year general CVD risk (D'Agostino 2008), or not-applicable outside its age range."""
    sex, age, total_cholesterol, hdl_cholesterol, systolic_bp, bp_treated, smoker, diabetes = checks.cardio(
        sex, age, total_cholesterol, hdl_cholesterol, systolic_bp, bp_treated, smoker, diabetes)
    template = {"name": NAME, "disease": "cvd", "model_name": NAME, "model_version": VERSION,
                "horizon_years": 10, "confidence": C_STATISTIC[sex]}
    reason = out_of_range([
        ("age", age, *AGE_RANGE, "years"),
        ("total cholesterol", total_cholesterol, *LAB_RANGES["total_cholesterol"], "mg/dL"),
        ("HDL cholesterol", hdl_cholesterol, *LAB_RANGES["hdl_cholesterol"], "mg/dL"),
        ("systolic BP", systolic_bp, *LAB_RANGES["systolic_bp"], "mmHg"),
    ])
    if reason:
        return not_applicable(template, reason)
    c = COEFFICIENTS[sex]
    sbp_term = c["ln_treated_sbp"] if bp_treated else c["ln_untreated_sbp"]
    s = (c["ln_age"] * math.log(age) + c["ln_tc"] * math.log(total_cholesterol)
         + c["ln_hdl"] * math.log(hdl_cholesterol) + sbp_term * math.log(systolic_bp)
         + c["smoker"] * smoker + c["diabetes"] * diabetes)
    probability = 1.0 - c["baseline_survival"] ** math.exp(s - c["mean"])
    return RiskResult(**template, probability=probability, details={"individual_sum": s})
