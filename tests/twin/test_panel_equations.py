"""QRISK3 and the complete PREVENT inside the risk panel: inputs from the store, what is asked of whom, and notes."""
from __future__ import annotations

import datetime as dt
import math

import pytest

from edge.twin import inputs as twin_inputs
from edge.twin.inputs import RISK_FACTORS_EVENT, PatientInputs
from edge.twin.panel import EQUATIONS, risk_panel, run_equation

NO_CONDITIONS = dict.fromkeys(("atrial_fibrillation", "atypical_antipsychotics", "corticosteroids", "migraine",
                               "rheumatoid_arthritis", "ckd_3_5", "severe_mental_illness", "sle"), False)
# CRAN QRISK3 data/QRISK3_2019_test.RData row 26 (ClinRisk's C algorithm): man 64, Indian, 80 kg / 178 cm,
# cholesterol/HDL 4, SBP 180 (SD 20), non-smoker, no conditions, Townsend 0 → 27.1 %.
QRISK3_MAN = dict(age=64, sex="male", ethnicity="indian", townsend=0, weight=80, height=178,
                  total_cholesterol=200, hdl_cholesterol=50, systolic_bp=180, sbp_sd=20, smoker=False,
                  ex_smoker=False, diabetes=False, bp_treated=False, family_chd_under_60=False,
                  erectile_dysfunction=False, **NO_CONDITIONS)


def test_qrisk3_through_the_panel():
    r = run_equation("qrisk3_cvd_10y", PatientInputs(**QRISK3_MAN))
    assert r.applicable and r.percent == pytest.approx(27.1, abs=0.05 + 1e-9)
    assert "25–84" in r.details["validity"]


@pytest.mark.parametrize("change,missing", [
    ({"smoker": True, "ex_smoker": None}, "cigarettes_per_day"),  # a smoker is asked how many a day
    ({"ex_smoker": None}, "ex_smoker"),  # a non-smoker whether they used to smoke
    ({"diabetes": True}, "diabetes_type"),
    ({"erectile_dysfunction": None}, "erectile_dysfunction"),
    ({"townsend": None}, "townsend"), ({"sbp_sd": None}, "sbp_sd"), ({"migraine": None}, "migraine"),
])
def test_qrisk3_names_what_it_still_needs(change, missing):
    r = run_equation("qrisk3_cvd_10y", PatientInputs(**(QRISK3_MAN | change)))
    assert not r.applicable and r.missing == (missing,)


def test_qrisk3_does_not_ask_women_about_erectile_dysfunction():
    woman = QRISK3_MAN | {"sex": "female", "erectile_dysfunction": None}
    assert run_equation("qrisk3_cvd_10y", PatientInputs(**woman)).applicable


def test_every_row_carries_its_validity_note():
    results = risk_panel(PatientInputs(**QRISK3_MAN), with_models=False)
    assert [r.name for r in results] == list(EQUATIONS)
    assert all(r.details["validity"] for r in results)
    assert {r.name for r in results} >= {f"prevent_{o}_{h}y" for o in ("cvd", "ascvd", "heart_failure")
                                         for h in (10, 30)}


def test_sbp_variability_from_the_stored_readings(store, patient):
    # The fixture stores one SBP (120): one reading gives no SD, and QRISK3 says so.
    assert twin_inputs.from_store(store, patient).sbp_sd is None
    for value in (170, 190):
        store.health_metrics.add({"user_id": patient, "metric_type": "systolic_bp", "value": value})
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=6 * 365)
    store.health_metrics.add({"user_id": patient, "metric_type": "systolic_bp", "value": 250, "recorded_at": old})
    # Readings of the last five years only: 120, 170, 190 → sample SD √((40² + 10² + 30²) / 2) = √1300.
    assert twin_inputs.from_store(store, patient).sbp_sd == pytest.approx(math.sqrt(1300))


def test_qrisk3_and_prevent_add_ons_from_the_store(store, patient):
    store.health_metrics.add({"user_id": patient, "metric_type": "systolic_bp", "value": 130})
    store.health_metrics.add({"user_id": patient, "metric_type": "glycated_hemoglobin", "value": 5.8})
    factors = twin_inputs.latest_factors(store, patient) | NO_CONDITIONS | {
        "ethnicity": "white_or_not_stated", "townsend": -1.5, "ex_smoker": True, "erectile_dysfunction": False,
        "family_chd_under_60": True, "uacr": 25, "sdi_decile": 3}
    store.health_events.add({"user_id": patient, "event_type": RISK_FACTORS_EVENT, "data": factors})
    i = twin_inputs.from_store(store, patient)
    assert (i.hba1c, i.uacr, i.sdi_decile, i.townsend, i.ex_smoker) == (5.8, 25, 3, -1.5, True)
    by_name = {r.name: r for r in risk_panel(i, with_models=False)}
    assert by_name["qrisk3_cvd_10y"].applicable
    assert by_name["qrisk3_cvd_10y"].details["smoking"] == "ex_smoker"
    for name in ("prevent_cvd_10y", "prevent_ascvd_30y", "prevent_heart_failure_10y"):
        # HbA1c, UACR and SDI all known → PREVENT's full model.
        assert by_name[name].applicable and by_name[name].model_version == "khan2023-full"


def test_a_quitter_is_an_ex_smoker_for_qrisk3():
    # The "quit smoking" scenario only clears `smoker`: cigarettes a day on record make QRISK3 score an ex-smoker
    # (C-algorithm row 48: the same man as an ex-smoker → 29.9 %), never a lifelong non-smoker.
    smoker = PatientInputs(**(QRISK3_MAN | {"smoker": True, "ex_smoker": None, "cigarettes_per_day": 5}))
    quit_ = smoker.replace(smoker=False)
    r = run_equation("qrisk3_cvd_10y", quit_)
    assert r.details["smoking"] == "ex_smoker" and r.percent == pytest.approx(29.9, abs=0.05 + 1e-9)
    assert run_equation("qrisk3_cvd_10y", smoker).probability > r.probability
