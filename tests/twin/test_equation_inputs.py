"""Every equation checks its own arguments: one-meaning spellings are normalised, everything else is refused
with an InputError naming the field (never a KeyError, a complex number or a silently wrong equation)."""
from __future__ import annotations

import math

import pytest

from edge.twin.equations import egfr, findrisc, framingham, pce, prevent
from edge.twin.inputs import PatientInputs
from protocol.errors import HealthSyncError, InputError

FINDRISC = dict(sex="male", age=50, bmi=27, waist_cm=98, physically_active=True, daily_vegetables=True,
                bp_medication=False, high_glucose_history=False, family_diabetes="none")
PCE = dict(sex="female", race="white", age=55, total_cholesterol=213, hdl_cholesterol=50, systolic_bp=120,
           bp_treated=False, smoker=False, diabetes=False)


def _refused(fn, field, **kwargs):
    with pytest.raises(InputError) as e:
        fn(**kwargs)
    assert e.value.field == field
    assert isinstance(e.value, HealthSyncError) and e.value.code == "BAD_INPUT"
    return e.value


def test_findrisc_refuses_children():
    # The issue: a 10-year-old was scored "0, low". Now: not applicable, with the reason.
    r = findrisc.t2d_10y(**(FINDRISC | {"age": 10}))
    assert not r.applicable and r.probability is None and "age 10" in r.reason
    assert findrisc.t2d_10y(**(FINDRISC | {"age": 18})).applicable


@pytest.mark.parametrize("field,value", [("bmi", -3), ("bmi", 0), ("bmi", math.nan), ("waist_cm", -1),
                                         ("waist_cm", 0), ("waist_cm", math.inf), ("age", -1)])
def test_findrisc_refuses_impossible_measurements(field, value):
    _refused(findrisc.t2d_10y, field, **(FINDRISC | {field: value}))


@pytest.mark.parametrize("spelling", ["male", "Male", "M", "m", " MALE "])
def test_findrisc_sex_spellings_get_mens_waist_cutoffs(spelling):
    # Men's waist 94–102 cm scores 3 (women's > 88 cm scores 4): "Male" used to get the women's cut-offs.
    assert findrisc.points(**(FINDRISC | {"sex": spelling}))["waist"] == 3
    assert findrisc.points(**(FINDRISC | {"sex": "Female"}))["waist"] == 4


@pytest.mark.parametrize("sex", ["", "x", "unknown", None, 1, "males"])
def test_findrisc_refuses_unknown_sex(sex):
    _refused(findrisc.t2d_10y, "sex", **(FINDRISC | {"sex": sex}))


def test_findrisc_refuses_unknown_family_answer():
    _refused(findrisc.t2d_10y, "family_diabetes", **(FINDRISC | {"family_diabetes": "mother"}))


@pytest.mark.parametrize("race", ["black", "Black", "african_american", "African American", "african-american",
                                  "AA", "Black or African American"])
def test_pce_african_american_spellings(race):
    expected = pce.ascvd_10y(**(PCE | {"race": "african_american"})).probability
    r = pce.ascvd_10y(**(PCE | {"race": race}))
    assert r.probability == expected and r.details["group"] == "african_american female"


@pytest.mark.parametrize("race", ["white", "White", "other", "Other"])
def test_pce_white_equation_only_when_asked(race):
    assert pce.ascvd_10y(**(PCE | {"race": race})).details["group"] == "white female"


@pytest.mark.parametrize("race", ["asian", "hispanic", "", None, "unknown", 3])
def test_pce_refuses_races_it_has_no_answer_for(race):
    # The issue: any race other than exactly "african_american" was scored as white.
    _refused(pce.ascvd_10y, "race", **(PCE | {"race": race}))


def test_pce_sex_spellings_and_refusal():
    # The issue: "Male" raised a bare KeyError.
    assert pce.ascvd_10y(**(PCE | {"sex": "Male"})).probability == pce.ascvd_10y(**(PCE | {"sex": "male"})).probability
    _refused(pce.ascvd_10y, "sex", **(PCE | {"sex": "unknown"}))


