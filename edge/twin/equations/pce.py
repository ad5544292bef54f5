"""ACC/AHA 2013 Pooled Cohort Equations: 10-year risk of a first hard ASCVD event.

Goff DC Jr et al. 2013 ACC/AHA Guideline on the Assessment of Cardiovascular Risk. Circulation 2014;129(suppl 2):
S49–S73, Table A. Table A prints most terms to 3 decimals, the mean sums to 2 and baseline survivals to 4; the
reference calculators (the ACC/AHA ASCVD Risk Estimator and its published source: Cerner's SMART-on-FHIR ASCVD
calculator, github.com/cerner/ascvd-risk-calculator, app/load_fhir_data.js `computeTenYearScore`) use the work
group's full-precision set below: African-American women's coefficients to 4 decimals, mean sums to 4, baseline
survivals to 5 (0.96652 / 0.95334 / 0.91436 / 0.89536). The rounded table drifts by ~0.2 pp at 25–27 % risk.
Valid for ages 40–79, total cholesterol 130–320 mg/dL, HDL 20–100 mg/dL, SBP 90–200 mmHg. The guideline gives
equations for African-American and for white people, and advises the white equations for other races.
"""
from __future__ import annotations

import math

from edge.twin.equations import checks
from edge.twin.equations.result import RiskResult, not_applicable, out_of_range
from protocol.errors import InputError

NAME = "pce_ascvd_10y"
VERSION = "goff2013-full-precision"
# Discrimination in the derivation cohorts (Goff 2013): C statistics 0.713–0.818; the lowest is reported.
C_STATISTIC = 0.713

# Terms: ln_age, ln_age_sq, ln_tc, ln_age_x_ln_tc, ln_hdl, ln_age_x_ln_hdl, ln_sbp (treated/untreated),
# ln_age_x_ln_sbp (treated/untreated), smoker, ln_age_x_smoker, diabetes; then the mean sum and S0(10).
COEFFICIENTS: dict[tuple[str, str], dict[str, float]] = {
    ("female", "white"): {
        "ln_age": -29.799, "ln_age_sq": 4.884, "ln_tc": 13.540, "ln_age_x_ln_tc": -3.114, "ln_hdl": -13.578,
        "ln_age_x_ln_hdl": 3.149, "ln_treated_sbp": 2.019, "ln_untreated_sbp": 1.957, "smoker": 7.574,
        "ln_age_x_smoker": -1.665, "diabetes": 0.661, "mean": -29.1817, "baseline_survival": 0.96652,
    },
    ("female", "african_american"): {
        "ln_age": 17.1141, "ln_tc": 0.9396, "ln_hdl": -18.9196, "ln_age_x_ln_hdl": 4.4748,
        "ln_treated_sbp": 29.2907, "ln_age_x_ln_treated_sbp": -6.4321, "ln_untreated_sbp": 27.8197,
        "ln_age_x_ln_untreated_sbp": -6.0873, "smoker": 0.6908, "diabetes": 0.8738, "mean": 86.6081,
        "baseline_survival": 0.95334,
    },
    ("male", "white"): {
        "ln_age": 12.344, "ln_tc": 11.853, "ln_age_x_ln_tc": -2.664, "ln_hdl": -7.990, "ln_age_x_ln_hdl": 1.769,
        "ln_treated_sbp": 1.797, "ln_untreated_sbp": 1.764, "smoker": 7.837, "ln_age_x_smoker": -1.795,
        "diabetes": 0.658, "mean": 61.1816, "baseline_survival": 0.91436,
    },
    ("male", "african_american"): {
        "ln_age": 2.469, "ln_tc": 0.302, "ln_hdl": -0.307, "ln_treated_sbp": 1.916, "ln_untreated_sbp": 1.809,
        "smoker": 0.549, "diabetes": 0.645, "mean": 19.5425, "baseline_survival": 0.89536,
    },
}

