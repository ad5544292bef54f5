"""AHA PREVENT equations: 10- and 30-year risk of total CVD, ASCVD and heart failure, ages 30–79, no race term.

Khan SS et al. Development and validation of the American Heart Association's PREVENT equations. Circulation
2024;149:430–449, supplemental Tables S12A–J (logistic models; coefficients in `prevent_coefficients.py`). The
base model uses age, non-HDL and HDL cholesterol, SBP, diabetes, smoking, eGFR, BP treatment, statin (and BMI for
heart failure); add-on models add the urine albumin–creatinine ratio (UACR), HbA1c, or the social deprivation index
(SDI decile), and the full model all three, with a "missing" term for any it lacks. Model choice follows the
reference implementation `preventr` (estimate_risk, "Model selection"): no add-on → base; one → that add-on
model; two or three → full. Validity (Khan 2024; preventr's input ranges): age 30–79 (30-year risk: 30–59), total
cholesterol 130–320 mg/dL, HDL 20–100 mg/dL, SBP 90–180 mmHg, BMI 18.5–39.9 kg/m², eGFR 15–140, HbA1c 4.5–15 %,
UACR 0.1–25000 mg/g, SDI decile 1–10.
"""
from __future__ import annotations

import functools
import math

from edge.twin.equations import checks
from edge.twin.equations.prevent_coefficients import COEFFICIENTS
from edge.twin.equations.result import RiskResult, not_applicable, out_of_range

VERSION = "khan2023"
OUTCOMES = ("cvd", "ascvd", "heart_failure")
HORIZONS = (10, 30)
MMOL_PER_MG_DL = 0.02586  # cholesterol mg/dL → mmol/L as the equations (and preventr) define it
VALIDITY = {"age": (30, 79), "total_cholesterol": (130, 320), "hdl_cholesterol": (20, 100), "systolic_bp": (90, 180),
            "bmi": (18.5, 39.9), "egfr": (15, 140), "hba1c": (4.5, 15), "uacr": (0.1, 25000), "sdi_decile": (1, 10)}
AGE_30Y = (30, 59)  # Khan 2024: 30-year estimates are for ages 30–59
# Derivation C statistics (Khan 2024, 10-year base): total CVD 0.794 (women) / 0.757 (men), ASCVD 0.794 / 0.761,
# heart failure 0.830 / 0.808 — the lower (men's) is reported.
C_STATISTIC = {"cvd": 0.757, "ascvd": 0.761, "heart_failure": 0.808}


def name(outcome: str, horizon: int) -> str:
    """The result name of one PREVENT equation, e.g. prevent_heart_failure_30y."""
    return f"prevent_{outcome}_{horizon}y"


def model_for(hba1c: float | None, uacr: float | None, sdi_decile: int | None) -> str:
    """Which PREVENT model the available add-on inputs select (preventr's rule)."""
    given = [m for m, v in (("hba1c", hba1c), ("uacr", uacr), ("sdi", sdi_decile)) if v is not None]
    return "base" if not given else given[0] if len(given) == 1 else "full"


def features(age: float, total_cholesterol: float, hdl_cholesterol: float, systolic_bp: float, egfr: float,
             bmi: float | None, bp_treated: bool, on_statin: bool, diabetes: bool, smoker: bool,
             hba1c: float | None = None, uacr: float | None = None, sdi_decile: int | None = None
             ) -> dict[str, float]:
    """Every transformed predictor, centred and scaled as Khan 2024 defines them (a model reads those it has)."""
    a = (age - 55) / 10
    non_hdl = (total_cholesterol - hdl_cholesterol) * MMOL_PER_MG_DL - 3.5
    hdl = (hdl_cholesterol * MMOL_PER_MG_DL - 1.3) / 0.3
    sbp_ge = (max(systolic_bp, 110) - 130) / 20
    egfr_lt = (min(egfr, 60) - 60) / -15
    bmi_ge = 0.0 if bmi is None else (max(bmi, 30) - 30) / 5
    bp, st, dm, sm = float(bp_treated), float(on_statin), float(diabetes), float(smoker)
    return {
        "age": a, "age_sq": a * a, "non_hdl": non_hdl, "hdl": hdl, "sbp_lt110": (min(systolic_bp, 110) - 110) / 20,
        "sbp_ge110": sbp_ge, "diabetes": dm, "smoker": sm,
        "bmi_lt30": 0.0 if bmi is None else (min(bmi, 30) - 25) / 5, "bmi_ge30": bmi_ge,
        "egfr_lt60": egfr_lt, "egfr_ge60": (max(egfr, 60) - 90) / -15, "bp_treated": bp, "statin": st,
        "treated_x_sbp_ge110": bp * sbp_ge, "statin_x_non_hdl": st * non_hdl, "age_x_non_hdl": a * non_hdl,
        "age_x_hdl": a * hdl, "age_x_sbp_ge110": a * sbp_ge, "age_x_diabetes": a * dm, "age_x_smoker": a * sm,
        "age_x_bmi_ge30": a * bmi_ge, "age_x_egfr_lt60": a * egfr_lt,
        "sdi_4_6": float(sdi_decile is not None and 4 <= sdi_decile <= 6),
        "sdi_7_10": float(sdi_decile is not None and sdi_decile >= 7), "sdi_missing": float(sdi_decile is None),
        "ln_uacr": 0.0 if uacr is None else math.log(uacr), "uacr_missing": float(uacr is None),
        "hba1c_dm": hba1c - 5.3 if hba1c is not None and diabetes else 0.0,
        "hba1c_no_dm": hba1c - 5.3 if hba1c is not None and not diabetes else 0.0,
        "hba1c_missing": float(hba1c is None), "const": 1.0,
    }


