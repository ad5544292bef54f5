"""The twin end to end on a real store: predictions stored and cached, simulation, HTML report."""
from __future__ import annotations

import base64

import pytest

from edge.twin import inputs as twin_inputs
from edge.twin.report import render
from edge.twin.simulate import STATIN_RRR, simulate
from edge.twin.twin import assess


def test_predictions_stored_then_cached(store, patient):
    first = assess(store, patient)
    assert len(first.stored["written"]) == 12 and first.stored["cached"] == []
    rows = store.predictions.list(owner=patient, inputs_hash=first.inputs_hash)
    assert len(rows) == 12  # 10 equations + 2 models
    pce = next(r for r in rows if r.model_name == "pce_ascvd_10y")
    # Goff 2013 worked example, white man: 5.4% at full precision.
    assert round(100 * pce.probability, 1) == 5.4 and pce.disease == "ascvd"
    pima = next(r for r in rows if r.model_name == "pima_diabetes_gbm")
    assert pima.probability is None and pima.details["applicable"] is False  # a man: outside training population

    second = assess(store, patient)
    assert second.stored == {"written": [], "cached": first.stored["written"]}
    assert store.predictions.count(patient) == 12

    store.health_metrics.add({"user_id": patient, "metric_type": "systolic_bp", "value": 140})
    third = assess(store, patient)
    assert third.inputs_hash != first.inputs_hash and len(third.stored["written"]) == 12
    assert store.predictions.count(patient) == 24


def test_predictions_are_queued_for_sync(store, patient):
    before = store.query("SELECT count(*) FROM outbox")[0][0]
    assess(store, patient)
    assert store.query("SELECT count(*) FROM outbox")[0][0] == before + 12


def _risk(sim, scenario, name):
    return sim["scenarios"][scenario]["risks"][name]


def test_simulation_scenarios(store, patient):
    store.health_events.add({"user_id": patient, "event_type": "risk_factors", "data": {
        "race": "white", "smoker": True, "diabetes": False, "bp_treated": False, "physically_active": False,
        "daily_vegetables": True, "high_glucose_history": False}})
    store.health_metrics.add({"user_id": patient, "metric_type": "systolic_bp", "value": 140})
    i = twin_inputs.from_store(store, patient)
    sim = simulate(i)
    as_is = _risk(sim, "as_is", "pce_ascvd_10y")
    assert [p["years"] for p in as_is] == [0, 5, 10, 20]
    # Ageing raises risk while the equation applies; 55 + 20 = 75 is still within 40–79.
    probs = [p["probability"] for p in as_is]
    assert probs == sorted(probs) and all(p is not None for p in probs)
    # Framingham was derived at ages 30–74: at 75 it is not applicable, never extrapolated.
    fr = _risk(sim, "as_is", "framingham_cvd_10y")
    assert fr[-1]["probability"] is None and "30–74" in fr[-1]["reason"]
    quit_ = _risk(sim, "quit_smoking", "pce_ascvd_10y")
    assert all(q["probability"] < a["probability"] for q, a in zip(quit_, as_is, strict=True))
    statin = _risk(sim, "start_statin", "pce_ascvd_10y")
    assert statin[0]["probability"] == pytest.approx(as_is[0]["probability"] * (1 - STATIN_RRR))
    assert _risk(sim, "sbp_minus_10", "pce_ascvd_10y")[0]["probability"] < as_is[0]["probability"]
    # 85 kg at 180 cm is BMI 26.2 (1 FINDRISC point); minus 5 kg is 24.7 (0 points).
    assert _risk(sim, "lose_5kg", "findrisc")[0]["score"] == _risk(sim, "as_is", "findrisc")[0]["score"] - 1


def test_simulation_skips_what_does_not_apply(store, patient):
    sim = simulate(twin_inputs.from_store(store, patient), ["quit_smoking", "start_statin", "sbp_minus_10"])
    assert sim["scenarios"]["quit_smoking"]["skipped"] == "not a current smoker"
    # SBP 120 is SPRINT's target already: lowering it further is not simulated.
    assert "120" in sim["scenarios"]["sbp_minus_10"]["skipped"]
    assert "risks" in sim["scenarios"]["start_statin"]


def test_html_report_is_self_contained(store, patient):
    a = assess(store, patient, save=False)
    page = render(a.results, simulate(a.inputs), a.family)
    assert page.startswith("<!doctype html>") and "http://" not in page and "https://" not in page
    img = page.split("data:image/png;base64,")[1].split("'")[0]
    assert base64.b64decode(img).startswith(b"\x89PNG")
    assert "5.4%" in page


def test_prevent_from_store_uses_egfr(store, patient):
    a = assess(store, patient, save=False)
    r = next(x for x in a.results if x.name == "prevent_ascvd_10y")
    # Creatinine 1.2 mg/dL at 55 (man) is eGFR 71 by CKD-EPI 2021 (kidney.org calculator).
    assert round(r.details["egfr"]) == 71 and r.applicable
    sim = simulate(a.inputs, ["as_is", "start_statin"])
    base = _risk(sim, "as_is", "prevent_ascvd_10y")[0]["probability"]
    # The statin effect is the CTT multiplier alone, not also PREVENT's observational statin term.
    assert _risk(sim, "start_statin", "prevent_ascvd_10y")[0]["probability"] == pytest.approx(base * 0.75)
