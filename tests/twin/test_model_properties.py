"""Properties over a grid of plausible patients: models monotone, scenarios never raise a risk, age never lowers one.

Independent expectations, not the code's own output: risk of diabetes does not fall as glucose, BMI, age or blood
pressure rise (ADA Standards of Care 2024, section 2: these are the screening criteria and risk factors); quitting
smoking, lowering blood pressure, losing weight or starting a statin does not raise a risk.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from edge.twin import models
from edge.twin.inputs import PatientInputs
from edge.twin.simulate import SCENARIOS, never_above, never_falls_with_age, simulate

# Women inside the Pima training ranges: glucose 60–195 mg/dL, diastolic BP 40–105 mmHg, BMI 19–47, age 21–62.
GRID = np.array(list(itertools.product(np.linspace(60, 195, 10), np.linspace(40, 105, 6), np.linspace(19, 47, 8),
                                       np.linspace(21, 62, 8))), dtype=np.float32)
STEPS = {0: 5.0, 1: 4.0, 2: 1.0, 3: 2.0}  # a small rise of each input (glucose, BP, BMI, age)


@pytest.mark.parametrize("name", ["pima_diabetes_logreg", "pima_diabetes_gbm"])
@pytest.mark.parametrize("column", list(STEPS))
def test_model_risk_never_falls_as_an_input_rises(name, column):
    model = models.load_model(name)
    higher = GRID.copy()
    higher[:, column] += STEPS[column]
    drop = model.predict(GRID) - model.predict(higher)
    # float32 arithmetic: allow one part in a million, nothing more.
    worst = GRID[drop.argmax()]
    assert drop.max() <= 1e-6, f"{name}: risk fell by {drop.max():.4f} when input {column} rose at {worst}"


def test_manifest_declares_monotone_inputs_and_population():
    for entry in models.read_manifest()["models"]:
        assert all(i["monotonic"] == 1 and len(i["range"]) == 2 for i in entry["inputs"])
        assert entry["population"]["sex"] == "female" and entry["population"]["age_min"] == 21
        assert "Pima" in entry["population"]["heritage"]


def _patients():
    for sex, race, age, smoker, sbp, bmi, glucose, treated in itertools.product(
            ("female", "male"), ("white", "african_american"), (25, 40, 52, 66), (True, False), (118, 135, 165),
            (23, 31, 38), (90, 150), (False, True)):
        yield PatientInputs(age=age, sex=sex, race=race, total_cholesterol=215, hdl_cholesterol=45, systolic_bp=sbp,
                            diastolic_bp=78, blood_glucose=glucose, weight=bmi * 1.68 ** 2, height=168,
                            waist_circumference=94, creatinine=0.9, smoker=smoker, diabetes=False,
                            bp_treated=treated, on_statin=False, physically_active=False, daily_vegetables=True,
                            high_glucose_history=False)


@pytest.fixture(scope="module")
def simulations():
    return [simulate(p) for p in _patients()]


def test_no_scenario_raises_any_risk(simulations):
    for sim in simulations:
        as_is = sim["scenarios"]["as_is"]["risks"]
        for name, sc in sim["scenarios"].items():
            for risk, points in sc.get("risks", {}).items():
                for p, a in zip(points, as_is[risk], strict=True):
                    if p["probability"] is not None and a["probability"] is not None:
                        assert p["probability"] <= a["probability"], (name, risk, p)


def test_as_is_never_falls_with_age(simulations):
    for sim in simulations:
        for risk, points in sim["scenarios"]["as_is"]["risks"].items():
            probs = [p["probability"] for p in points if p["probability"] is not None]
            assert probs == sorted(probs), risk


def test_learned_models_need_no_guard(simulations):
    # The monotone models are right on their own: the simulation's guards never had to hold a diabetes point.
    held = [p for sim in simulations for sc in sim["scenarios"].values()
            for risk, pts in sc.get("risks", {}).items() if risk.startswith("pima_") for p in pts if "adjusted" in p]
    assert held == []
    applicable = [p for sim in simulations for p in sim["scenarios"]["as_is"]["risks"]["pima_diabetes_gbm"]
                  if p["probability"] is not None]
    assert len(applicable) > 100  # the grid really exercised the models


def test_issue_patient_gbm_rises_with_age_and_falls_with_weight_loss():
    # A woman like the issue's (the GBM said 32.8% today, 21.2% at +5 years; "lose 5 kg" raised it to 35.2%).
    woman = PatientInputs(age=45, sex="female", blood_glucose=140, diastolic_bp=80, weight=85, height=165)
    sim = simulate(woman, ["as_is", "lose_5kg"], horizons=(0, 5, 10))
    as_is = [p["probability"] for p in sim["scenarios"]["as_is"]["risks"]["pima_diabetes_gbm"]]
    lose = [p["probability"] for p in sim["scenarios"]["lose_5kg"]["risks"]["pima_diabetes_gbm"]]
    assert as_is == sorted(as_is) and lose[0] <= as_is[0]


def test_guard_holds_pce_smoking_age_artifact():
    # PCE (white women): the smoking × ln(age) term makes a 40-year-old smoker's 10-year risk *lower* at 45.
    smoker = PatientInputs(age=40, sex="female", race="white", total_cholesterol=260, hdl_cholesterol=40,
                           systolic_bp=160, smoker=True, diabetes=False, bp_treated=False)
    points = simulate(smoker, ["as_is"], horizons=(0, 5))["scenarios"]["as_is"]["risks"]["pce_ascvd_10y"]
    assert points[1]["raw_probability"] < points[0]["probability"]  # the equation alone falls …
    assert points[1]["probability"] == points[0]["probability"]  # … the projection holds it
    assert "does not fall" in points[1]["adjusted"]


def test_guard_functions():
    pts = [{"years": 0, "probability": 0.2}, {"years": 5, "probability": 0.1}, {"years": 10, "probability": None},
           {"years": 20, "probability": 0.3}]
    never_falls_with_age(pts)
    assert [p["probability"] for p in pts] == [0.2, 0.2, None, 0.3] and pts[1]["raw_probability"] == 0.1
    scenario = [{"years": 0, "probability": 0.25}, {"years": 20, "probability": 0.1}]
    never_above(scenario, pts, SCENARIOS["quit_smoking"].label)
    assert [p["probability"] for p in scenario] == [0.2, 0.1] and "quit smoking" in scenario[0]["adjusted"]


def test_sbp_scenario_never_goes_below_the_sprint_target():
    i = PatientInputs(age=60, sex="male", systolic_bp=125)
    assert SCENARIOS["sbp_minus_10"].change(i).systolic_bp == 120