def _optional(field: str, value: float | None) -> float | None:
    return None if value is None else checks.number(field, value, positive=True)


# The panel asks for six PREVENT risks of one patient: check the inputs and transform them once. typed=True keeps
# True apart from 1 (a bool age must still be refused); NaN never equals itself, so it is never a cache hit.
@functools.lru_cache(maxsize=64, typed=True)
def _checked(sex: str, age: float, total_cholesterol: float, hdl_cholesterol: float, systolic_bp: float,
             egfr: float, bp_treated: bool, on_statin: bool, diabetes: bool, smoker: bool, bmi: float | None,
             hba1c: float | None, uacr: float | None, sdi_decile: int | None) -> tuple[tuple, dict[str, float]]:
    sex, age, total_cholesterol, hdl_cholesterol, systolic_bp, bp_treated, smoker, diabetes = checks.cardio(
        sex, age, total_cholesterol, hdl_cholesterol, systolic_bp, bp_treated, smoker, diabetes)
    egfr, on_statin = checks.number("egfr", egfr, positive=True), checks.flag("on_statin", on_statin)
    bmi, hba1c, uacr = _optional("bmi", bmi), _optional("hba1c", hba1c), _optional("uacr", uacr)
    if sdi_decile is not None and (isinstance(sdi_decile, bool) or sdi_decile not in range(1, 11)):
        checks.choice("sdi_decile", str(sdi_decile), [str(d) for d in range(1, 11)])
    x = features(age, total_cholesterol, hdl_cholesterol, systolic_bp, egfr, bmi, bp_treated, on_statin, diabetes,
                 smoker, hba1c, uacr, sdi_decile)
    return (sex, age, total_cholesterol, hdl_cholesterol, systolic_bp, egfr, bmi, hba1c, uacr), x


def risk(outcome: str, horizon: int, sex: str, age: float, total_cholesterol: float, hdl_cholesterol: float,
         systolic_bp: float, egfr: float, bp_treated: bool, on_statin: bool, diabetes: bool, smoker: bool,
         bmi: float | None = None, hba1c: float | None = None, uacr: float | None = None,
         sdi_decile: int | None = None) -> RiskResult:
    """One PREVENT risk (outcome × horizon) with the model the add-on inputs select, or not-applicable."""
    outcome = checks.choice("outcome", outcome, OUTCOMES)
    if horizon not in HORIZONS:
        checks.choice("horizon", str(horizon), [str(h) for h in HORIZONS])
    args = (sex, age, total_cholesterol, hdl_cholesterol, systolic_bp, egfr, bp_treated, on_statin, diabetes, smoker,
            bmi, hba1c, uacr, sdi_decile)
    try:
        hash(args)
    except TypeError:  # a list or dict where a value belongs: the uncached checks name the field
        _checked.__wrapped__(*args)
    (sex, age, total_cholesterol, hdl_cholesterol, systolic_bp, egfr, bmi, hba1c, uacr), x = _checked(*args)
    model = model_for(hba1c, uacr, sdi_decile)
    result_name = name(outcome, horizon)
    template = {"name": result_name, "disease": outcome, "model_name": result_name,
                "model_version": f"{VERSION}-{model}", "horizon_years": horizon, "confidence": C_STATISTIC[outcome]}
    if outcome == "heart_failure" and bmi is None:
        return not_applicable(template, "missing inputs: bmi", missing=("bmi",))
    ages = AGE_30Y if horizon == 30 else VALIDITY["age"]
    checks_ = [("age", age, *ages, "years"),
               ("total cholesterol", total_cholesterol, *VALIDITY["total_cholesterol"], "mg/dL"),
               ("HDL cholesterol", hdl_cholesterol, *VALIDITY["hdl_cholesterol"], "mg/dL"),
               ("systolic BP", systolic_bp, *VALIDITY["systolic_bp"], "mmHg"),
               ("eGFR", egfr, *VALIDITY["egfr"], "mL/min/1.73m2")]
    optional = [("BMI", bmi, "bmi", "kg/m2"), ("HbA1c", hba1c, "hba1c", "%"), ("UACR", uacr, "uacr", "mg/g")]
    checks_ += [(label, v, *VALIDITY[key], unit) for label, v, key, unit in optional
                if v is not None and (key != "bmi" or outcome == "heart_failure")]
    reason = out_of_range(checks_)
    if reason:
        return not_applicable(template, reason)
    logit = sum(c * x[term] for term, c in COEFFICIENTS[(model, horizon)][(outcome, sex)].items())
    return RiskResult(**template, probability=1.0 / (1.0 + math.exp(-logit)),
                      details={"model": model, "egfr": egfr})
