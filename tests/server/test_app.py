"""Cross-cutting behaviour: envelope, request ids, error handling without leaks, body limit, CORS, JSON logs."""
from __future__ import annotations

import asyncio
import json
import logging
import uuid

import pytest
from fastapi.testclient import TestClient

from protocol.errors import InputError
from sync_server import testing
from sync_server.app import create_app
from sync_server.config import Settings
from sync_server.logs import RequestIdFilter, json_formatter
from sync_server.middleware import BodyLimitMiddleware

ENVELOPE_KEYS = {"success", "data", "message", "timestamp", "request_id"}


def test_every_answer_has_the_envelope_and_a_request_id(client):
    for r in (client.get("/health"), client.get("/nope"), client.get("/api/v1/health/metrics")):
        body = r.json()
        assert ENVELOPE_KEYS <= set(body)
        assert r.headers["x-request-id"] == body["request_id"] and len(body["request_id"]) >= 16
    assert client.get("/nope").json()["error"]["code"] == "NOT_FOUND"


def test_sane_incoming_request_id_is_kept_and_bad_one_replaced(client):
    r = client.get("/health", headers={"X-Request-ID": "lb-1234.abc"})
    assert r.headers["x-request-id"] == "lb-1234.abc" == r.json()["request_id"]
    r = client.get("/health", headers={"X-Request-ID": "evil\tinjected value" + "x" * 200})
    assert r.headers["x-request-id"] != "evil" and "\t" not in r.headers["x-request-id"]


@pytest.fixture
def crashing_app(pg_url):
    app = create_app(testing.settings_for(pg_url))

    def boom():
        raise RuntimeError("patient Jane Roe, DOB 1970-01-01, has HIV")  # PHI in an exception message

    app.add_api_route("/boom", boom)
    yield app
    app.state.db.close()


def test_unhandled_error_hides_internals_and_phi(crashing_app, caplog):
    caplog.set_level(logging.INFO)
    with TestClient(crashing_app) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    assert r.json()["error"] == {"code": "INTERNAL_ERROR", "message": "internal server error"}
    assert "Jane" not in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text
    logged = [rec for rec in caplog.records if rec.name == "sync_server"]
    errors = [rec for rec in logged if rec.getMessage() == "unhandled error"]
    assert errors and errors[0].error_type == "RuntimeError"
    assert errors[0].request_id == r.headers["x-request-id"]
    for rec in logged:
        text = json.dumps({k: str(v) for k, v in rec.__dict__.items()})
        assert "Jane" not in text and "HIV" not in text


def test_domain_error_keeps_its_code(crashing_app):
    def bad():
        raise InputError("image is not a JPEG", hint="send a JPEG")

    crashing_app.add_api_route("/bad", bad)
    with TestClient(crashing_app) as c:
        r = c.get("/bad")
    assert r.status_code == 400
    assert r.json()["error"] == {"code": "BAD_INPUT", "message": "image is not a JPEG", "hint": "send a JPEG"}


def test_json_log_line_carries_the_request_id():
    record = logging.LogRecord("sync_server", logging.INFO, __file__, 1, "request", None, None)
    RequestIdFilter().filter(record)
    line = json.loads(json_formatter().format(record))
    assert line["message"] == "request" and line["level"] == "INFO" and "request_id" in line


def test_body_over_the_limit_is_413(pg_url):
    app = create_app(testing.settings_for(pg_url, max_body_bytes=1000))
    big = {"metric_type": "heart_rate", "value": 70, "notes": "x" * 2000}
    try:
        with TestClient(app) as c:
            r = c.post("/api/v1/health/metrics", json=big, headers=testing.auth(uuid.uuid4()))
            assert r.status_code == 413 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
            assert r.headers["x-request-id"] == r.json()["request_id"]

            def chunks():  # no Content-Length: the limit must count the streamed bytes
                for _ in range(5):
                    yield b"x" * 300

            r = c.post("/api/v1/health/metrics", content=chunks(), headers=testing.auth(uuid.uuid4()))
            assert r.status_code == 413
            small = c.post("/api/v1/health/metrics", json={"metric_type": "heart_rate", "value": 70},
                           headers=testing.auth(uuid.uuid4()))
            assert small.status_code == 201
    finally:
        app.state.db.close()


def test_body_limit_counts_chunks_before_the_app_runs():
    reached = []

    async def app(scope, receive, send):
        reached.append(await receive())

    messages = [{"type": "http.request", "body": b"a" * 60, "more_body": True} for _ in range(3)]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    asyncio.run(BodyLimitMiddleware(app, max_bytes=100)(scope, receive, send))
    assert reached == [] and sent[0]["status"] == 413


def test_cors_is_configurable(pg_url):
    app = create_app(testing.settings_for(pg_url, cors_origins=("https://clinic.example",)))
    try:
        with TestClient(app) as c:
            pre = {"Origin": "https://clinic.example", "Access-Control-Request-Method": "GET"}
            ok = c.options("/api/v1/health/metrics", headers=pre)
            assert ok.headers["access-control-allow-origin"] == "https://clinic.example"
            evil = c.options("/api/v1/health/metrics", headers={**pre, "Origin": "https://evil.example"})
            assert "access-control-allow-origin" not in evil.headers
    finally:
        app.state.db.close()


def test_settings_from_env_and_secrets_not_in_repr():
    s = Settings.from_env({"DATABASE_URL": "postgresql://h/db", "SUPABASE_JWT_SECRET": "s3cret-value",
                           "CORS_ORIGINS": "https://a.example, https://b.example", "MAX_BODY_BYTES": "2048",
                           "RATE_LIMIT_REQUESTS": "5", "GROQ_API_KEY": "gsk_live"})
    assert s.cors_origins == ("https://a.example", "https://b.example") and s.max_body_bytes == 2048
    assert s.rate_limit_requests == 5 and s.jwt_secret == "s3cret-value"
    assert "s3cret" not in repr(s) and "gsk_live" not in repr(s)
    with pytest.raises(InputError, match="MAX_BODY_BYTES"):
        Settings.from_env({"MAX_BODY_BYTES": "lots"})
