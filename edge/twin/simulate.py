"""Future health simulation: the risk panel re-run on aged inputs under lifestyle and treatment scenarios.

Each point is "the 10-year risk you would have in N years": inputs aged by N years, everything else held at
today's values (an assumption: cholesterol and blood pressure usually rise with age, so the as-is line is optimistic).
Past the equations' age ranges a point is "not applicable", never extrapolated.
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
    return "systolic BP unknown" if i.systolic_bp is None else i.replace(systolic_bp=i.systolic_bp - SBP_DROP)


def _lose(i: PatientInputs) -> PatientInputs | str:
    bmi = i.body_mass_index
    if bmi is None:
        return "BMI unknown"
    if i.weight is not None:
        new_bmi = bmi * (i.weight - WEIGHT_LOSS_KG) / i.weight
        return i.replace(weight=i.weight - WEIGHT_LOSS_KG, bmi=new_bmi)
    if i.height is not None:
        return i.replace(bmi=bmi - WEIGHT_LOSS_KG / (i.height / 100.0) ** 2)
    return "weight or height needed to turn 5 kg into BMI"


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
             "SBP lowered by 10 mmHg and the equations re-run (Ettehad et al., Lancet 2016: −10 mmHg ≈ 20% fewer "
             "major CVD events)", _sbp),
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


def simulate(inputs: PatientInputs, scenarios: list[str] | None = None, horizons: tuple[int, ...] = HORIZONS,
             models_dir: Path | None = None) -> dict[str, Any]:
    """Project every risk over the horizons under each scenario; JSON-ready."""
    out: dict[str, Any] = {"horizons": list(horizons), "scenarios": {}}
    for name in scenarios or list(SCENARIOS):
        if name not in SCENARIOS:
            from protocol.errors import InputError

            raise InputError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})")
        sc = SCENARIOS[name]
        changed = sc.change(inputs)
        entry: dict[str, Any] = {"label": sc.label, "assumption": sc.assumption}
        if isinstance(changed, str):
            entry["skipped"] = changed
            out["scenarios"][name] = entry
            continue
        points: dict[str, list[dict[str, Any]]] = {}
        for years in horizons:
            if changed.age + years > 120:
                continue  # no equation or model reaches this age; leave the point out
            aged = changed.replace(age=changed.age + years)
            for r in risk_panel(aged, models_dir):
                r = _apply_multiplier(r, sc.cv_multiplier)
                points.setdefault(r.name, []).append(
                    {"years": years, "age": aged.age, "probability": r.probability, "applicable": r.applicable,
                     "reason": r.reason, "score": r.score, "category": r.category})
        entry["risks"] = points
        out["scenarios"][name] = entry
    return out
