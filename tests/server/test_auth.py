"""JWT verification: Supabase-shaped HS256 tokens and JWKS (served locally), with a clear 401 for each failure."""
from __future__ import annotations

import http.server
import json
import threading
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from sync_server import testing
from sync_server.app import create_app
from sync_server.auth import mint_token
from tests.json_http import JSONHandler

URL = "/api/v1/health/metrics"


def claims(**over):
    now = int(time.time())
    base = {"sub": str(uuid.uuid4()), "aud": "authenticated", "role": "authenticated", "iat": now, "exp": now + 600,
            "app_metadata": {"role": "patient"}}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def call(client, token):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get(URL, headers=headers)


@pytest.mark.parametrize(("token", "code"), [
    (None, "AUTH_MISSING"),
    ("not-a-jwt", "AUTH_INVALID"),
    (jwt.encode(claims(exp=int(time.time()) - 3600), testing.TEST_JWT_SECRET, algorithm="HS256"), "AUTH_EXPIRED"),
    (jwt.encode(claims(), "some-other-project-secret-32-bytes-long", algorithm="HS256"), "AUTH_BAD_SIGNATURE"),
    (jwt.encode(claims(aud="anon"), testing.TEST_JWT_SECRET, algorithm="HS256"), "AUTH_INVALID"),
    (jwt.encode(claims(exp=None), testing.TEST_JWT_SECRET, algorithm="HS256"), "AUTH_INVALID"),
    (jwt.encode(claims(sub="not-a-uuid"), testing.TEST_JWT_SECRET, algorithm="HS256"), "AUTH_INVALID"),
    (jwt.encode(claims(app_metadata={"role": "superuser"}), testing.TEST_JWT_SECRET, algorithm="HS256"),
     "AUTH_INVALID"),
    (jwt.encode(claims(), testing.TEST_JWT_SECRET, algorithm="HS384"), "AUTH_INVALID"),
])
def test_bad_tokens_get_401_with_a_code(client, token, code):
    r = call(client, token)
    assert r.status_code == 401, r.text
    assert r.json()["success"] is False and r.json()["error"]["code"] == code
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_unsigned_token_is_refused(client):
    token = jwt.encode(claims(), None, algorithm="none")
    assert call(client, token).json()["error"]["code"] == "AUTH_INVALID"


def test_valid_token_passes(client):
    assert call(client, mint_token(testing.TEST_JWT_SECRET, uuid.uuid4())).status_code == 200


class _JWKSHandler(JSONHandler):
    jwks: dict = {}

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_json(200, self.jwks)


@pytest.fixture(scope="module")
def jwks_server():
    """A local HTTP server publishing one RSA public key as a JWKS (the real PyJWKClient fetches it)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="test-kid", use="sig", alg="RS256")
    handler = type("H", (_JWKSHandler,), {"jwks": {"keys": [jwk]}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/auth/v1/.well-known/jwks.json", key
    server.shutdown()
    server.server_close()


def test_jwks_tokens(pg_url, jwks_server):
    url, key = jwks_server
    app = create_app(testing.settings_for(pg_url, jwks_url=url))
    try:
        with TestClient(app) as c:
            good = jwt.encode(claims(), key, algorithm="RS256", headers={"kid": "test-kid"})
            assert call(c, good).status_code == 200
            stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            forged = jwt.encode(claims(), stranger, algorithm="RS256", headers={"kid": "test-kid"})
            assert call(c, forged).json()["error"]["code"] == "AUTH_BAD_SIGNATURE"
            unknown = jwt.encode(claims(), key, algorithm="RS256", headers={"kid": "other-kid"})
            assert call(c, unknown).json()["error"]["code"] == "AUTH_BAD_SIGNATURE"
            # The project secret still works beside the JWKS (Supabase projects migrating keys use both).
            assert call(c, mint_token(testing.TEST_JWT_SECRET, uuid.uuid4())).status_code == 200
    finally:
        app.state.db.close()


def test_a_remembered_token_still_expires_and_a_refused_one_is_checked_again(monkeypatch):
    """The verifier remembers verified tokens (sync_server.auth.TokenVerifier): a hit must still honour exp."""
    from sync_server import auth as auth_module
    from sync_server.auth import TokenSignatureError, TokenVerifier

    verifier = TokenVerifier(testing.TEST_JWT_SECRET)
    checks = []
    check = verifier._check
    monkeypatch.setattr(verifier, "_check", lambda token: checks.append(token) or check(token))
    now = time.time()
    token = jwt.encode(claims(exp=int(now) + 60), testing.TEST_JWT_SECRET, algorithm="HS256")
    first = verifier.verify(token)
    assert verifier.verify(token) is first and len(checks) == 1  # remembered: no second decode
    # Past exp and its leeway the remembered answer is not used: the token is checked again (and, the clock
    # really being past exp, refused by the decoder; here only the verifier's clock is moved).
    monkeypatch.setattr(auth_module.time, "time", lambda: now + 60 + auth_module.LEEWAY_S + 1)
    verifier.verify(token)
    assert len(checks) == 2
    forged = jwt.encode(claims(), "some-other-project-secret-32-bytes-long", algorithm="HS256")
    for _ in range(2):  # a failure is not remembered
        with pytest.raises(TokenSignatureError):
            verifier.verify(forged)
    assert len(checks) == 4


def test_the_remembered_tokens_are_bounded(monkeypatch):
    from sync_server import auth as auth_module
    from sync_server.auth import TokenVerifier

    monkeypatch.setattr(auth_module, "VERIFIED_CACHE_SIZE", 3)
    verifier = TokenVerifier(testing.TEST_JWT_SECRET)
    for _ in range(5):
        verifier.verify(jwt.encode(claims(), testing.TEST_JWT_SECRET, algorithm="HS256"))
    assert len(verifier._verified) == 3
