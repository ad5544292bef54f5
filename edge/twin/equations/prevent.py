"""AHA PREVENT equations (base model): 10-year risk of total CVD and of ASCVD, ages 30–79, no race term.

Khan SS et al. Development and validation of the American Heart Association's PREVENT equations. Circulation
2024;149:430–449, supplemental Table S12 (logistic coefficients). Transcribed here from the supplement as
implemented in Linden A., `prevent` for Stata (SSC, 2024); checked against the supplement's worked example
(Table S12: woman/man aged 50 → 14.68% / 16.32% total CVD). Validity: TC 130–320, HDL 20–100, SBP 90–200,
eGFR 15–140; the base CVD and ASCVD models do not use BMI.
"""
from __future__ import annotations

import math

from edge.twin.equations.result import RiskResult, not_applicable, out_of_range

VERSION = "khan2023-base"
MMOL_PER_MG_DL = 0.02586  # cholesterol mg/dL → mmol/L as the equations define it
# Terms, in order: age, non-HDL, HDL, SBP<110, SBP≥110, diabetes, smoking, eGFR<60, eGFR≥60, BP treatment, statin,
# treated SBP≥110, treated non-HDL, age×non-HDL, age×HDL, age×SBP≥110, age×diabetes, age×smoking, age×eGFR<60, const.
TERMS = ("age", "non_hdl", "hdl", "sbp_lt110", "sbp_ge110", "diabetes", "smoker", "egfr_lt60", "egfr_ge60",
         "bp_treated", "statin", "treated_sbp", "treated_non_hdl", "age_x_non_hdl", "age_x_hdl", "age_x_sbp",
         "age_x_diabetes", "age_x_smoker", "age_x_egfr_lt60", "const")
COEFFICIENTS: dict[tuple[str, str], tuple[float, ...]] = {
    ("cvd", "female"): (0.7939329, 0.0305239, -0.1606857, -0.2394003, 0.3600781, 0.8667604, 0.5360739, 0.6045917,
                        0.0433769, 0.3151672, -0.1477655, -0.0663612, 0.1197879, -0.0819715, 0.0306769,
                        -0.0946348, -0.27057, -0.078715, -0.1637806, -3.307728),
    ("cvd", "male"): (0.7688528, 0.0736174, -0.0954431, -0.4347345, 0.3362658, 0.7692857, 0.4386871, 0.5378979,
                      0.0164827, 0.288879, -0.1337349, -0.0475924, 0.150273, -0.0517874, 0.0191169, -0.1049477,
                      -0.2251948, -0.0895067, -0.1543702, -3.031168),
    ("ascvd", "female"): (0.719883, 0.1176967, -0.151185, -0.0835358, 0.3592852, 0.8348585, 0.4831078, 0.4864619,
                          0.0397779, 0.2265309, -0.0592374, -0.0395762, 0.0844423, -0.0567839, 0.0325692,
                          -0.1035985, -0.2417542, -0.0791142, -0.1671492, -3.819975),
    ("ascvd", "male"): (0.7099847, 0.1658663, -0.1144285, -0.2837212, 0.3239977, 0.7189597, 0.3956973, 0.3690075,
                        0.0203619, 0.2036522, -0.0865581, -0.0322916, 0.114563, -0.0300005, 0.0232747, -0.0927024,
                        -0.2018525, -0.0970527, -0.1217081, -3.500655),
}
VALIDITY = {"age": (30, 79), "total_cholesterol": (130, 320), "hdl_cholesterol": (20, 100), "systolic_bp": (90, 200),
            "egfr": (15, 140)}
# Derivation C statistics (Khan 2024): total CVD 0.794 (women) / 0.757 (men) — we report the lower.
C_STATISTIC = 0.757


def features(age: float, total_cholesterol: float, hdl_cholesterol: float, systolic_bp: float, egfr: float,
             bp_treated: bool, on_statin: bool, diabetes: bool, smoker: bool) -> tuple[float, ...]:
    """The transformed predictors in TERMS order (centred and scaled as the paper defines them)."""
    a = (age - 55) / 10
    non_hdl = (total_cholesterol - hdl_cholesterol) * MMOL_PER_MG_DL - 3.5
    hdl = (hdl_cholesterol * MMOL_PER_MG_DL - 1.3) / 0.3
    sbp_lt = (min(systolic_bp, 110) - 110) / 20
    sbp_ge = (max(systolic_bp, 110) - 130) / 20
    egfr_lt = (min(egfr, 60) - 60) / -15
    egfr_ge = (max(egfr, 60) - 90) / -15
    bp, st, dm, sm = float(bp_treated), float(on_statin), float(diabetes), float(smoker)
    return (a, non_hdl, hdl, sbp_lt, sbp_ge, dm, sm, egfr_lt, egfr_ge, bp, st, sbp_ge * bp, non_hdl * st,
            a * non_hdl, a * hdl, a * sbp_ge, a * dm, a * sm, a * egfr_lt, 1.0)


def risk_10y(outcome: str, sex: str, age: float, total_cholesterol: float, hdl_cholesterol: float,
             systolic_bp: float, egfr: float, bp_treated: bool, on_statin: bool, diabetes: bool, smoker: bool
             ) -> RiskResult:
    """10-year risk of total CVD ("cvd") or ASCVD ("ascvd") by PREVENT base, or not-applicable out of range."""
    name = f"prevent_{outcome}_10y"
    template = {"name": name, "disease": outcome, "model_name": name, "model_version": VERSION,
                "horizon_years": 10, "confidence": C_STATISTIC}
    reason = out_of_range([
        ("age", age, *VALIDITY["age"], "years"),
        ("total cholesterol", total_cholesterol, *VALIDITY["total_cholesterol"], "mg/dL"),
        ("HDL cholesterol", hdl_cholesterol, *VALIDITY["hdl_cholesterol"], "mg/dL"),
        ("systolic BP", systolic_bp, *VALIDITY["systolic_bp"], "mmHg"),
        ("eGFR", egfr, *VALIDITY["egfr"], "mL/min/1.73m2"),
    ])
    if reason:
        return not_applicable(template, reason)
    x = features(age, total_cholesterol, hdl_cholesterol, systolic_bp, egfr, bp_treated, on_statin, diabetes,
                 smoker)
    logit = sum(c * v for c, v in zip(COEFFICIENTS[(outcome, sex)], x, strict=True))
    return RiskResult(**template, probability=1.0 / (1.0 + math.exp(-logit)), details={"egfr": egfr})
