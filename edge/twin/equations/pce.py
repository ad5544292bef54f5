"""ACC/AHA 2013 Pooled Cohort Equations: 10-year risk of a first hard ASCVD event.

Goff DC Jr et al. 2013 ACC/AHA Guideline on the Assessment of Cardiovascular Risk. Circulation 2014;129(suppl 2):
S49–S73, Table A (coefficients, mean sums, baseline survival). Valid for ages 40–79, total cholesterol 130–320 mg/dL,
HDL 20–100 mg/dL, SBP 90–200 mmHg; people of other races use the white equations, as the guideline advises.
"""
from __future__ import annotations

import math

from edge.twin.equations.result import RiskResult, not_applicable, out_of_range

NAME = "pce_ascvd_10y"
VERSION = "goff2013"
# Discrimination in the derivation cohorts (Goff 2013): C statistics 0.713–0.818; the lowest is reported.
C_STATISTIC = 0.713

# Table A. Terms: ln_age, ln_age_sq, ln_tc, ln_age_x_ln_tc, ln_hdl, ln_age_x_ln_hdl, ln_sbp (treated/untreated),
# ln_age_x_ln_sbp (treated/untreated), smoker, ln_age_x_smoker, diabetes.
COEFFICIENTS: dict[tuple[str, str], dict[str, float]] = {
    ("female", "white"): {
        "ln_age": -29.799, "ln_age_sq": 4.884, "ln_tc": 13.540, "ln_age_x_ln_tc": -3.114, "ln_hdl": -13.578,
        "ln_age_x_ln_hdl": 3.149, "ln_treated_sbp": 2.019, "ln_untreated_sbp": 1.957, "smoker": 7.574,
        "ln_age_x_smoker": -1.665, "diabetes": 0.661, "mean": -29.18, "baseline_survival": 0.9665,
    },
    ("female", "african_american"): {
        "ln_age": 17.114, "ln_tc": 0.940, "ln_hdl": -18.920, "ln_age_x_ln_hdl": 4.475, "ln_treated_sbp": 29.291,
        "ln_age_x_ln_treated_sbp": -6.432, "ln_untreated_sbp": 27.820, "ln_age_x_ln_untreated_sbp": -6.087,
        "smoker": 0.691, "diabetes": 0.874, "mean": 86.61, "baseline_survival": 0.9533,
    },
    ("male", "white"): {
        "ln_age": 12.344, "ln_tc": 11.853, "ln_age_x_ln_tc": -2.664, "ln_hdl": -7.990, "ln_age_x_ln_hdl": 1.769,
        "ln_treated_sbp": 1.797, "ln_untreated_sbp": 1.764, "smoker": 7.837, "ln_age_x_smoker": -1.795,
        "diabetes": 0.658, "mean": 61.18, "baseline_survival": 0.9144,
    },
    ("male", "african_american"): {
        "ln_age": 2.469, "ln_tc": 0.302, "ln_hdl": -0.307, "ln_treated_sbp": 1.916, "ln_untreated_sbp": 1.809,
        "smoker": 0.549, "diabetes": 0.645, "mean": 19.54, "baseline_survival": 0.8954,
    },
}

VALIDITY = {"age": (40, 79), "total_cholesterol": (130, 320), "hdl_cholesterol": (20, 100), "systolic_bp": (90, 200)}


def individual_sum(sex: str, race: str, age: float, total_cholesterol: float, hdl_cholesterol: float,
                   systolic_bp: float, bp_treated: bool, smoker: bool, diabetes: bool) -> float:
    """The equation's individual sum (Σ coefficient × value) for one sex/race group."""
    c = COEFFICIENTS[(sex, _group(race))]
    ln_age, ln_tc, ln_hdl, ln_sbp = (math.log(v) for v in (age, total_cholesterol, hdl_cholesterol, systolic_bp))
    treated = "treated" if bp_treated else "untreated"
    terms = {
        "ln_age": ln_age, "ln_age_sq": ln_age * ln_age, "ln_tc": ln_tc, "ln_age_x_ln_tc": ln_age * ln_tc,
        "ln_hdl": ln_hdl, "ln_age_x_ln_hdl": ln_age * ln_hdl, f"ln_{treated}_sbp": ln_sbp,
        f"ln_age_x_ln_{treated}_sbp": ln_age * ln_sbp, "smoker": float(smoker),
        "ln_age_x_smoker": ln_age * float(smoker), "diabetes": float(diabetes),
    }
    return sum(c.get(term, 0.0) * value for term, value in terms.items())


def _group(race: str) -> str:
    # The guideline: use the white equations for races other than African American.
    return "african_american" if race == "african_american" else "white"


def ascvd_10y(sex: str, race: str, age: float, total_cholesterol: float, hdl_cholesterol: float,
              systolic_bp: float, bp_treated: bool, smoker: bool, diabetes: bool) -> RiskResult:
    """10-year ASCVD risk by the Pooled Cohort Equations, or not-applicable outside the validity ranges."""
    template = {"name": NAME, "disease": "ascvd", "model_name": NAME, "model_version": VERSION,
                "horizon_years": 10, "confidence": C_STATISTIC}
    reason = out_of_range([
        ("age", age, *VALIDITY["age"], "years"),
        ("total cholesterol", total_cholesterol, *VALIDITY["total_cholesterol"], "mg/dL"),
        ("HDL cholesterol", hdl_cholesterol, *VALIDITY["hdl_cholesterol"], "mg/dL"),
        ("systolic BP", systolic_bp, *VALIDITY["systolic_bp"], "mmHg"),
    ])
    if reason:
        return not_applicable(template, reason)
    group = _group(race)
    c = COEFFICIENTS[(sex, group)]
    s = individual_sum(sex, race, age, total_cholesterol, hdl_cholesterol, systolic_bp, bp_treated, smoker, diabetes)
    probability = 1.0 - c["baseline_survival"] ** math.exp(s - c["mean"])
    return RiskResult(**template, probability=probability,
                      details={"group": f"{group} {sex}", "individual_sum": s})
