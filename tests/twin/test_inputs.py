"""Patient inputs: built from the store, missing inputs named, impossible values and unit slips refused."""
from __future__ import annotations

import pytest

from edge.twin import inputs as twin_inputs
from edge.twin.inputs import PatientInputs
from edge.twin.panel import risk_panel, run_equation
from protocol.errors import InputError

BASE = dict(age=55, sex="female", race="white", total_cholesterol=213, hdl_cholesterol=50, systolic_bp=120,
            bp_treated=False, smoker=False, diabetes=False)


def test_from_store_reads_latest_metrics_and_factors(store, patient):
    i = twin_inputs.from_store(store, patient)
    assert (i.age, i.sex, i.race, i.total_cholesterol, i.hdl_cholesterol, i.systolic_bp) == \
        (55, "male", "white", 213, 50, 120)
    assert i.body_mass_index == pytest.approx(85 / 1.8 ** 2)
    # The guideline's worked example for white men, now through the store (Goff 2013: 5.4% at full precision).
    assert round(run_equation("pce_ascvd_10y", i).percent, 1) == 5.4
    store.health_metrics.add({"user_id": patient, "metric_type": "systolic_bp", "value": 140})
    assert twin_inputs.from_store(store, patient).systolic_bp == 140


def test_store_converts_mmol_explicitly(store, patient):
    store.health_metrics.add({"user_id": patient, "metric_type": "total_cholesterol", "value": 5.5,
                              "unit": "mmol/L"})
    # 5.5 mmol/L × 38.67 mg/dL per mmol/L (cholesterol molar mass 386.65 g/mol) = 212.685 mg/dL.
    assert twin_inputs.from_store(store, patient).total_cholesterol == pytest.approx(212.685)


def test_missing_profile_is_named(store, user_id):
    store.users.add({"id": user_id, "sex": "female"})
    with pytest.raises(InputError, match="date_of_birth"):
        twin_inputs.from_store(store, user_id)


def test_missing_labs_named_per_equation():
    i = PatientInputs(age=50, sex="male", race="white", systolic_bp=130, smoker=True)
    r = run_equation("pce_ascvd_10y", i)
    assert not r.applicable
    assert r.missing == ("total_cholesterol", "hdl_cholesterol", "bp_treated", "diabetes")
    assert "total_cholesterol" in r.reason and "hdl_cholesterol" in r.reason


def test_panel_names_missing_model_inputs():
    i = PatientInputs(age=50, sex="female", bmi=30)
    by_name = {r.name: r for r in risk_panel(i)}
    assert by_name["pima_diabetes_logreg"].missing == ("blood_glucose", "diastolic_bp")


def test_from_dict_requires_age_and_sex():
    with pytest.raises(InputError, match="missing input: sex"):
        PatientInputs.from_dict({"age": 50})


@pytest.mark.parametrize("field,value", [("total_cholesterol", 5.5), ("hdl_cholesterol", 1.3),
                                         ("blood_glucose", 6.1)])
def test_mmol_given_as_mg_dl_is_detected(field, value):
    with pytest.raises(InputError, match="looks like a value in mmol/L") as err:
        PatientInputs(**(BASE | {field: value}))
    assert err.value.field == field


def test_explicit_mmol_units_are_converted():
    i = PatientInputs.from_dict(BASE | {"total_cholesterol": 5.5, "hdl_cholesterol": 1.3},
                                units={"total_cholesterol": "mmol/L", "hdl_cholesterol": "mmol/L"})
    assert i.total_cholesterol == pytest.approx(212.685)
    assert i.hdl_cholesterol == pytest.approx(50.271)


def test_unknown_unit_refused():
    with pytest.raises(InputError, match="not accepted"):
        PatientInputs.from_dict(BASE, units={"total_cholesterol": "g/L"})


@pytest.mark.parametrize("change,needle", [
    ({"age": -3}, "age"), ({"age": 150}, "age"), ({"sex": "x"}, "sex"), ({"systolic_bp": 400}, "systolic_bp"),
    ({"total_cholesterol": 900}, "total_cholesterol"), ({"hdl_cholesterol": 250}, "hdl_cholesterol"),
    ({"race": "martian"}, "race"), ({"hdl_cholesterol": 190, "total_cholesterol": 180}, "HDL"),
    ({"diastolic_bp": 130}, "diastolic"),
])
def test_impossible_values_refused(change, needle):
    with pytest.raises(InputError, match=needle):
        PatientInputs(**(BASE | change))


def test_unknown_input_refused():
    with pytest.raises(InputError, match="unknown inputs: ldl"):
        PatientInputs.from_dict(BASE | {"ldl": 100})


def test_inputs_hash_is_stable_and_sensitive():
    a, b = PatientInputs(**BASE), PatientInputs(**BASE)
    assert a.inputs_hash() == b.inputs_hash() and len(a.inputs_hash()) == 64
    assert a.replace(systolic_bp=121).inputs_hash() != a.inputs_hash()
