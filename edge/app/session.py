"""The kiosk app's browser session: who is signed in, the patient being seen and when the screen was last used,
in one HMAC-signed cookie (HttpOnly, SameSite=Strict).

Signed, not stored server-side, so an edge process that restarts mid-visit still knows the browser: the signing key
is derived from the store's data key, so a cookie is only good on this device and store. The cookie carries ids and
times, never a name, date of birth or record (no PHI in browser storage). It is only a pointer: the Supabase session
it names must still be sealed in the store (edge/auth_session.py), so `sign out` there ends it at once.

Idle lock: a session unused for `idle_s` seconds is locked; the page then asks for the PIN (a staff member on the
kiosk) or the password again (a patient, or staff without a PIN) before any patient data is shown.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import asdict, dataclass, replace

from edge import auth_session
from edge.store import Store

COOKIE = "hs_session"
KEY_LABEL = "kiosk-app-session-v1"
STAFF_ROLES = ("nurse", "doctor", "admin")
DEFAULT_IDLE_S = 120


@dataclass(frozen=True)
class Session:
    """One browser's session: the signed-in user, their role, the patient selected, the last activity."""

    user_id: str
    role: str
    email: str | None = None
    patient_id: str | None = None  # the patient being seen (for a patient: themselves)
    seen: float = 0.0  # last activity, epoch seconds
    locked: bool = False

    @property
    def staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def clinician(self) -> bool:
        return self.role in ("doctor", "nurse", "admin")

    def touched(self) -> Session:
        return replace(self, seen=time.time())

    def idle(self, idle_s: float) -> bool:
        return time.time() - self.seen > idle_s


def _key(store: Store) -> bytes:
    return store.subkey(KEY_LABEL)


def encode(store: Store, session: Session) -> str:
    """The cookie value: base64url(JSON).base64url(HMAC-SHA256)."""
    body = base64.urlsafe_b64encode(json.dumps(asdict(session), separators=(",", ":")).encode()).decode()
    mac = hmac.new(_key(store), body.encode(), hashlib.sha256).digest()
    return f"{body}.{base64.urlsafe_b64encode(mac).decode()}"


def decode(store: Store, value: str | None) -> Session | None:
    """The session a cookie holds, or None when absent, forged, or its sign-in is no longer on this device."""
    if not value or "." not in value:
        return None
    body, _, mac = value.partition(".")
    try:
        expected = hmac.new(_key(store), body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, base64.urlsafe_b64decode(mac)):
            return None
        session = Session(**json.loads(base64.urlsafe_b64decode(body)))
        uuid.UUID(session.user_id)
    except (ValueError, TypeError):
        return None
    if session.user_id not in auth_session.load(store)["sessions"]:
        return None  # signed out (here or by `edge sign-out`): the cookie names nobody any more
    return session


def from_record(record: dict, patient_id: str | None = None) -> Session:
    """A fresh session for a sign-in record (auth_session's), unlocked and touched now."""
    user = record["user"]
    role = (user.get("app_metadata") or {}).get("role") or "patient"
    uid = str(user["id"])
    return Session(uid, role, user.get("email"), uid if role == "patient" else patient_id, time.time())


def cookie_options() -> dict:
    """How the cookie is set: not readable by scripts, never sent by another site, for the whole app."""
    return {"httponly": True, "samesite": "strict", "path": "/"}
