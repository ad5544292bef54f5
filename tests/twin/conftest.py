"""Fixtures of the twin tests: a patient profile in a real encrypted store."""
from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from edge.twin.inputs import RISK_FACTORS_EVENT
from healthsync_cli import app

runner = CliRunner()


def years_ago(years: int) -> dt.date:
    """A birth date that makes someone `years` old today."""
    today = dt.date.today()
    return today.replace(year=today.year - years) - dt.timedelta(days=1) if (today.month, today.day) != (2, 29) \
        else dt.date(today.year - years, 2, 28)


@pytest.fixture
def patient(store, user_id):
    """A 55-year-old white man with the guideline's worked-example labs (SBP 120), stored as metrics."""
    store.users.add({"id": user_id, "date_of_birth": years_ago(55), "sex": "male"})
    for metric, value, unit in (("total_cholesterol", 213, None), ("hdl_cholesterol", 50, None),
                                ("systolic_bp", 120, None), ("diastolic_bp", 80, None), ("weight", 85, None),
                                ("height", 180, None), ("waist_circumference", 98, None),
                                ("blood_glucose", 140, None), ("creatinine", 1.2, None)):
        store.health_metrics.add({"user_id": user_id, "metric_type": metric, "value": value, "unit": unit})
    store.health_events.add({"user_id": user_id, "event_type": RISK_FACTORS_EVENT, "data": {
        "race": "white", "smoker": False, "diabetes": False, "bp_treated": False, "on_statin": False,
        "physically_active": True,
        "daily_vegetables": True, "high_glucose_history": False}})
    return user_id


def run(*args):
    """Invoke the healthsync CLI in-process."""
    return runner.invoke(app, list(args))


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An initialised edge home with a raw key (skips Argon2 to stay fast)."""
    monkeypatch.setenv("HEALTHSYNC_HOME", str(tmp_path))
    monkeypatch.setenv("HEALTHSYNC_KEY", "ab" * 32)
    monkeypatch.delenv("HEALTHSYNC_PASSPHRASE", raising=False)
    assert runner.invoke(app, ["edge", "init"]).exit_code == 0
    return tmp_path