VALIDITY = {"age": (40, 79), "total_cholesterol": (130, 320), "hdl_cholesterol": (20, 100), "systolic_bp": (90, 200)}

# Race answers → canonical answer. "white" and "other" are explicit answers for the white equations (the
# guideline's advice for other races); anything unlisted is refused rather than silently scored as white.
RACES = {
    "african american": "african_american", "black": "african_american", "black or african american":
        "african_american", "aa": "african_american", "white": "white", "other": "other",
}


def race_answer(race: object) -> str:
    """Canonical race answer (african_american, white, other) from a spelling; case, '_' and '-' are ignored."""
    key = " ".join(race.lower().replace("_", " ").replace("-", " ").split()) if isinstance(race, str) else None
    if key not in RACES:
        raise InputError(f"race {race!r} has no Pooled Cohort equation", field="race",
                         hint="give african_american (or black), white, or other (scored with the white equations)")
    return RACES[key]


def race_group(race: object) -> str:
    """The equation group of a race answer: african_american, or white (white and other)."""
    answer = race_answer(race)
    return "african_american" if answer == "african_american" else "white"


def individual_sum(sex: str, race: str, age: float, total_cholesterol: float, hdl_cholesterol: float,
                   systolic_bp: float, bp_treated: bool, smoker: bool, diabetes: bool) -> float:
    """The equation's individual sum (Σ coefficient × value) for one sex/race group."""
    sex, age, total_cholesterol, hdl_cholesterol, systolic_bp, bp_treated, smoker, diabetes = checks.cardio(
        sex, age, total_cholesterol, hdl_cholesterol, systolic_bp, bp_treated, smoker, diabetes)
    return _sum(COEFFICIENTS[(sex, race_group(race))], age, total_cholesterol, hdl_cholesterol, systolic_bp,
                bp_treated, smoker, diabetes)


def _sum(c: dict[str, float], age: float, total_cholesterol: float, hdl_cholesterol: float, systolic_bp: float,
         bp_treated: bool, smoker: bool, diabetes: bool) -> float:
    ln_age, ln_tc, ln_hdl, ln_sbp = (math.log(v) for v in (age, total_cholesterol, hdl_cholesterol, systolic_bp))
    treated = "treated" if bp_treated else "untreated"
    terms = {
        "ln_age": ln_age, "ln_age_sq": ln_age * ln_age, "ln_tc": ln_tc, "ln_age_x_ln_tc": ln_age * ln_tc,
        "ln_hdl": ln_hdl, "ln_age_x_ln_hdl": ln_age * ln_hdl, f"ln_{treated}_sbp": ln_sbp,
        f"ln_age_x_ln_{treated}_sbp": ln_age * ln_sbp, "smoker": float(smoker),
        "ln_age_x_smoker": ln_age * float(smoker), "diabetes": float(diabetes),
    }
    return sum(c.get(term, 0.0) * value for term, value in terms.items())


def ascvd_10y(sex: str, race: str, age: float, total_cholesterol: float, hdl_cholesterol: float,
              systolic_bp: float, bp_treated: bool, smoker: bool, diabetes: bool) -> RiskResult:
    """10-year ASCVD risk by the Pooled Cohort Equations, or not-applicable outside the validity ranges."""
    group = race_group(race)
    sex, age, total_cholesterol, hdl_cholesterol, systolic_bp, bp_treated, smoker, diabetes = checks.cardio(
        sex, age, total_cholesterol, hdl_cholesterol, systolic_bp, bp_treated, smoker, diabetes)
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
    c = COEFFICIENTS[(sex, group)]
    s = _sum(c, age, total_cholesterol, hdl_cholesterol, systolic_bp, bp_treated, smoker, diabetes)
    probability = 1.0 - c["baseline_survival"] ** math.exp(s - c["mean"])
    return RiskResult(**template, probability=probability,
                      details={"group": f"{group} {sex}", "individual_sum": s})