@pytest.mark.parametrize("field,value", [("total_cholesterol", math.nan), ("hdl_cholesterol", 0),
                                         ("systolic_bp", -120), ("age", math.inf), ("smoker", "no"),
                                         ("diabetes", None)])
def test_pce_refuses_unreadable_values(field, value):
    _refused(pce.ascvd_10y, field, **(PCE | {field: value}))


@pytest.mark.parametrize("creatinine", [-1, 0, math.nan, math.inf, -math.inf])
def test_ckd_epi_refuses_non_positive_and_non_finite_creatinine(creatinine):
    # The issue: −1 gave a complex number and 0 divided by zero.
    _refused(egfr.ckd_epi_2021, "creatinine", sex="male", age=55, creatinine_mg_dl=creatinine)


def test_ckd_epi_sex_spellings():
    assert egfr.ckd_epi_2021("M", 55, 1.2) == egfr.ckd_epi_2021("male", 55, 1.2)
    assert egfr.ckd_epi_2021("F", 55, 1.2) == egfr.ckd_epi_2021("female", 55, 1.2)
    _refused(egfr.ckd_epi_2021, "sex", sex="other", age=55, creatinine_mg_dl=1.2)


def test_framingham_and_prevent_check_their_inputs():
    assert framingham.cvd_10y("Male", 55, 213, 50, 140, False, False, False).applicable
    _refused(framingham.cvd_10y, "sex", sex="?", age=55, total_cholesterol=213, hdl_cholesterol=50,
             systolic_bp=140, bp_treated=False, smoker=False, diabetes=False)
    args = dict(outcome="cvd", horizon=10, sex="female", age=50, total_cholesterol=200, hdl_cholesterol=45,
                systolic_bp=160, egfr=90, bp_treated=True, on_statin=False, diabetes=True, smoker=False)
    for field, value in (("egfr", math.nan), ("sdi_decile", 11), ("uacr", -5), ("outcome", "stroke"),
                         ("horizon", 20), ("on_statin", None)):
        _refused(prevent.risk, field, **(args | {field: value}))


def test_patient_inputs_normalise_sex_and_race():
    i = PatientInputs(age=55, sex="Male", race="Black")
    assert (i.sex, i.race) == ("male", "african_american")
    with pytest.raises(InputError) as e:
        PatientInputs(age=55, sex="male", race="martian")
    assert e.value.field == "race"


@pytest.mark.parametrize("change,field", [
    ({"ethnicity": "british"}, "ethnicity"), ({"townsend": 40}, "townsend"), ({"sbp_sd": -1}, "sbp_sd"),
    ({"sdi_decile": 0}, "sdi_decile"), ({"uacr": 0}, "uacr"), ({"diabetes": False, "diabetes_type": "type2"},
                                                                "diabetes_type"),
    ({"smoker": True, "ex_smoker": True}, "ex_smoker"), ({"sex": "female", "erectile_dysfunction": True},
                                                         "erectile_dysfunction"),
    ({"atrial_fibrillation": "yes"}, "atrial_fibrillation"), ({"hba1c": 40}, "hba1c"),
])
def test_patient_inputs_refuse_bad_qrisk3_and_prevent_answers(change, field):
    with pytest.raises(InputError) as e:
        PatientInputs(**({"age": 55, "sex": "male"} | change))
    assert e.value.field == field


def test_prevent_input_cache_never_lets_a_refused_value_through():
    # PREVENT checks a patient once for its six risks (a cache); True == 1 in Python, so an untyped cache would
    # answer a bool age with the result of age 1 instead of refusing it.
    args = dict(sex="female", total_cholesterol=200, hdl_cholesterol=45, systolic_bp=160, egfr=90,
                bp_treated=True, on_statin=False, diabetes=True, smoker=False)
    assert not prevent.risk("cvd", 10, age=1, **args).applicable
    _refused(prevent.risk, "age", outcome="cvd", horizon=10, age=True, **args)
    _refused(prevent.risk, "age", outcome="cvd", horizon=10, age=[50], **args)  # unhashable: not a TypeError
