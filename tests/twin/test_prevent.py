"""PREVENT (Khan 2024): base and add-on models, 10- and 30-year, total CVD / ASCVD / heart failure, against the
supplement's worked example as reproduced by two independent R implementations and the AHA online calculator."""
from __future__ import annotations

import pytest

from edge.twin.equations import prevent

# Khan SS et al., Circulation 2024;149:430, supplemental Table S12 worked example: age 50, TC 200, HDL 45,
# SBP 160 on treatment, diabetes, non-smoker, BMI 35, eGFR 90, no statin; add-ons UACR 40 mg/g, HbA1c 7.5 %,
# SDI decile 8.
S12 = dict(age=50, total_cholesterol=200, hdl_cholesterol=45, systolic_bp=160, egfr=90, bp_treated=True,
           on_statin=False, diabetes=True, smoker=False, bmi=35)
ADD_ONS = {"base": {}, "uacr": {"uacr": 40}, "hba1c": {"hba1c": 7.5}, "sdi": {"sdi_decile": 8},
           "full": {"uacr": 40, "hba1c": 7.5, "sdi_decile": 8}}

# (outcome, horizon, model) → (women, men). Source: bcjaeger/PooledCohort tests/testthat/
# test-predict_10yr_cvd_risk.R, test-predict_10yr_ascvd_risk.R, test-predict_10yr_hf_risk.R and
# test-predict_30yr_ascvd_risk.R ("Replicate examples from Khan supplemental table S12"), 4 decimals
# (30-year: 3 decimals).
S12_EXPECTED = {
    ("cvd", 10, "base"): (0.1468, 0.1632), ("cvd", 10, "uacr"): (0.1599, 0.1718),
    ("cvd", 10, "hba1c"): (0.1359, 0.1551), ("cvd", 10, "sdi"): (0.1565, 0.1823),
    ("cvd", 10, "full"): (0.1560, 0.1808),
    ("ascvd", 10, "base"): (0.0920, 0.1019), ("ascvd", 10, "uacr"): (0.0994, 0.1097),
    ("ascvd", 10, "hba1c"): (0.0835, 0.0937), ("ascvd", 10, "sdi"): (0.1003, 0.1137),
    ("ascvd", 10, "full"): (0.0964, 0.1100),
    ("heart_failure", 10, "base"): (0.0806, 0.1059), ("heart_failure", 10, "uacr"): (0.0893, 0.1099),
    ("heart_failure", 10, "hba1c"): (0.0806, 0.1013), ("heart_failure", 10, "sdi"): (0.0886, 0.1226),
    ("heart_failure", 10, "full"): (0.0927, 0.1206),
    ("ascvd", 30, "base"): (0.354, 0.349), ("ascvd", 30, "uacr"): (0.363, 0.355),
    ("ascvd", 30, "hba1c"): (0.322, 0.317), ("ascvd", 30, "sdi"): (0.367, 0.361),
    ("ascvd", 30, "full"): (0.344, 0.338),
}


@pytest.mark.parametrize("key", list(S12_EXPECTED), ids=lambda k: "-".join(map(str, k)))
def test_prevent_supplement_table_s12(key):
    outcome, horizon, model = key
    digits = 4 if horizon == 10 else 3
    for sex, expected in zip(("female", "male"), S12_EXPECTED[key], strict=True):
        r = prevent.risk(outcome, horizon, sex, **S12, **ADD_ONS[model])
        assert r.details["model"] == model and r.model_version == f"khan2023-{model}"
        assert round(r.probability, digits) == pytest.approx(expected, abs=1e-9)


# martingmayer/preventr R/estimate_risk.R, documented example (the same woman, base model; "based on the
# supplemental Excel file"): 30-year total CVD 0.53, ASCVD 0.354, heart failure 0.39; 10-year heart failure 0.081.
@pytest.mark.parametrize("outcome,horizon,expected,digits", [
    ("cvd", 30, 0.53, 2), ("ascvd", 30, 0.354, 3), ("heart_failure", 30, 0.39, 2), ("heart_failure", 10, 0.081, 3),
])
def test_prevent_preventr_documented_example(outcome, horizon, expected, digits):
    assert round(prevent.risk(outcome, horizon, "female", **S12).probability, digits) == expected


def test_prevent_full_model_with_sdi_missing_matches_aha_calculator():
    # bcjaeger/PooledCohort test-predict_10yr_cvd_risk.R: the AHA online PREVENT calculator
    # (professional.heart.org), UACR 40 and HbA1c 7.5 without SDI → full model with "missing SDI": 0.150 / 0.162.
    got = [prevent.risk("cvd", 10, s, **S12, uacr=40, hba1c=7.5) for s in ("female", "male")]
    assert [r.details["model"] for r in got] == ["full", "full"]
    assert [round(r.probability, 3) for r in got] == [0.150, 0.162]


# vcastro/CVrisk tests/testthat/test-ascvd_10y_prevent.R (values from the preventr documentation and the
# supplement's Excel Tables S12B/S12C): 10-year ASCVD of a 55-year-old, TC 213, HDL 50, SBP 140 untreated, eGFR 90,
# BMI 30: base model (man), HbA1c 6.5 % without diabetes (man), UACR 25 mg/g (woman); one decimal.
@pytest.mark.parametrize("sex,add_ons,percent", [
    ("male", {}, 3.9), ("male", {"hba1c": 6.5}, 4.3), ("female", {"uacr": 25}, 3.1),
])
def test_prevent_cvrisk_ascvd_vectors(sex, add_ons, percent):
    r = prevent.risk("ascvd", 10, sex, 55, 213, 50, 140, 90, False, False, False, False, bmi=30, **add_ons)
    assert r.percent == pytest.approx(percent, abs=0.05 + 1e-9)


