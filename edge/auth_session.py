"""Who is signed in on this device: Supabase sessions kept sealed in the store, and PIN unlock on a kiosk.

The sessions live in one `meta` row, sealed with the store's AES-256-GCM data key (never in a plain file): a map
user id -> {access and refresh token, expiry, user, auth URL, PIN hash}, and which one is active (the one sync
uses). A kiosk holds several staff sessions at once; a password sign-in makes its user active.

PIN unlock: at a password sign-in a staff member may set a short PIN (4-8 digits, not one digit repeated nor a
straight run). Only its Argon2id hash is kept, inside the sealed row. `sign-in --pin` makes the matching staff
session active again without the password. Wrong PINs are counted per device; after MAX_PIN_ATTEMPTS in a row every
PIN on the device is erased and PIN unlock is locked until someone signs in with a password (then each staff member
sets a new PIN at their next password sign-in). A PIN only reaches a session that is already sealed on this device
and whose refresh the server still honours: it never signs anyone in on its own, and a session revoked on the
server stays revoked.
"""
from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from typing import Any

from edge.store import Store
from protocol.codes import ErrorCode
from protocol.errors import AuthError, ValidationError

META_KEY = "auth_sessions"
_CONTEXT = "auth|sessions"  # the AES-GCM associated data: this blob opens only as this row
MAX_PIN_ATTEMPTS = 5
# What to do when no one is signed in: sign in, or give a token (the file keeps it out of the process list).
SIGN_IN_HINT = ("healthsync edge sign-in --email <email>, or give a token: --token-file PATH (or `-` for stdin), "
                "--token, or HEALTHSYNC_TOKEN")


class NotSignedInError(AuthError):
    """Nobody is signed in on this device and no token was given."""

    code = ErrorCode.AUTH_MISSING


class PinLockedError(AuthError):
    """Too many wrong PINs: PIN unlock is off until a password sign-in."""

    code = ErrorCode.PIN_LOCKED


ACTIVE_USER_META = "session_user_id"


def _empty() -> dict[str, Any]:
    return {"active": None, "sessions": {}, "pin_failures": 0, "pin_locked": False}


def load(store: Store) -> dict[str, Any]:
    """The sealed sessions of this device (an empty state when nobody ever signed in)."""
    blob = store.meta(META_KEY)
    return store.unseal(blob, _CONTEXT) if blob else _empty()


def _update(store: Store, change: Callable[[dict[str, Any]], Any]) -> Any:
    """Read, change and re-seal the sessions in one write transaction (another process may be refreshing)."""
    with store.transaction() as conn:
        row = conn.execute("SELECT value FROM meta WHERE key=?", (META_KEY,)).fetchone()
        state = store.unseal(row[0], _CONTEXT) if row else _empty()
        result = change(state)
        conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                     (META_KEY, store.seal(state, _CONTEXT)))
        # Who acts on this device now, in clear beside the other ids: the kiosk's scope and per-patient keys read it
        # without unsealing the sessions (edge.patients.acting_user).
        if state["active"]:
            conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                         "value=excluded.value", (ACTIVE_USER_META, str(state["active"])))
        else:
            conn.execute("DELETE FROM meta WHERE key=?", (ACTIVE_USER_META,))
    return result


def active_session(store: Store) -> dict[str, Any] | None:
    """The session sync uses now, or None."""
    state = load(store)
    return state["sessions"].get(state["active"]) if state["active"] else None


def save_sign_in(store: Store, tokens, auth_url: str, pin_hash: str | None = None) -> dict[str, Any]:
    """Keep a fresh password sign-in and make it active; a password sign-in also lifts a PIN lock."""

    def change(state):
        old = state["sessions"].get(tokens.user_id) or {}
        record = {**tokens.to_dict(), "auth_url": auth_url, "signed_in_at": int(time.time()), "ended": False,
                  "pin": pin_hash or (old.get("pin") if not state["pin_locked"] else None)}
        state["sessions"][tokens.user_id] = record
        state["active"] = tokens.user_id
        state["pin_failures"], state["pin_locked"] = 0, False
        return record

    return _update(store, change)


def replace_tokens(store: Store, user_id: str, used_refresh: str, tokens) -> dict[str, Any]:
    """Store a refreshed session, unless another process already rotated it (then theirs is kept); the current
    record either way."""

    def change(state):
        record = state["sessions"].get(user_id)
        if record is None:
            raise NotSignedInError("this user signed out while their session was being refreshed")
        if record["refresh_token"] == used_refresh:
            record.update({**tokens.to_dict(), "ended": False})
        return dict(record)

    return _update(store, change)


