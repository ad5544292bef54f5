"""The risk panel: every published equation and every manifest model for one patient."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edge.twin.equations import findrisc, framingham, pce, prevent, qrisk3
from edge.twin.equations.result import RiskResult, not_applicable
from edge.twin.inputs import PatientInputs

CARDIO_INPUTS = ("total_cholesterol", "hdl_cholesterol", "systolic_bp", "bp_treated", "smoker", "diabetes")
QRISK3_CONDITIONS = ("atrial_fibrillation", "atypical_antipsychotics", "corticosteroids", "migraine",
                     "rheumatoid_arthritis", "ckd_3_5", "severe_mental_illness", "sle")
QRISK3_INPUTS = ("ethnicity", "townsend", "bmi", "total_cholesterol", "hdl_cholesterol", "systolic_bp", "sbp_sd",
                 "smoker", "diabetes", "bp_treated", "family_chd_under_60", *QRISK3_CONDITIONS)

# Who each equation is for, shown with every result (Goff 2013, D'Agostino 2008, Khan 2024, Hippisley-Cox 2017,
# Lindström 2003): the population it was derived in and the ranges outside which it answers "not applicable".
NOTES = {
    pce.NAME: "US adults 40–79 without ASCVD; TC 130–320, HDL 20–100 mg/dL, SBP 90–200 mmHg; race-specific "
              "(other races use the white equations); tends to overestimate in contemporary cohorts",
    framingham.NAME: "adults 30–74 without CVD (Framingham Heart Study, mostly white US)",
    findrisc.NAME: "adults (derived in Finns aged 35–64); a screening score, not a diagnosis",
    qrisk3.NAME: "UK adults 25–84 without CVD (QResearch, England); BMI 20–40, cholesterol/HDL ratio 1–12, "
                 "SBP 70–210, Townsend −7 to 11; not for people already on a statin; ClinRisk's open-source "
                 "QRISK3-2017, not the qrisk.org calculator (check against qrisk.org)",
    **{prevent.name(o, h): "US adults 30–79 without CVD, no race term; TC 130–320, HDL 20–100 mg/dL, SBP 90–180, "
                           "eGFR 15–140" + ("" if h == 10 else "; 30-year risk for ages 30–59 only")
       for o in prevent.OUTCOMES for h in prevent.HORIZONS},
}


def _ex_smoker(i: PatientInputs) -> bool | None:
    # A non-smoker with a recorded number of cigarettes a day smoked once: an ex-smoker for QRISK3 (this is also
    # how the "quit smoking" scenario, which only clears `smoker`, reaches QRISK3's ex-smoker category).
    return i.ex_smoker if i.ex_smoker is not None else True if i.cigarettes_per_day is not None else None


def _qrisk3_needs(i: PatientInputs) -> tuple[str, ...]:
    # Asked only of some people: cigarettes a day of a smoker, ex-smoking of a non-smoker, the diabetes type of a
    # diabetic, erectile dysfunction of a man.
    smoking = None if i.smoker is None else "cigarettes_per_day" if i.smoker else \
        "ex_smoker" if _ex_smoker(i) is None else None
    extra = (smoking, "diabetes_type" if i.diabetes else None, "erectile_dysfunction" if i.sex == "male" else None)
    return (*QRISK3_INPUTS, *(e for e in extra if e))


def _qrisk3(i: PatientInputs) -> RiskResult:
    conditions = {c: i.bp_treated if c == "treated_hypertension" else i.family_chd_under_60 if c == "family_chd"
                  else getattr(i, c) for c in qrisk3.ASKED[i.sex]}
    return qrisk3.cvd_10y(i.sex, i.age, i.ethnicity, i.townsend, i.body_mass_index,
                          i.total_cholesterol / i.hdl_cholesterol, i.systolic_bp, i.sbp_sd,
                          qrisk3.smoking_category(i.smoker, bool(_ex_smoker(i)), i.cigarettes_per_day),
                          i.diabetes_type if i.diabetes else "none", conditions)


def _prevent(outcome: str, horizon: int) -> Callable[[PatientInputs], RiskResult]:
    def run(i: PatientInputs) -> RiskResult:
        return prevent.risk(outcome, horizon, i.sex, i.age, i.total_cholesterol, i.hdl_cholesterol, i.systolic_bp,
                            i.egfr, i.bp_treated, i.on_statin, i.diabetes, i.smoker, bmi=i.body_mass_index,
                            hba1c=i.hba1c, uacr=i.uacr, sdi_decile=i.sdi_decile)
    return run


def _template(name: str, disease: str, version: str, horizon: int) -> dict:
    return {"name": name, "disease": disease, "model_name": name, "model_version": version, "horizon_years": horizon}


# name → (template, inputs needed (or a function of the inputs giving them), function of the inputs)
EQUATIONS: dict[str, tuple[dict, tuple[str, ...] | Callable[[PatientInputs], tuple[str, ...]],
                           Callable[[PatientInputs], RiskResult]]] = {
    pce.NAME: (
        _template(pce.NAME, "ascvd", pce.VERSION, 10), ("race", *CARDIO_INPUTS),
        lambda i: pce.ascvd_10y(i.sex, i.race, i.age, i.total_cholesterol, i.hdl_cholesterol, i.systolic_bp,
                                i.bp_treated, i.smoker, i.diabetes),
    ),
    framingham.NAME: (
        _template(framingham.NAME, "cvd", framingham.VERSION, 10), CARDIO_INPUTS,
        lambda i: framingham.cvd_10y(i.sex, i.age, i.total_cholesterol, i.hdl_cholesterol, i.systolic_bp,
                                     i.bp_treated, i.smoker, i.diabetes),
    ),
    qrisk3.NAME: (_template(qrisk3.NAME, "cvd", qrisk3.VERSION, 10), _qrisk3_needs, _qrisk3),
    findrisc.NAME: (
        _template(findrisc.NAME, "type2_diabetes", findrisc.VERSION, 10),
        ("bmi", "waist_circumference", "physically_active", "daily_vegetables", "bp_treated",
         "high_glucose_history"),
        lambda i: findrisc.t2d_10y(i.sex, i.age, i.body_mass_index, i.waist_circumference, i.physically_active,
                                   i.daily_vegetables, i.bp_treated, i.high_glucose_history, i.family_diabetes),
    ),
}
for _outcome in prevent.OUTCOMES:
    for _horizon in prevent.HORIZONS:
        _name = prevent.name(_outcome, _horizon)
        EQUATIONS[_name] = (
            _template(_name, _outcome, prevent.VERSION, _horizon),
            (*CARDIO_INPUTS, "on_statin", "egfr", *(("bmi",) if _outcome == "heart_failure" else ())),
            _prevent(_outcome, _horizon),
        )


def run_equation(name: str, inputs: PatientInputs) -> RiskResult:
    """One equation's result with its validity note; missing inputs give a not-applicable result naming them."""
    template, needs, fn = EQUATIONS[name]
    missing = inputs.missing(needs(inputs) if callable(needs) else needs)
    result = not_applicable(template, f"missing inputs: {', '.join(missing)}", missing=missing) if missing \
        else fn(inputs)
    result.details["validity"] = NOTES[name]  # each result owns its details dict
    return result


def risk_panel(inputs: PatientInputs, models_dir: Path | None = None, *, with_models: bool = True
               ) -> list[RiskResult]:
    """All equations, then all ONNX models from the manifest, for one patient."""
    results = [run_equation(name, inputs) for name in EQUATIONS]
    if with_models:
        from edge.twin import models

        results.extend(models.predict(m, inputs) for m in models.loaded_models(models_dir))
    return results