@pytest.mark.parametrize("hba1c,uacr,sdi,model", [
    (None, None, None, "base"), (6.0, None, None, "hba1c"), (None, 30, None, "uacr"), (None, None, 5, "sdi"),
    (6.0, 30, None, "full"), (None, 30, 5, "full"), (6.0, 30, 5, "full"),
])
def test_prevent_model_selection(hba1c, uacr, sdi, model):
    # preventr estimate_risk "Model selection when model = NULL": none → base, one → that add-on, two+ → full.
    assert prevent.model_for(hba1c, uacr, sdi) == model


@pytest.mark.parametrize("change,needle", [
    ({"age": 29}, "age 29"), ({"age": 80}, "age 80"), ({"egfr": 14}, "eGFR"), ({"egfr": 141}, "eGFR"),
    ({"systolic_bp": 181}, "systolic BP 181"), ({"total_cholesterol": 321}, "total cholesterol"),
    ({"hdl_cholesterol": 19}, "HDL"), ({"hba1c": 4.4}, "HbA1c"), ({"uacr": 26000}, "UACR"),
])
def test_prevent_validity(change, needle):
    r = prevent.risk("cvd", 10, "male", **(S12 | change))
    assert not r.applicable and needle in r.reason and "validity range" in r.reason


def test_prevent_30_year_only_to_59():
    assert prevent.risk("cvd", 30, "female", **(S12 | {"age": 59})).applicable
    r = prevent.risk("cvd", 30, "female", **(S12 | {"age": 60}))
    assert not r.applicable and "30–59" in r.reason
    assert prevent.risk("cvd", 10, "female", **(S12 | {"age": 60})).applicable


def test_prevent_heart_failure_needs_bmi_in_range():
    no_bmi = S12 | {"bmi": None}
    r = prevent.risk("heart_failure", 10, "female", **no_bmi)
    assert not r.applicable and r.missing == ("bmi",)
    assert prevent.risk("cvd", 10, "female", **no_bmi).applicable  # BMI is not a CVD/ASCVD predictor
    r = prevent.risk("heart_failure", 10, "female", **(S12 | {"bmi": 41}))
    assert not r.applicable and "BMI" in r.reason


# martingmayer/preventr tests/testthat/_snaps/estimate_risk.md (snapshots of preventr 0.12.0, probabilities rounded
# to 0.1 %): the Table S12 patient with one input changed ("BP treatment validation works", "Diabetes mellitus
# validation works", valid values) and "Additional checks of results, for good measure" (statin, older ages, add-on
# models, an untreated SBP 145, age 35). ZIP 49507 is SDI decile 10 in preventr's SDI table. Values: 10-year
# total CVD, ASCVD, heart failure, each (women, men), in %.
PREVENTR_SNAPSHOTS = [
    ({"bp_treated": False}, {}, (12.2, 13.6, 7.9, 8.9, 6.7, 8.7)),
    ({"diabetes": False}, {}, (5.9, 7.5, 3.7, 4.8, 2.5, 3.9)),
    ({"age": 67}, {"hba1c": 9}, (26.6, 30.9, 16.3, 19.4, 20.1, 24.6)),
    ({"age": 67, "on_statin": True}, {"uacr": 1000}, (35.3, 39.8, 22.2, 26.0, 28.9, 34.9)),
    ({"age": 71, "on_statin": True}, {"hba1c": 9, "uacr": 1000}, (41.4, 47.8, 26.1, 30.4, 38.4, 44.7)),
    ({"age": 71, "on_statin": True}, {"hba1c": 9, "uacr": 1000, "sdi_decile": 10},
     (42.5, 51.1, 27.4, 33.2, 39.5, 48.9)),
    ({"age": 71, "systolic_bp": 145, "bp_treated": False}, {"hba1c": 6.7, "uacr": 10},
     (16.3, 20.3, 10.0, 13.4, 11.1, 14.1)),
    ({"age": 35, "systolic_bp": 145}, {"uacr": 10}, (6.0, 6.1, 3.9, 4.0, 2.8, 3.1)),
]


@pytest.mark.parametrize("change,add_ons,percents", PREVENTR_SNAPSHOTS)
def test_prevent_preventr_snapshots(change, add_ons, percents):
    got = [prevent.risk(o, 10, s, **(S12 | change), **add_ons).percent
           for o in ("cvd", "ascvd", "heart_failure") for s in ("female", "male")]
    assert got == pytest.approx(percents, abs=0.05 + 1e-9)


def test_prevent_preventr_snapshot_30_years_at_35():
    # Same source, age 35, SBP 145 treated, UACR 10: 30-year total CVD, ASCVD, heart failure (women, men).
    got = [prevent.risk(o, 30, s, **(S12 | {"age": 35, "systolic_bp": 145}), uacr=10).percent
           for o in ("cvd", "ascvd", "heart_failure") for s in ("female", "male")]
    assert got == pytest.approx((32.5, 30.5, 19.9, 19.7, 20.2, 20.7), abs=0.05 + 1e-9)
