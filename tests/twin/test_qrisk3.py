"""QRISK3-2017 against the outputs of ClinRisk's original C algorithm and an independent implementation."""
from __future__ import annotations

import pytest

from edge.twin.equations import qrisk3
from protocol.errors import InputError

# The 12 yes/no inputs in the order of ClinRisk's source: b_AF, b_atypicalantipsy, b_corticosteroids,
# b_impotence2, b_migraine, b_ra, b_renal, b_semi, b_sle, b_treatedhyp, b_type1, b_type2.
FLAGS = ("atrial_fibrillation", "atypical_antipsychotics", "corticosteroids", "erectile_dysfunction", "migraine",
         "rheumatoid_arthritis", "ckd_3_5", "severe_mental_illness", "sle", "treated_hypertension", "type1", "type2")

# CRAN package QRISK3 (Li Y, 0.6.0; github.com/cran/QRISK3 data/QRISK3_2019_test.RData): the score computed by
# ClinRisk's original QRISK3-2017 C code ("QRISK_C_algorithm_score", 1 decimal) for 49 profiles that change one
# input at a time. Columns: score %, sex, age, the 12 flags above, weight kg, height cm, ethnicity code 1–9,
# family history, cholesterol/HDL ratio, SBP, SBP SD, smoking code (the R package's 1–5 = C's 0–4), Townsend.
C_ALGORITHM = [
    (17.2, "F", 64, "000000000000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (17.9, "F", 64, "000000000000", 80, 178, 2, 0, 4, 180, 20, 1, 1),
    (36.0, "F", 64, "100000000000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (21.6, "F", 64, "010000000000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (24.1, "F", 64, "001000000000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (17.2, "F", 64, "000100000000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (19.1, "F", 64, "000010000000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (20.9, "F", 64, "000001000000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (22.3, "F", 64, "000000100000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (19.3, "F", 64, "000000010000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (23.5, "F", 64, "000000001000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (20.1, "F", 64, "000000000100", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (45.6, "F", 64, "000000000010", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (30.9, "F", 64, "000000000001", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (17.2, "F", 64, "000000000000", 75, 178, 2, 0, 4, 180, 20, 1, 0),
    (17.3, "F", 64, "000000000000", 80, 170, 2, 0, 4, 180, 20, 1, 0),
    (17.5, "F", 64, "000000000000", 80, 178, 4, 0, 4, 180, 20, 1, 0),
    (14.2, "F", 64, "000000000000", 80, 178, 5, 0, 4, 180, 20, 1, 0),
    (21.9, "F", 64, "000000000000", 80, 178, 2, 1, 4, 180, 20, 1, 0),
    (19.8, "F", 64, "000000000000", 80, 178, 2, 0, 5, 180, 20, 1, 0),
    (37.8, "F", 64, "000000000000", 80, 178, 2, 0, 10, 180, 20, 1, 0),
    (16.5, "F", 64, "000000000000", 80, 178, 2, 0, 4, 175, 20, 1, 0),
    (16.6, "F", 64, "000000000000", 80, 178, 2, 0, 4, 180, 15, 1, 0),
    (19.1, "F", 64, "000000000000", 80, 178, 2, 0, 4, 180, 20, 2, 0),
    (24.5, "F", 64, "000000000000", 80, 178, 2, 0, 4, 180, 20, 3, 0),
    (27.1, "M", 64, "000000000000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (42.0, "M", 64, "100000000000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (30.2, "M", 64, "010000000000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (35.2, "M", 64, "001000000000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (30.4, "M", 64, "000100000000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (29.7, "M", 64, "000010000000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (32.3, "M", 64, "000001000000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (38.2, "M", 64, "000000100000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (30.0, "M", 64, "000000010000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (38.8, "M", 64, "000000001000", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (30.1, "M", 64, "000000000100", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (55.2, "M", 64, "000000000010", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (41.5, "M", 64, "000000000001", 80, 178, 2, 0, 4, 180, 20, 1, 0),
    (27.2, "M", 64, "000000000000", 75, 178, 2, 0, 4, 180, 20, 1, 0),
    (27.1, "M", 64, "000000000000", 80, 170, 2, 0, 4, 180, 20, 1, 0),
    (33.4, "M", 64, "000000000000", 80, 178, 4, 0, 4, 180, 20, 1, 0),
    (22.0, "M", 64, "000000000000", 80, 178, 5, 0, 4, 180, 20, 1, 0),
    (34.1, "M", 64, "000000000000", 80, 178, 2, 1, 4, 180, 20, 1, 0),
    (31.3, "M", 64, "000000000000", 80, 178, 2, 0, 5, 180, 20, 1, 0),
    (59.1, "M", 64, "000000000000", 80, 178, 2, 0, 10, 180, 20, 1, 0),
    (26.1, "M", 64, "000000000000", 80, 178, 2, 0, 4, 175, 20, 1, 0),
    (25.9, "M", 64, "000000000000", 80, 178, 2, 0, 4, 180, 15, 1, 0),
    (29.9, "M", 64, "000000000000", 80, 178, 2, 0, 4, 180, 20, 2, 0),
    (36.0, "M", 64, "000000000000", 80, 178, 2, 0, 4, 180, 20, 3, 0),
]


def _score(*row, **override):
    sex, age, flags, weight, height, eth, fh, ratio, sbp, sbp_sd, smoke, town = row
    answers = dict(zip(FLAGS, (c == "1" for c in flags), strict=True))
    type1, type2 = answers.pop("type1"), answers.pop("type2")
    diabetes = "type1" if type1 else "type2" if type2 else "none"
    answers["family_chd"] = bool(fh)
    if sex == "female":
        answers.pop("erectile_dysfunction")
    args = dict(sex=sex, age=age, ethnicity=qrisk3.ETHNICITIES[eth - 1], townsend=town,
                bmi=weight / (height / 100) ** 2, chol_hdl_ratio=ratio, systolic_bp=sbp, sbp_sd=sbp_sd,
                smoking=qrisk3.SMOKING[smoke - 1], diabetes=diabetes, conditions=answers) | override
    return qrisk3.cvd_10y(**args)


@pytest.mark.parametrize("row", C_ALGORITHM, ids=lambda r: f"{r[1]}{r[2]}-{r[3]}-{r[6]}-{r[11]}")
def test_qrisk3_matches_the_c_algorithm(row):
    expected, sex, *inputs = row
    r = _score("female" if sex == "F" else "male", *inputs)
    assert r.applicable
    # The C outputs are printed to one decimal: ours must round to the same value.
    assert r.percent == pytest.approx(expected, abs=0.05 + 1e-9)


# sisuhealthgroup/qrisk3 (npm) src/qrisk3.test.js: white, non-smoker, no conditions, SBP 120, SBP SD 10,
# 170 cm / 70 kg, Townsend 0; (age, sex, ethnicity, cholesterol ratio) → score to 1 decimal.
@pytest.mark.parametrize("age,sex,ethnicity,ratio,expected", [
    (75, "male", "white_or_not_stated", 4, 24.6), (65, "male", "white_or_not_stated", 4, 12.7),
    (55, "male", "white_or_not_stated", 8, 11.7), (35, "male", "white_or_not_stated", 3.5, 0.6),
    (75, "female", "white_or_not_stated", 4, 18.1), (65, "female", "white_or_not_stated", 4, 8.0),
    (55, "female", "white_or_not_stated", 8, 6.1), (35, "female", "white_or_not_stated", 3.5, 0.4),
    (75, "male", "indian", 4, 31.1), (65, "male", "pakistani", 4, 19.5), (55, "male", "bangladeshi", 8, 19.1),
    (35, "male", "chinese", 3.5, 0.4), (75, "female", "indian", 4, 23.2), (65, "female", "pakistani", 4, 13.7),
    (55, "female", "bangladeshi", 8, 8.1), (35, "female", "chinese", 3.5, 0.3),
])
def test_qrisk3_sisu_vectors(age, sex, ethnicity, ratio, expected):
    conditions = {c: False for c in qrisk3.CONDITIONS if c not in ("type1", "type2")}
    if sex == "female":
        conditions.pop("erectile_dysfunction")
    r = qrisk3.cvd_10y(sex, age, ethnicity, 0, 70 / 1.7 ** 2, ratio, 120, 10, "non_smoker", "none", conditions)
    assert r.percent == pytest.approx(expected, abs=0.05 + 1e-9)


BASE = C_ALGORITHM[0][2:]  # a 64-year-old Indian woman, ratio 4, SBP 180


@pytest.mark.parametrize("override,needle", [
    ({"age": 24}, "age 24"), ({"age": 85}, "age 85"), ({"bmi": 19.9}, "BMI"), ({"bmi": 40.1}, "BMI"),
    ({"chol_hdl_ratio": 12.5}, "ratio"), ({"systolic_bp": 69}, "systolic BP"), ({"systolic_bp": 211}, "systolic"),
    ({"townsend": 11.5}, "Townsend"), ({"townsend": -7.5}, "Townsend"),
])
def test_qrisk3_validity_ranges(override, needle):
    # ClinRisk's source checks: age 25–84, BMI 20–40, ratio 1–12, SBP 70–210, Townsend −7 to 11.
    r = _score("female", *BASE, **override)
    assert not r.applicable and r.probability is None and needle in r.reason


@pytest.mark.parametrize("override,field", [
    ({"ethnicity": "british"}, "ethnicity"), ({"smoking": "yes"}, "smoking"), ({"diabetes": "type3"}, "diabetes"),
    ({"sex": "x"}, "sex"), ({"bmi": float("nan")}, "bmi"), ({"townsend": None}, "townsend"),
])
def test_qrisk3_refuses_unreadable_inputs(override, field):
    with pytest.raises(InputError) as e:
        _score("female", *BASE, **override)
    assert e.value.field == field


def test_qrisk3_every_condition_must_be_answered():
    conditions = {c: False for c in qrisk3.CONDITIONS if c not in ("type1", "type2", "erectile_dysfunction")}
    conditions.pop("migraine")
    with pytest.raises(InputError) as e:
        qrisk3.cvd_10y("female", 64, "indian", 0, 25, 4, 180, 20, "non_smoker", "none", conditions)
    assert e.value.field == "migraine"
    with pytest.raises(InputError) as e:  # erectile dysfunction is a men's question
        qrisk3.cvd_10y("female", 64, "indian", 0, 25, 4, 180, 20, "non_smoker", "none",
                       conditions | {"migraine": False, "erectile_dysfunction": False})
    assert e.value.field == "condition"


@pytest.mark.parametrize("smoker,ex,cigs,category", [
    (False, False, None, "non_smoker"), (False, True, None, "ex_smoker"), (True, False, 9, "light"),
    (True, False, 10, "moderate"), (True, False, 19, "moderate"), (True, False, 20, "heavy"),
])
def test_qrisk3_smoking_categories(smoker, ex, cigs, category):
    # QRISK3: light < 10, moderate 10–19, heavy ≥ 20 cigarettes a day.
    assert qrisk3.smoking_category(smoker, ex, cigs) == category


def test_qrisk3_smoker_without_cigarettes_is_refused():
    with pytest.raises(InputError) as e:
        qrisk3.smoking_category(True, False, None)
    assert e.value.field == "cigarettes_per_day"
