"""`healthsync edge sync …` commands over a real store and the live server."""
from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid

import pytest
from typer.testing import CliRunner

from edge.keys import KeySource
from edge.store import Store
from edge.sync_cli import app
from sync_server import testing


@pytest.fixture
def env(tmp_path, live_url):
    user, key = uuid.uuid4(), secrets.token_bytes(32)
    path = tmp_path / "edge.db"
    Store.open(path, KeySource(raw_key=key), create=True).close()
    return {"user": user, "path": path, "key": key, "url": live_url,
            "env": {"HEALTHSYNC_KEY": key.hex(), "HEALTHSYNC_TOKEN": testing.token(user)}}


def _cli(env, *args):
    result = CliRunner().invoke(app, [*args, "--store", str(env["path"])], env=env["env"])
    return result


def test_enroll_run_status_and_quarantine(env):
    r = _cli(env, "enroll", "--server", env["url"], "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["user_id"] == str(env["user"])
    when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    with Store.open(env["path"], KeySource(raw_key=env["key"])) as store:
        store.symptoms.add({"user_id": env["user"], "description": "ok", "severity": 1, "recorded_at": when})
        bad = store.symptoms.add({"user_id": uuid.uuid4(), "description": "not mine", "severity": 1,
                                  "recorded_at": when})
    status = json.loads(_cli(env, "status", "--json").stdout)
    assert (status["pending"], status["quarantined"], status["last_synced_at"]) == (2, 0, None)
    r = _cli(env, "run", "--json")
    assert r.exit_code == 1, r.output  # a rejection is not a success: the script is told, and where to look
    assert (json.loads(r.stdout)["accepted"], json.loads(r.stdout)["rejected"]) == (1, 1)
    assert "1 change(s) rejected" in r.stderr and "sync quarantine list" in r.stderr
    status = json.loads(_cli(env, "status", "--json").stdout)
    assert (status["pending"], status["quarantined"], status["superseded"]) == (0, 1, 0) and status["last_synced_at"]
    items = json.loads(_cli(env, "quarantine", "list", "--json").stdout)
    assert [(i["row_id"], i["code"]) for i in items] == [(str(bad.id), "SYNC_REJECTED_RLS")]
    assert _cli(env, "quarantine", "retry", items[0]["change_id"]).exit_code == 0
    assert json.loads(_cli(env, "status", "--json").stdout)["pending"] == 1
    _cli(env, "run")
    assert _cli(env, "quarantine", "discard", items[0]["change_id"]).exit_code == 0
    assert json.loads(_cli(env, "status", "--json").stdout)["quarantined"] == 0


def test_errors_are_one_clean_line(env):
    r = _cli(env, "quarantine", "discard", str(uuid.uuid4()))
    assert r.exit_code == 1 and "NOT_FOUND" in r.output and "Traceback" not in r.output
    r = _cli(env, "run")
    assert r.exit_code == 1 and "not enrolled" in r.output


def test_quarantine_fix_corrects_the_change_and_it_syncs(env):
    """A kiosk filed a symptom under the wrong patient: the server refused it; the user fixes the owner."""
    assert _cli(env, "enroll", "--server", env["url"]).exit_code == 0
    when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    with Store.open(env["path"], KeySource(raw_key=env["key"])) as store:
        wrong = store.symptoms.add({"user_id": uuid.uuid4(), "description": "dizzy", "severity": 4,
                                    "recorded_at": when})
    assert json.loads(_cli(env, "run", "--json").stdout)["rejected"] == 1
    [item] = json.loads(_cli(env, "quarantine", "list", "--json").stdout)

    bad = _cli(env, "quarantine", "fix", item["change_id"], "--set", "severity=11")
    assert bad.exit_code == 1 and "severity" in bad.output  # validated like any write; nothing changed
    assert len(json.loads(_cli(env, "quarantine", "list", "--json").stdout)) == 1
    assert _cli(env, "quarantine", "fix", item["change_id"], "--set", "bogus").exit_code == 1

    fixed = _cli(env, "quarantine", "fix", item["change_id"], "--set", f"user_id={env['user']}", "--json")
    assert fixed.exit_code == 0, fixed.output
    assert json.loads(fixed.stdout)["new_change_id"] != item["change_id"]
    assert json.loads(_cli(env, "quarantine", "list", "--json").stdout) == []
    result = json.loads(_cli(env, "run", "--json").stdout)
    assert (result["accepted"], result["rejected"]) == (1, 0)
    with Store.open(env["path"], KeySource(raw_key=env["key"])) as store:
        assert store.symptoms.get(wrong.id).user_id == env["user"]  # the local row took the fix too
