"""The `healthsync edge` commands, driven through Typer's runner against a real store."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from healthsync_cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HEALTHSYNC_HOME", str(tmp_path))
    monkeypatch.setenv("HEALTHSYNC_KEY", "11" * 32)
    monkeypatch.delenv("HEALTHSYNC_PASSPHRASE", raising=False)
    return tmp_path


def run(*args):
    return runner.invoke(app, list(args))


def test_init_add_list_export(env):
    out = run("edge", "init", "--name", "Ada Lovelace", "--json")
    assert out.exit_code == 0, out.output
    info = json.loads(out.stdout)
    assert (env / "edge.db").exists()
    assert run("edge", "metrics", "add", "blood_glucose", "5.5", "--unit", "mmol/L").exit_code == 0
    assert run("edge", "metrics", "add", "heart_rate", "64").exit_code == 0
    listed = json.loads(run("edge", "metrics", "list", "--json").stdout)
    assert {m["metric_type"] for m in listed} == {"blood_glucose", "heart_rate"}
    assert all(m["user_id"] == info["user_id"] for m in listed)
    glucose = json.loads(run("edge", "metrics", "list", "--type", "blood_glucose", "--json").stdout)
    assert glucose[0]["unit"] == "mg/dL" and glucose[0]["value"] == pytest.approx(99.1, abs=0.1)

    exported = json.loads(run("edge", "export", "--format", "json").stdout)
    assert len(exported["health_metrics"]) == 2 and exported["users"][0]["full_name"] == "Ada Lovelace"
    csv_out = run("edge", "export", "--format", "csv").stdout.splitlines()
    assert csv_out[0].startswith("id,user_id") and len(csv_out) == 3


def test_bad_value_is_refused_cleanly(env):
    run("edge", "init")
    out = run("edge", "metrics", "add", "heart_rate", "400")
    assert out.exit_code == 1
    assert "VALIDATION_FAILED" in out.output and "value" in out.output
    assert "Traceback" not in out.output
    assert json.loads(run("edge", "metrics", "list", "--json").stdout) == []


def test_wrong_key_is_a_clean_error(env, monkeypatch):
    run("edge", "init")
    monkeypatch.setenv("HEALTHSYNC_KEY", "22" * 32)
    out = run("edge", "metrics", "list")
    assert out.exit_code == 1 and "STORE_LOCKED" in out.output


def test_command_without_a_store_says_how_to_make_one(env):
    out = run("edge", "metrics", "list")
    assert out.exit_code == 1 and "healthsync edge init" in out.output


def test_unknown_export_format(env):
    run("edge", "init")
    out = run("edge", "export", "--format", "xml")
    assert out.exit_code == 1 and "json or csv" in out.output


def test_init_refuses_to_overwrite(env):
    assert run("edge", "init").exit_code == 0
    out = run("edge", "init")
    assert out.exit_code == 1 and "already exists" in out.output