def mark_ended(store: Store, user_id: str, refused_refresh: str) -> None:
    """Remember that the server refused this session's refresh (so the device stops asking until a sign-in)."""

    def change(state):
        record = state["sessions"].get(user_id)
        if record and record["refresh_token"] == refused_refresh:
            record["ended"] = True

    _update(store, change)


def remove(store: Store, user_id: str | None = None) -> dict[str, Any] | None:
    """Forget a session (the active one by default); returns it, or None when there was none."""

    def change(state):
        uid = user_id or state["active"]
        record = state["sessions"].pop(uid, None) if uid else None
        if uid and state["active"] == uid:
            state["active"] = None
        return record

    return _update(store, change)


def find_user(store: Store, email: str) -> str | None:
    """The id of the session signed in with this email on this device, if any."""
    wanted = email.strip().lower()
    return next((uid for uid, s in load(store)["sessions"].items()
                 if str(s["user"].get("email", "")).lower() == wanted), None)


# ---------------------------------------------------------------- PIN


def check_pin(pin: str) -> None:
    """Refuse a PIN that is not 4-8 digits, or is one digit repeated or a straight run (1234, 9876)."""
    if not (pin.isdigit() and pin.isascii() and 4 <= len(pin) <= 8):
        raise ValidationError("a PIN is 4 to 8 digits", field="pin")
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    if len(steps) == 1 and steps <= {-1, 0, 1}:
        raise ValidationError("that PIN is too easy to guess (repeated or consecutive digits)", field="pin")


def hash_pin(pin: str) -> str:
    """The Argon2id hash of a checked PIN."""
    from protocol.passwords import hash_secret

    check_pin(pin)
    return hash_secret(pin)


def unlock_with_pin(store: Store, pin: str, email: str | None = None) -> dict[str, Any]:
    """Make the staff session whose PIN this is active again; counts wrong PINs and locks after too many."""
    from protocol.passwords import verify_secret

    def change(state):
        if state["pin_locked"]:
            return "locked", None
        wanted = (email or "").strip().lower()
        candidates = {uid: r for uid, r in state["sessions"].items() if r.get("pin") and
                      (not wanted or str(r["user"].get("email", "")).lower() == wanted)}
        if not candidates:
            return "none", None
        for uid, record in candidates.items():
            if verify_secret(pin, record["pin"]):
                state["active"], state["pin_failures"] = uid, 0
                return "ok", dict(record)
        state["pin_failures"] += 1
        if state["pin_failures"] >= MAX_PIN_ATTEMPTS:
            state["pin_locked"] = True
            for record in state["sessions"].values():
                record["pin"] = None
            return "locked", None
        return "wrong", MAX_PIN_ATTEMPTS - state["pin_failures"]

    # The count must be saved even when the PIN is wrong, so the outcome is raised after the transaction.
    outcome, value = _update(store, change)
    if outcome == "locked":
        raise PinLockedError("PIN unlock is locked after too many wrong PINs",
                             hint="sign in with your password: healthsync edge sign-in --email <email> --set-pin")
    if outcome == "none":
        raise AuthError("nobody signed in on this device has set a PIN" + (" with that email" if email else ""),
                        hint="sign in with your password and --set-pin")
    if outcome == "wrong":
        raise AuthError(f"wrong PIN ({value} attempt{'s' if value != 1 else ''} left before PIN unlock locks)")
    return value


# ---------------------------------------------------------------- who is signed in


def token_user(token: str) -> str | None:
    """The `sub` of a bearer token (unverified: the server verifies; this only names the user locally)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["sub"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


def signed_in_user(store: Store, token: str | None = None) -> str:
    """The signed-in user: the one a given token (--token-file / --token / HEALTHSYNC_TOKEN) names, else the active
    session's."""
    token = token or os.environ.get("HEALTHSYNC_TOKEN")
    if token:
        user = token_user(token)
        if user is None:
            raise AuthError("the given token is not a JWT with a user (`sub`)", hint="pass a Supabase access token")
        return user
    record = active_session(store)
    if record is None:
        raise NotSignedInError("nobody is signed in on this device",
                               hint=SIGN_IN_HINT)
    return str(record["user"]["id"])

