"""`edge metrics add/list` as people type: 120/80, °F and lb converted, SpO2/HbA1c names, a negative value after
`--`, notes listed; and `--json` errors on stdout with a non-zero exit; messages keep their square brackets."""
from __future__ import annotations

import json

import pytest
import typer

from protocol import metric_input
from protocol.cli_output import handle_errors
from protocol.errors import ValidationError
from tests.edge.test_cli import env, run  # noqa: F401  (the same store fixture and runner as the CLI tests)


@pytest.fixture
def ada(env):  # noqa: F811  (the imported fixture)
    assert run("edge", "init", "--name", "Ada").exit_code == 0


def listed(*extra) -> dict:
    return {m["metric_type"]: m for m in json.loads(run("edge", "metrics", "list", "--json", *extra).stdout)}


def test_blood_pressure_as_120_over_80_records_both(ada):
    out = run("edge", "metrics", "add", "BP", "120/80", "--json")
    assert out.exit_code == 0, out.output
    assert [(r["metric_type"], r["value"]) for r in json.loads(out.stdout)] == [("systolic_bp", 120),
                                                                                ("diastolic_bp", 80)]


def test_fahrenheit_pounds_and_common_names(ada):
    assert run("edge", "metrics", "add", "temperature", "98.6", "--unit", "°F").exit_code == 0
    assert run("edge", "metrics", "add", "weight", "150", "--unit", "lbs").exit_code == 0
    assert run("edge", "metrics", "add", "SpO2", "97").exit_code == 0
    assert run("edge", "metrics", "add", "HbA1c", "6.1").exit_code == 0
    assert run("edge", "metrics", "add", "glucose", "5.5", "--unit", "MMOL/L").exit_code == 0
    got = listed()
    assert got["body_temperature"]["value"] == pytest.approx(37.0) and got["body_temperature"]["unit"] == "C"
    assert got["weight"]["value"] == pytest.approx(68.04, abs=0.01)
    assert got["oxygen_saturation"]["value"] == 97 and got["glycated_hemoglobin"]["value"] == 6.1
    assert got["blood_glucose"]["value"] == pytest.approx(99.09, abs=0.01)


def test_a_negative_value_after_double_dash(ada):
    out = run("edge", "metrics", "add", "stress_score", "--notes", "after the call", "--", "-1.5")
    assert out.exit_code == 0, out.output
    assert listed()["stress_score"]["value"] == -1.5


def test_list_shows_notes(ada):
    run("edge", "metrics", "add", "heart_rate", "64", "--notes", "after [stairs]")
    out = run("edge", "metrics", "list")
    assert "after [stairs]" in out.stdout  # the brackets survive rich's markup too


def test_json_errors_go_to_stdout_with_a_non_zero_exit(ada):
    out = run("edge", "metrics", "add", "heart_rate", "400", "--json")
    assert out.exit_code == 1
    doc = json.loads(out.stdout)
    assert doc["success"] is False and doc["error"]["code"] == "VALIDATION_FAILED"
    assert "physiological range" in doc["error"]["message"]
    unknown = run("edge", "metrics", "add", "pulse rate x", "4", "--json")
    assert unknown.exit_code == 1 and json.loads(unknown.stdout)["error"]["field"] == "metric_type"


def test_an_error_message_keeps_its_square_brackets(capsys):
    @handle_errors
    def command():
        raise ValidationError("metric_type: String should match pattern '^[a-zA-Z_]+$'", field="metric_type")

    with pytest.raises(typer.Exit):
        command()
    assert "'^[a-zA-Z_]+$'" in capsys.readouterr().err.replace("\n", "")


@pytest.mark.parametrize("typed,expected", [("SpO2", "oxygen_saturation"), ("hba1c", "glycated_hemoglobin"),
                                            ("Heart Rate", "heart_rate"), ("bp", "blood_pressure")])
def test_typed_names(typed, expected):
    assert metric_input.metric_type(typed) == expected


def test_a_single_number_for_a_metric_that_is_not_a_pressure_is_refused_as_a_pair():
    with pytest.raises(ValidationError, match="only blood pressure"):
        metric_input.parse("heart_rate", "80/60")
