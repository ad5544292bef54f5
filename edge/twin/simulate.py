"""Future health simulation: the risk panel re-run on aged inputs under lifestyle and treatment scenarios.

Each point is "the 10-year risk you would have in N years": inputs aged by N years, everything else held at
today's values (an assumption: cholesterol and blood pressure usually rise with age, so the as-is line is optimistic).
Past the equations' age ranges a point is "not applicable", never extrapolated.

Two guards keep the projection consistent with what medicine knows, whatever an equation's interaction terms do
(the Pooled Cohort Equations give a 40-year-old white woman who smokes a lower risk at 45, through the smoking × age
term): a trajectory never falls as the patient ages (a lower point is held at the one before it), and a scenario
that removes a risk factor never shows more risk than "as is" at the same age (it is held at the "as is" value).
Every held point keeps the equation's own number in `raw_probability` and says why in `adjusted`.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.twin.equations.result import RiskResult
from edge.twin.inputs import PatientInputs
from edge.twin.panel import risk_panel

HORIZONS = (0, 5, 10, 20)
# Cholesterol Treatment Trialists' (CTT) Collaboration, Lancet 2010;376:1670–81: major vascular events fall 22% per
# 1.0 mmol/L LDL reduction; a moderate-intensity statin lowers LDL by 30–50% (about 1.1–1.3 mmol/L from a typical
# 3.5 mmol/L), so we apply a 25% relative reduction to ASCVD/CVD risk.
STATIN_RRR = 0.25
WEIGHT_LOSS_KG = 5.0
SBP_DROP = 10.0
# SPRINT (N Engl J Med 2015;373:2103–16) treated down to 120 mmHg; below that a benefit is not shown, and PREVENT's
# own SBP term rises again below 110 (a J-curve), so the scenario lowers SBP by 10 but not below 120 mmHg.
SBP_FLOOR = 120.0
# Weight loss is not advised into underweight (WHO: BMI < 18.5 kg/m2).
BMI_FLOOR = 18.5


@dataclass(frozen=True)
class Scenario:
    """A change to today's inputs, and a multiplier on cardiovascular risks (treatment effects)."""

    name: str
    label: str
    assumption: str
    change: Callable[[PatientInputs], PatientInputs | str]
    cv_multiplier: float = 1.0


def _quit(i: PatientInputs) -> PatientInputs | str:
    return "not a current smoker" if not i.smoker else i.replace(smoker=False)


def _sbp(i: PatientInputs) -> PatientInputs | str:
    if i.systolic_bp is None:
        return "systolic BP unknown"
    if i.systolic_bp <= SBP_FLOOR:
        return f"systolic BP {i.systolic_bp:g} mmHg is already at or below {SBP_FLOOR:g} mmHg"
    return i.replace(systolic_bp=max(i.systolic_bp - SBP_DROP, SBP_FLOOR))


def _lose(i: PatientInputs) -> PatientInputs | str:
    bmi = i.body_mass_index
    if bmi is None:
        return "BMI unknown"
    if i.weight is not None:
        new_bmi = bmi * (i.weight - WEIGHT_LOSS_KG) / i.weight
        changes = {"weight": i.weight - WEIGHT_LOSS_KG, "bmi": new_bmi}
    elif i.height is not None:
        new_bmi = bmi - WEIGHT_LOSS_KG / (i.height / 100.0) ** 2
        changes = {"bmi": new_bmi}
    else:
        return "weight or height needed to turn 5 kg into BMI"
    if new_bmi < BMI_FLOOR:
        return f"losing {WEIGHT_LOSS_KG:g} kg would take BMI below {BMI_FLOOR:g} (underweight)"
    return i.replace(**changes)


