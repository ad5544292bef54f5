"""The kiosk app: the web pages a nurse (1280×800 kiosk) and a patient (phone) use, served by `healthsync edge
serve` at `/` over the same local API, so it works the same with the WAN unplugged.

Server-rendered Jinja2 templates with htmx and a few vendored single-file libraries (static/vendor/VENDORED.md);
no Node build, nothing from the internet. `mount(app)` adds the pages, the static files, the service worker and the
local `/docs`, and points the local API's patient dependency at the browser session's patient.
"""
from __future__ import annotations

import os
import uuid

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.requests import HTTPConnection

from edge.app import offline, pages_care, pages_people, pages_records
from edge.app import session as sessions
from edge.app.web import HERE, Redirect, redirect_handler
from edge.store import Store
from edge.voice.ws import voice_store, voice_user

IDLE_ENV = "HEALTHSYNC_KIOSK_IDLE_S"


def session_patient(conn: HTTPConnection, store: Store = Depends(voice_store)) -> uuid.UUID:
    """Whose record an API call writes: the patient of the browser's session (a signed-in, unlocked session with a
    patient chosen); without a session cookie, the device's primary user, as before the app existed."""
    from protocol.errors import AuthError, InputError

    cookie = conn.cookies.get(sessions.COOKIE)
    if cookie is None:
        return voice_user(store)
    found = sessions.decode(store, cookie)
    if found is None or found.locked or found.idle(float(conn.app.state.kiosk_idle_s)):
        raise AuthError("the kiosk session is signed out or locked", hint="unlock the screen and try again")
    if not found.patient_id:
        raise InputError("choose a patient first", hint="open the patient on the Patients screen")
    return uuid.UUID(found.patient_id)


def therapy_saver(conn: HTTPConnection):
    """The therapy WebSocket's saver for this connection: the session's patient, in the app's store."""
    from edge.vision.therapy import session as therapy_session
    from edge.vision.ws import _default_saver

    if sessions.COOKIE not in conn.cookies:
        return _default_saver  # an API client without the app: the device's primary user, as before
    store = conn.app.state.kiosk_store()
    patient = session_patient(conn, store)

    def save(result, pain_before, pain_after) -> str:
        return str(therapy_session.save(store, patient, result, pain_before, pain_after).id)

    return save


def mount(app: FastAPI, idle_s: float | None = None) -> None:
    """Add the kiosk app to the local API app."""
    app.state.kiosk_idle_s = float(idle_s if idle_s is not None else os.environ.get(IDLE_ENV, sessions.DEFAULT_IDLE_S))
    # The store every page uses: the voice routes' dependency, so one override (tests, demo) covers all of them.
    app.state.kiosk_store = lambda: app.dependency_overrides.get(voice_store, voice_store)()
    app.dependency_overrides.setdefault(voice_user, session_patient)
    app.add_exception_handler(Redirect, redirect_handler)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for router in (pages_people.router, pages_records.router, pages_care.router, offline.router):
        app.include_router(router)


__all__ = ["mount", "session_patient", "therapy_saver"]
