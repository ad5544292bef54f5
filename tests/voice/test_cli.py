"""`healthsync edge voice analyze` over a real store: JSON output, human output, clean errors."""
import json
import secrets
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge.cli import app

DATA = Path(__file__).parents[1] / "data" / "voice"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HEALTHSYNC_HOME", str(tmp_path))
    monkeypatch.setenv("HEALTHSYNC_KEY", secrets.token_hex(32))
    monkeypatch.delenv("HEALTHSYNC_PASSPHRASE", raising=False)
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    runner = CliRunner()
    out = runner.invoke(app, ["init", "--json"])
    assert out.exit_code == 0, out.output
    return runner, json.loads(out.stdout)["user_id"]


@pytest.mark.heavy
def test_analyze_json(env):
    runner, user_id = env
    out = runner.invoke(app, ["voice", "analyze", str(DATA / "u10_bleeding.wav"), "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert "bleeding" in doc["transcript"].lower()
    assert [f["id"] for f in doc["red_flags"]] == ["severe_bleeding"]
    assert doc["symptom_id"] and doc["alert_id"]
    shown = runner.invoke(app, ["export", "--format", "json"])
    assert doc["symptom_id"] in shown.stdout and user_id in shown.stdout


@pytest.mark.heavy
def test_analyze_human(env):
    runner, _ = env
    out = runner.invoke(app, ["voice", "analyze", str(DATA / "u08_back_pain_severity.wav")])
    assert out.exit_code == 0, out.output
    assert "severity 8/10" in out.stdout and "orthopedics" in out.stdout and "stored symptom" in out.stdout


def test_bad_file_is_a_clean_error(env, tmp_path):
    runner, _ = env
    (tmp_path / "x.wav").write_bytes(b"")
    out = runner.invoke(app, ["voice", "analyze", str(tmp_path / "x.wav")])
    assert out.exit_code == 1
    assert "[BAD_INPUT]" in out.output and "empty" in out.output and "Traceback" not in out.output


def test_bad_user_is_a_clean_error(env):
    runner, _ = env
    out = runner.invoke(app, ["voice", "analyze", str(DATA / "u10_bleeding.wav"), "--user", "nobody"])
    assert out.exit_code == 1 and "not a UUID" in out.output
