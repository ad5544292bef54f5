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
VOICE_WAV = REPO / "tests" / "data" / "voice" / "u02_chest_pain_breathless.wav"  # espeak-ng (make_fixtures.py)
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
    """(WAV, Y4M) for chromium's fake microphone and camera: the spoken red-flag sentence padded with silence
    (chromium loops the file), and a person (skimage's astronaut photo) as a 640×480 video."""
    import numpy as np
    import soundfile as sf

    out = tmp_path_factory.mktemp("media")
    speech, rate = sf.read(VOICE_WAV, dtype="int16")
    silence = np.zeros(int(rate * 0.5), dtype=np.int16)
    wav = out / "speech.wav"
    sf.write(wav, np.concatenate([silence, speech, np.zeros(int(rate * 6), dtype=np.int16)]), rate,
             subtype="PCM_16")
    y4m = out / "person.y4m"
    write_y4m(y4m, person_frame(), frames=10, fps=10)
    return wav, y4m


def person_frame():
    """A 640×480 RGB frame with a person in it (the astronaut photo, letterboxed)."""
    import cv2
    import numpy as np
    from skimage import data

    frame = np.full((480, 640, 3), 235, np.uint8)
    photo = cv2.resize(data.astronaut(), (480, 480))
    frame[:, 80:560] = photo
    return frame


def write_y4m(path, rgb, frames: int, fps: int) -> None:
    """A YUV4MPEG2 (4:2:0) file of `frames` copies of one RGB frame, as chromium's fake camera reads."""
    import cv2

    h, w = rgb.shape[:2]
    yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes()
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + yuv)


def launch(playwright, chromium: str, fake_media):
    """Chromium (headless, the Debian binary) with the fake microphone and camera."""
    wav, y4m = fake_media
    return playwright.chromium.launch(executable_path=chromium, headless=True, args=[
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}", f"--use-file-for-fake-video-capture={y4m}",
        "--autoplay-policy=no-user-gesture-required", "--no-sandbox"])


def axe_serious(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result if v["impact"] in ("serious", "critical")]