def _statin(i: PatientInputs) -> PatientInputs | str:
    # Inputs stay as they are: PREVENT's statin term is an observed association, not the treatment effect, so
    # the trial-based multiplier alone carries the benefit (no double counting).
    return "already taking a statin" if i.on_statin else i


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("as_is", "As is", "today's inputs, only age advances", lambda i: i),
    Scenario("quit_smoking", "Quit smoking",
             "scored as a non-smoker from now on (the equations' definition); real risk falls over years, so this "
             "is the benefit once it has fully accrued", _quit),
    Scenario("sbp_minus_10", "Systolic BP −10 mmHg",
             f"SBP lowered by 10 mmHg, not below {SBP_FLOOR:g} (SPRINT's target), and the equations re-run "
             "(Ettehad et al., Lancet 2016: −10 mmHg ≈ 20% fewer major CVD events)", _sbp),
    Scenario("lose_5kg", "Lose 5 kg",
             "weight −5 kg → BMI recomputed; waist held (conservative); affects FINDRISC and the diabetes models",
             _lose),
    Scenario("start_statin", "Start a statin",
             f"ASCVD/CVD risk × {1 - STATIN_RRR:.2f} (CTT Collaboration, Lancet 2010: 22% per 1 mmol/L LDL; "
             "moderate-intensity statin ≈ 1.1–1.3 mmol/L)", _statin, cv_multiplier=1 - STATIN_RRR),
)}


def _apply_multiplier(r: RiskResult, factor: float) -> RiskResult:
    if factor == 1.0 or r.probability is None or r.disease not in ("ascvd", "cvd"):
        return r
    return dataclasses.replace(r, probability=r.probability * factor,
                               details={**r.details, "treatment_multiplier": factor})


def _hold(point: dict[str, Any], value: float, why: str) -> None:
    point.setdefault("raw_probability", point["probability"])
    point["probability"] = value
    point["adjusted"] = why


def never_falls_with_age(points: list[dict[str, Any]]) -> None:
    """Hold a point that is below an earlier one of the same trajectory at the earlier value (in place)."""
    highest = None
    for p in points:
        if p["probability"] is None:
            continue
        if highest is not None and p["probability"] < highest:
            _hold(p, highest, "held at the earlier value: risk does not fall as age rises (the equation's "
                              "age-interaction terms would give less)")
        highest = p["probability"] if highest is None else max(highest, p["probability"])


def never_above(points: list[dict[str, Any]], as_is: list[dict[str, Any]], label: str) -> None:
    """Hold a scenario point that exceeds the "as is" point at the same horizon at that value (in place)."""
    baseline = {p["years"]: p["probability"] for p in as_is}
    for p in points:
        ref = baseline.get(p["years"])
        if p["probability"] is not None and ref is not None and p["probability"] > ref:
            _hold(p, ref, f"held at the 'as is' value: {label.lower()} does not raise this risk (the equation's "
                          "interaction terms would give more)")


def _project(inputs: PatientInputs, sc: Scenario, horizons: tuple[int, ...], models_dir: Path | None
             ) -> dict[str, list[dict[str, Any]]]:
    points: dict[str, list[dict[str, Any]]] = {}
    for years in horizons:
        if inputs.age + years > 120:
            continue  # no equation or model reaches this age; leave the point out
        aged = inputs.replace(age=inputs.age + years)
        for r in risk_panel(aged, models_dir):
            r = _apply_multiplier(r, sc.cv_multiplier)
            points.setdefault(r.name, []).append(
                {"years": years, "age": aged.age, "probability": r.probability, "applicable": r.applicable,
                 "reason": r.reason, "score": r.score, "category": r.category})
    for trajectory in points.values():
        never_falls_with_age(trajectory)
    return points


def simulate(inputs: PatientInputs, scenarios: list[str] | None = None, horizons: tuple[int, ...] = HORIZONS,
             models_dir: Path | None = None) -> dict[str, Any]:
    """Project every risk over the horizons under each scenario; JSON-ready."""
    names = scenarios or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        from protocol.errors import InputError

        raise InputError(f"unknown scenario {unknown[0]!r} (known: {', '.join(SCENARIOS)})")
    horizons = tuple(sorted(set(horizons)))
    out: dict[str, Any] = {"horizons": list(horizons), "scenarios": {}}
    # "As is" is always projected: it is what every other scenario is compared with.
    as_is = _project(inputs, SCENARIOS["as_is"], horizons, models_dir)
    for name in names:
        sc = SCENARIOS[name]
        entry: dict[str, Any] = {"label": sc.label, "assumption": sc.assumption}
        changed = sc.change(inputs)
        if isinstance(changed, str):
            entry["skipped"] = changed
        elif name == "as_is":
            entry["risks"] = as_is
        else:
            points = _project(changed, sc, horizons, models_dir)
            for risk, trajectory in points.items():
                never_above(trajectory, as_is.get(risk, []), sc.label)
            entry["risks"] = points
        out["scenarios"][name] = entry
    return out
