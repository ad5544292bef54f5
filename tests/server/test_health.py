"""/health reports the real state of Postgres, Redis and the model manifests."""
from __future__ import annotations

import hashlib
import json

import pytest
from fastapi.testclient import TestClient

from sync_server import testing
from sync_server.app import create_app
from sync_server.migrate import discover


def health_of(settings):
    app = create_app(settings)
    try:
        with TestClient(app) as c:
            return c.get("/health")
    finally:
        app.state.db.close()


def test_healthy_database_reports_migration_version(client):
    r = client.get("/health")
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["database"]["status"] == "ok"
    assert data["database"]["migration"] == discover()[-1].version
    assert data["redis"]["status"] == "not configured"


def test_stopped_redis_is_reported_down(pg_url):
    r = health_of(testing.settings_for(pg_url, redis_url="redis://127.0.0.1:1/0"))
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["redis"]["status"] == "down" and data["status"] == "degraded"


def test_running_redis_is_reported_ok(pg_url):
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("no Redis reachable at 127.0.0.1:6379")
    data = health_of(testing.settings_for(pg_url, redis_url="redis://127.0.0.1:6379/15")).json()["data"]
    assert data["redis"]["status"] == "ok"


def test_unreachable_database_is_503(tmp_path):
    r = health_of(testing.settings_for("postgresql://postgres@127.0.0.1:1/none?connect_timeout=1",
                                       models_dir=tmp_path))
    assert r.status_code == 503
    body = r.json()
    assert body["success"] is False and body["data"]["database"]["status"] == "down"


def test_unmigrated_database_is_not_ok(pg_base_url, tmp_path):
    url = testing.create_database(pg_base_url, "hs_health")
    try:
        r = health_of(testing.settings_for(url, models_dir=tmp_path))
        assert r.status_code == 503 and r.json()["data"]["database"]["status"] == "unmigrated"
    finally:
        testing.drop_database(pg_base_url, url)


def test_models_absent_present_and_tampered(pg_url, tmp_path):
    assert health_of(testing.settings_for(pg_url, models_dir=tmp_path)).json()["data"]["models"]["status"] \
        == "not shipped"
    blob = b"onnx bytes"
    (tmp_path / "m.onnx").write_bytes(blob)
    manifest = {"models": [{"name": "m", "file": "m.onnx", "sha256": hashlib.sha256(blob).hexdigest()}]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    models = health_of(testing.settings_for(pg_url, models_dir=tmp_path)).json()["data"]["models"]
    assert models["status"] == "ok" and models["manifests"][0]["models"] == ["m"]
    (tmp_path / "m.onnx").write_bytes(b"tampered")
    models = health_of(testing.settings_for(pg_url, models_dir=tmp_path)).json()["data"]["models"]
    assert models["status"] == "degraded" and models["manifests"][0]["hash_mismatch"] == ["m.onnx"]
