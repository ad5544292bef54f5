"""Kiosk app fixtures: the local API app over a clinic device's store, and staff sessions sealed in it the way a
password sign-in leaves them (the sign-in itself against a real auth server is tested in test_browser_flow.py)."""
from __future__ import annotations

import time
import uuid

import pytest
from fastapi.testclient import TestClient

from edge import auth_session
from edge.auth_client import Tokens
from edge.voice.ws import voice_store

PIN = "4826"


def seal_sign_in(store, role: str, *, email: str | None = None, pin: str | None = None) -> str:
    """A sign-in record as `save_sign_in` keeps it (no auth server: the app only reads it); returns the user id."""
    uid = str(uuid.uuid4())
    tokens = Tokens("header.e30.sig", "refresh-" + uid, int(time.time()) + 3600, 3600,
                    {"id": uid, "email": email or f"{role}-{uid[:6]}@clinic.example",
                     "app_metadata": {"role": role}})
    auth_session.save_sign_in(store, tokens, "http://127.0.0.1:9", auth_session.hash_pin(pin) if pin else None)
    return uid


@pytest.fixture
def kiosk_store(store):
    store.set_meta("clinic_id", str(uuid.uuid4()))
    return store


@pytest.fixture
def app(kiosk_store):
    from edge.api import create_app

    app = create_app(idle_s=60)
    app.dependency_overrides[voice_store] = lambda: kiosk_store
    return app


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def sign_in_as(client, store, role: str = "nurse", pin: str = PIN) -> str:
    """Put a signed-in, unlocked session cookie for a new staff member into the client; returns their id."""
    from edge.app import session as sessions

    uid = seal_sign_in(store, role, pin=pin)
    record = auth_session.load(store)["sessions"][uid]
    client.cookies.set(sessions.COOKIE, sessions.encode(store, sessions.from_record(record)))
    return uid


# ---------------------------------------------------------------- the real browser

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]
AXE = REPO / "edge" / "app" / "static" / "vendor" / "axe.min.js"


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Debian chromium's path; the browser tests skip without it (and fail in CI, which installs it)."""
    import os
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no chromium on PATH: .ci/run installs it with apt-get")
        pytest.skip("no chromium on PATH (apt-get install chromium): the kiosk browser tests need a real browser")
    return path


@pytest.fixture(scope="session")
def fake_media(tmp_path_factory):
    """(WAV, Y4M) for chromium's fake microphone and camera (demo_kiosk.fake_media)."""
    import demo_kiosk

    return demo_kiosk.fake_media(tmp_path_factory.mktemp("media"))


def axe_serious(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result if v["impact"] in ("serious", "critical")]
