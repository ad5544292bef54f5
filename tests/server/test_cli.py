"""`healthsync server …` commands, including a real uvicorn process answering /health with JSON logs."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest
from typer.testing import CliRunner

from healthsync_cli import app
from sync_server import testing
from sync_server.migrate import discover

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_help_lists_the_commands():
    result = runner.invoke(app, ["server", "--help"])
    assert result.exit_code == 0
    for command in ("run", "migrate", "token"):
        assert command in result.output


def test_token_is_a_valid_supabase_shaped_jwt():
    user = uuid.uuid4()
    env = {"SUPABASE_JWT_SECRET": testing.TEST_JWT_SECRET}
    result = runner.invoke(app, ["server", "token", "--user", str(user), "--role", "doctor", "--ttl", "120",
                                 "--json"], env=env)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    claims = jwt.decode(out["token"], testing.TEST_JWT_SECRET, algorithms=["HS256"], audience="authenticated")
    assert claims["sub"] == str(user) and claims["app_metadata"]["role"] == "doctor"
    assert claims["exp"] - claims["iat"] == 120


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--user", "nobody"], {"SUPABASE_JWT_SECRET": "x" * 40}, "must be a UUID"),
    (["--user", str(uuid.uuid4())], {"SUPABASE_JWT_SECRET": ""}, "SUPABASE_JWT_SECRET is not set"),
])
def test_token_errors_are_clean(args, env, message):
    result = runner.invoke(app, ["server", "token", *args], env=env)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_migrate_applies_then_reports_nothing_pending(pg_base_url):
    url = testing.create_database(pg_base_url, "hs_cli")
    try:
        first = runner.invoke(app, ["server", "migrate", "--json"], env={"DATABASE_URL": url})
        assert first.exit_code == 0, first.output
        assert json.loads(first.stdout)["applied"] == [m.version for m in discover()]
        again = runner.invoke(app, ["server", "migrate", "--json"], env={"DATABASE_URL": url})
        assert json.loads(again.stdout)["applied"] == []
    finally:
        testing.drop_database(pg_base_url, url)


def test_migrate_unreachable_database_is_a_clean_error():
    result = runner.invoke(app, ["server", "migrate"],
                           env={"DATABASE_URL": "postgresql://u:hunter2@127.0.0.1:1/x?connect_timeout=1"})
    assert result.exit_code == 1
    assert "DATABASE_UNAVAILABLE" in result.output and "hunter2" not in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.e2e
def test_run_serves_health_and_logs_json(pg_base_url, tmp_path):
    url = testing.create_database(pg_base_url, "hs_run")
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "SUPABASE_JWT_SECRET": testing.TEST_JWT_SECRET}
    env.pop("REDIS_URL", None)
    log = tmp_path / "server.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "healthsync_cli", "server", "run", "--port", str(port)],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        answer = None
        for _ in range(150):  # wait for startup (migrations run first), at most ~30 s
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/health", headers={"X-Request-ID": "e2e-probe-1"})
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    break
                time.sleep(0.2)
        assert answer is not None, log.read_text()
        assert answer.status_code == 200 and answer.json()["data"]["database"]["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        testing.drop_database(pg_base_url, url)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [entry for entry in lines if entry.get("message") == "request" and entry.get("path") == "/health"]
    assert access and access[0]["request_id"] == "e2e-probe-1" and access[0]["status"] == 200


def test_every_server_command_is_documented():
    from sync_server.cli import app as server_app

    docs = (ROOT / "docs" / "server.md").read_text()
    names = [c.name or c.callback.__name__ for c in server_app.registered_commands]
    assert {"run", "migrate", "token"} <= set(names)
    for name in names:
        assert f"healthsync server {name}" in docs, f"`healthsync server {name}` is missing from docs/server.md"
