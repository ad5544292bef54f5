"""`healthsync edge patient …`, `edge consent …` and `--patient` on the recording commands, through Typer's runner
against a real store."""
from __future__ import annotations

import json
import uuid

import pytest
from typer.testing import CliRunner

from edge.keys import KeySource
from edge.store import Store
from healthsync_cli import app

runner = CliRunner()
KEY = "11" * 32


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A store made by `edge init`, then set up as a clinic device (as `edge init --clinic` will)."""
    monkeypatch.setenv("HEALTHSYNC_HOME", str(tmp_path))
    monkeypatch.setenv("HEALTHSYNC_KEY", KEY)
    monkeypatch.delenv("HEALTHSYNC_PASSPHRASE", raising=False)
    staff = json.loads(run("edge", "init", "--name", "Nurse Joy", "--json").stdout)["user_id"]
    clinic = str(uuid.uuid4())
    with Store.open(tmp_path / "edge.db", KeySource(raw_key=bytes.fromhex(KEY))) as s:
        s.set_meta("clinic_id", clinic)
    return {"staff": staff, "clinic": clinic}


def run(*args):
    return runner.invoke(app, list(args))


def ok(*args):
    out = run(*args, "--json")
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_register_find_check_in_list(env):
    p = ok("edge", "patient", "register", "--name", "Zoë Ångström", "--dob", "1984-11-30", "--sex", "female",
           "--mrn", "K-42")
    assert p["claim_code"] and p["registrations"] == [{"clinic_id": env["clinic"], "mrn": "K-42",
                                                       "status": "active"}]
    assert [r["id"] for r in ok("edge", "patient", "find", "zoe angstrom")] == [p["id"]]
    assert [r["id"] for r in ok("edge", "patient", "find", "1984-11-30")] == [p["id"]]
    assert [r["id"] for r in ok("edge", "patient", "find", "k42")] == [p["id"]]
    assert ok("edge", "patient", "find", "nobody") == []
    c = ok("edge", "patient", "check-in", p["id"])
    assert c["recorded_by"] == env["staff"] and c["clinic_id"] == env["clinic"]
    listed = ok("edge", "patient", "list")
    assert [r["id"] for r in listed["checked_in_today"]] == [p["id"]]
    assert run("edge", "patient", "list").exit_code == 0  # the human table too


def test_metrics_for_a_patient_and_the_user_alias(env):
    p = ok("edge", "patient", "register", "--name", "Bo Chen", "--dob", "1950-01-01", "--sex", "male")
    m = ok("edge", "metrics", "add", "heart_rate", "72", "--patient", p["id"])
    assert m["user_id"] == p["id"]
    assert ok("edge", "metrics", "add", "heart_rate", "60", "--user", p["id"])["user_id"] == p["id"]
    assert [x["value"] for x in ok("edge", "metrics", "list", "--patient", p["id"])] == [60, 72]


def test_a_clinic_device_needs_the_patient_named(env):
    """No default patient on a shared device: the staff member's own record would silently get the reading."""
    out = run("edge", "metrics", "add", "heart_rate", "61")
    assert out.exit_code == 1 and "--patient" in out.output and "Traceback" not in out.output
    assert run("edge", "consent", "grant", "audio").exit_code == 1


def test_a_phone_defaults_to_its_own_user(tmp_path, monkeypatch):
    monkeypatch.setenv("HEALTHSYNC_HOME", str(tmp_path))
    monkeypatch.setenv("HEALTHSYNC_KEY", KEY)
    me = json.loads(run("edge", "init", "--json").stdout)["user_id"]
    assert ok("edge", "metrics", "add", "heart_rate", "61")["user_id"] == me
    assert ok("edge", "consent", "grant", "llm")["granted"] is True
    assert [r["kind"] for r in ok("edge", "consent", "list")] == ["llm"]


def test_consent_grant_withdraw_list(env):
    p = ok("edge", "patient", "register", "--name", "Di Ng", "--dob", "1990-03-03", "--sex", "female")
    g = ok("edge", "consent", "grant", "audio", "--patient", p["id"])
    assert (g["kind"], g["granted"], g["by"], g["text_version"]) == ("audio", True, env["staff"], "audio-1")
    ok("edge", "consent", "withdraw", "audio", "--patient", p["id"])
    rows = ok("edge", "consent", "list", "--patient", p["id"])
    assert [(r["kind"], r["granted"]) for r in rows] == [("audio", False), ("audio", True), ("share", True)]
    assert set(rows[0]) >= {"kind", "granted", "at", "by", "text_version"}
    assert [r["kind"] for r in ok("edge", "consent", "list", "--patient", p["id"], "--kind", "share")] == ["share"]
    w = ok("edge", "consent", "withdraw", "share", "--patient", p["id"])
    assert w["clinic_id"] == env["clinic"]
    assert ok("edge", "patient", "find", "di ng")[0]["registrations"][0]["status"] == "withdrawn"


def test_purge_dry_run(env):
    p = ok("edge", "patient", "register", "--name", "Ed Wu", "--dob", "1970-01-01", "--sex", "male")
    out = ok("edge", "patient", "purge", "--window-days", "0", "--dry-run")
    assert out["dry_run"] and out["purged"] == []
    assert [w["patient_id"] for w in out["waiting"]] == [p["id"]]  # nothing synced yet


@pytest.mark.parametrize("args, expect", [
    (("edge", "patient", "register", "--name", "X", "--dob", "1990-01-01", "--sex", "other"), "female or male"),
    (("edge", "patient", "register", "--name", "X", "--dob", "2990-01-01", "--sex", "male"), "future"),
    (("edge", "patient", "check-in", "not-a-uuid"), "not a UUID"),
    (("edge", "patient", "check-in", str(uuid.uuid4())), "NOT_FOUND"),
    (("edge", "patient", "find", " "), "empty"),
    (("edge", "consent", "grant", "telepathy", "--patient", str(uuid.uuid4())), "unknown consent kind"),
    (("edge", "consent", "list", "--kind", "nope"), "unknown consent kind"),
    (("edge", "metrics", "add", "heart_rate", "70", "--patient", "bob"), "not a UUID"),
])
def test_bad_input_is_a_clean_error(env, args, expect):
    out = run(*args)
    assert out.exit_code == 1, out.output
    assert expect in out.output and "Traceback" not in out.output
