"""The risk panel: every published equation and every manifest model for one patient."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edge.twin.equations import findrisc, framingham, pce, prevent
from edge.twin.equations.result import RiskResult, not_applicable
from edge.twin.inputs import PatientInputs

CARDIO_INPUTS = ("total_cholesterol", "hdl_cholesterol", "systolic_bp", "bp_treated", "smoker", "diabetes")
# name → (template, inputs needed, function of the inputs)
EQUATIONS: dict[str, tuple[dict, tuple[str, ...], Callable[[PatientInputs], RiskResult]]] = {
    pce.NAME: (
        {"name": pce.NAME, "disease": "ascvd", "model_name": pce.NAME, "model_version": pce.VERSION,
         "horizon_years": 10},
        ("race", *CARDIO_INPUTS),
        lambda i: pce.ascvd_10y(i.sex, i.race, i.age, i.total_cholesterol, i.hdl_cholesterol, i.systolic_bp,
                                i.bp_treated, i.smoker, i.diabetes),
    ),
    framingham.NAME: (
        {"name": framingham.NAME, "disease": "cvd", "model_name": framingham.NAME,
         "model_version": framingham.VERSION, "horizon_years": 10},
        CARDIO_INPUTS,
        lambda i: framingham.cvd_10y(i.sex, i.age, i.total_cholesterol, i.hdl_cholesterol, i.systolic_bp,
                                     i.bp_treated, i.smoker, i.diabetes),
    ),
    findrisc.NAME: (
        {"name": findrisc.NAME, "disease": "type2_diabetes", "model_name": findrisc.NAME,
         "model_version": findrisc.VERSION, "horizon_years": 10},
        ("bmi", "waist_circumference", "physically_active", "daily_vegetables", "bp_treated",
         "high_glucose_history"),
        lambda i: findrisc.t2d_10y(i.sex, i.age, i.body_mass_index, i.waist_circumference, i.physically_active,
                                   i.daily_vegetables, i.bp_treated, i.high_glucose_history, i.family_diabetes),
    ),
}
for _outcome in ("cvd", "ascvd"):
    _name = f"prevent_{_outcome}_10y"
    EQUATIONS[_name] = (
        {"name": _name, "disease": _outcome, "model_name": _name, "model_version": prevent.VERSION,
         "horizon_years": 10},
        (*CARDIO_INPUTS, "on_statin", "egfr"),
        lambda i, o=_outcome: prevent.risk_10y(o, i.sex, i.age, i.total_cholesterol, i.hdl_cholesterol,
                                               i.systolic_bp, i.egfr, i.bp_treated, i.on_statin, i.diabetes,
                                               i.smoker),
    )


def run_equation(name: str, inputs: PatientInputs) -> RiskResult:
    """One equation's result; missing inputs give a not-applicable result that names them."""
    template, needs, fn = EQUATIONS[name]
    missing = inputs.missing(needs)
    if missing:
        return not_applicable(template, f"missing inputs: {', '.join(missing)}", missing=missing)
    return fn(inputs)


def risk_panel(inputs: PatientInputs, models_dir: Path | None = None, *, with_models: bool = True
               ) -> list[RiskResult]:
    """All equations, then all ONNX models from the manifest, for one patient."""
    results = [run_equation(name, inputs) for name in EQUATIONS]
    if with_models:
        from edge.twin import models

        results.extend(models.predict(m, inputs) for m in models.loaded_models(models_dir))
    return results
