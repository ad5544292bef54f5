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
    assert r.exit_code == 0, r.output
    assert (json.loads(r.stdout)["accepted"], json.loads(r.stdout)["rejected"]) == (1, 1)
    status = json.loads(_cli(env, "status", "--json").stdout)
    assert (status["pending"], status["quarantined"]) == (0, 1) and status["last_synced_at"]
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
