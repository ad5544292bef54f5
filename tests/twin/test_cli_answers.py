"""`healthsync edge twin factors --answer NAME=VALUE`: QRISK3's and PREVENT's answers through the real CLI."""
from __future__ import annotations

import json

import pytest

from tests.twin.conftest import run, years_ago

NO_CONDITIONS = [f"{c}=no" for c in ("atrial_fibrillation", "atypical_antipsychotics", "corticosteroids",
                                      "migraine", "rheumatoid_arthritis", "ckd_3_5", "severe_mental_illness", "sle",
                                      "family_chd_under_60", "ex_smoker")]






def factors(*answers, **options):
    args = ["edge", "twin", "factors", "--json"]
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", value]
    for a in answers:
        args += ["--answer", a]
    return run(*args)


def test_qrisk3_from_cli_answers(home):
    # CRAN QRISK3 data/QRISK3_2019_test.RData row 1 (ClinRisk's C algorithm): woman 64, Indian, 80 kg / 178 cm,
    # cholesterol/HDL 4, SBP 180 with SD 20, non-smoker, no conditions, Townsend 0 → 17.2 %.
    r = factors("ethnicity=indian", "townsend=0", *NO_CONDITIONS, dob=years_ago(64).isoformat(), sex="female",
                race="white")
    assert r.exit_code == 0, r.output
    assert run("edge", "twin", "factors", "--no-smoker", "--no-diabetes", "--no-bp-treated").exit_code == 0
    for metric, value in (("total_cholesterol", 200), ("hdl_cholesterol", 50), ("weight", 80), ("height", 178),
                          ("systolic_bp", 160), ("systolic_bp", 200), ("systolic_bp", 180)):
        assert run("edge", "metrics", "add", metric, str(value)).exit_code == 0
    report = json.loads(run("edge", "twin", "report", "--json").stdout)
    q = next(x for x in report["results"] if x["name"] == "qrisk3_cvd_10y")
    assert q["applicable"], q["reason"]
    assert 100 * q["probability"] == pytest.approx(17.2, abs=0.05 + 1e-9)  # SD of 160, 200, 180 = 20


@pytest.mark.parametrize("answer,needle", [
    ("ethnicity=british", "ethnicity"), ("townsend=lots", "townsend"), ("migraine=sometimes", "migraine"),
    ("sdi_decile=11", "sdi_decile"), ("colour=blue", "unknown answer"), ("migraine", "NAME=VALUE"),
])
def test_bad_answers_are_refused_before_anything_is_written(home, answer, needle):
    r = factors(answer, dob="1970-01-01", sex="male")
    assert r.exit_code == 1 and needle in r.output and "Traceback" not in r.output
    # Nothing written: not even the profile given in the same command.
    assert "date_of_birth" in run("edge", "twin", "report").output


def test_race_spellings_are_normalised(home):
    r = factors(dob="1970-01-01", sex="male", race="Black")
    assert r.exit_code == 0 and json.loads(r.stdout)["risk_factors"]["race"] == "african_american"
    r = factors(race="asian")
    assert r.exit_code == 1 and "race" in r.output


def test_contradicting_answers_are_refused_before_they_are_stored(home):
    assert factors("ex_smoker=yes", dob="1970-01-01", sex="female").exit_code == 0
    r = run("edge", "twin", "factors", "--smoker")  # now a smoker and an ex-smoker at once
    assert r.exit_code == 1 and "ex-smoker" in r.output and "ex_smoker=no" in r.output
    r = factors("erectile_dysfunction=yes")  # a woman's profile
    assert r.exit_code == 1 and "men only" in r.output
    risk_factors = json.loads(factors("townsend=1").stdout)["risk_factors"]
    assert risk_factors.get("smoker") is None and "erectile_dysfunction" not in risk_factors
