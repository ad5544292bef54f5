"""The embedded auth service's data: sign-in users, sessions and rotating refresh tokens in the `auth` schema.

Every function takes a connection running as service_role (the only role granted these tables). Refresh tokens
are random 256-bit strings kept only as SHA-256 hashes. Rotation follows Supabase Auth: using a token revokes it
and issues its child; presenting a revoked token again within the reuse interval returns that same child (so two
tabs or a retried request converge), and after the interval it is taken as a stolen token and ends the session.
The child is kept sealed under a key derived from its parent, so only a holder of the parent can read it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from protocol.errors import DuplicateError, ValidationError
from protocol.passwords import hash_secret, verify_or_burn

APP_ROLES = ("patient", "nurse", "doctor", "admin")


@dataclass(frozen=True)
class AuthUser:
    """One row of auth.users, without the password hash."""

    id: uuid.UUID
    email: str
    app_metadata: dict[str, Any]
    user_metadata: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    last_sign_in_at: dt.datetime | None
    email_confirmed_at: dt.datetime | None

    @property
    def role(self) -> str:
        """The application role the tokens carry (app_metadata.role; patient when unset)."""
        role = self.app_metadata.get("role")
        return role if role in APP_ROLES else "patient"

    @property
    def clinic_id(self) -> str | None:
        return self.app_metadata.get("clinic_id")

    def to_json(self) -> dict[str, Any]:
        """The user object as Supabase Auth answers it (GET /user, and `user` in a token answer)."""

        def iso(t: dt.datetime | None) -> str | None:
            return t.isoformat() if t else None

        return {
            "id": str(self.id), "aud": "authenticated", "role": "authenticated", "email": self.email,
            "email_confirmed_at": iso(self.email_confirmed_at), "phone": "",
            "confirmed_at": iso(self.email_confirmed_at), "last_sign_in_at": iso(self.last_sign_in_at),
            "app_metadata": self.app_metadata, "user_metadata": self.user_metadata, "identities": [],
            "created_at": iso(self.created_at), "updated_at": iso(self.updated_at), "is_anonymous": False,
        }


@dataclass(frozen=True)
class Issued:
    """What a sign-in or refresh hands out: the user, their session and a refresh token (plaintext, once)."""

    user: AuthUser
    session_id: uuid.UUID
    refresh_token: str


class GrantRefused(Exception):
    """A sign-in or refresh refused, with Supabase Auth's error code (the service maps it to its HTTP answer)."""

    def __init__(self, error_code: str, message: str, status: int = 400):
        super().__init__(message)
        self.error_code, self.message, self.status = error_code, message, status


_USER_COLS = ("id, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, last_sign_in_at, "
              "email_confirmed_at")


def _user(row: dict[str, Any]) -> AuthUser:
    return AuthUser(row["id"], row["email"], dict(row["raw_app_meta_data"] or {}),
                    dict(row["raw_user_meta_data"] or {}), row["created_at"], row["updated_at"],
                    row["last_sign_in_at"], row["email_confirmed_at"])


def normalise_email(email: str) -> str:
    """Lower-cased and trimmed; refuses what cannot be an address (no '@', spaces, over 320 characters)."""
    value = (email or "").strip().lower()
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in value) or len(value) > 320:
        raise ValidationError("that is not an email address", field="email")
    return value


def create_user(conn, email: str, password: str, *, full_name: str | None = None,
                app_metadata: dict[str, Any] | None = None, user_id: uuid.UUID | None = None) -> AuthUser:
    """Add a confirmed email + password user (the caller checked the password's strength); DuplicateError if the
    email is taken."""
    from uuid6 import uuid7

    email = normalise_email(email)
    if conn.execute("SELECT 1 FROM auth.users WHERE email = %s", (email,)).fetchone():
        raise DuplicateError("a user with that email already exists", field="email")
    meta = {"provider": "email", "providers": ["email"], **(app_metadata or {})}
    row = conn.execute(
        f"INSERT INTO auth.users (id, email, encrypted_password, email_confirmed_at, raw_app_meta_data, "
        f"raw_user_meta_data) VALUES (%s, %s, %s, now(), %s, %s) RETURNING {_USER_COLS}",
        (user_id or uuid7(), email, hash_secret(password), json.dumps(meta),
         json.dumps({"full_name": full_name} if full_name else {})),
    ).fetchone()
    return _user(row)


def get_user(conn, user_id: uuid.UUID | str) -> AuthUser | None:
    """The user with this id, or None."""
    row = conn.execute(f"SELECT {_USER_COLS} FROM auth.users WHERE id = %s", (str(user_id),)).fetchone()
    return _user(row) if row else None


def session_exists(conn, session_id: str) -> bool:
    """Whether the session is still live (logout deletes it)."""
    try:
        sid = uuid.UUID(str(session_id))
    except ValueError:
        return False
    return conn.execute("SELECT 1 FROM auth.sessions WHERE id = %s", (sid,)).fetchone() is not None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh(conn, user_id: uuid.UUID, session_id: uuid.UUID, parent: str | None = None) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute("INSERT INTO auth.refresh_tokens (token_hash, user_id, session_id, parent_hash) "
                 "VALUES (%s, %s, %s, %s)", (_hash(token), user_id, session_id, _hash(parent) if parent else None))
    return token


def sign_in(conn, email: str, password: str) -> Issued:
    """Check the password and open a session; GrantRefused('invalid_credentials') for any mismatch."""
    try:
        email = normalise_email(email)
    except ValidationError:
        email = ""
    row = conn.execute(f"SELECT {_USER_COLS}, encrypted_password FROM auth.users WHERE email = %s",
                       (email,)).fetchone() if email else None
    if not verify_or_burn(password or "", row["encrypted_password"] if row else None):
        raise GrantRefused("invalid_credentials", "Invalid login credentials")
    return open_session(conn, row["id"])


def open_session(conn, user_id: uuid.UUID) -> Issued:
    """A new session and its first refresh token for a user whose identity was just proven (password, claim)."""
    from uuid6 import uuid7

    session_id = uuid7()
    conn.execute("INSERT INTO auth.sessions (id, user_id) VALUES (%s, %s)", (session_id, user_id))
    token = _new_refresh(conn, user_id, session_id)
    updated = conn.execute(f"UPDATE auth.users SET last_sign_in_at = now() WHERE id = %s RETURNING {_USER_COLS}",
                           (user_id,)).fetchone()
    return Issued(_user(updated), session_id, token)


def _child_key(parent: str) -> bytes:
    return hashlib.sha256(b"healthsync-refresh-child|" + parent.encode()).digest()


def refresh(conn, token: str, reuse_interval_s: float) -> Issued:
    """Rotate a refresh token (see the module docstring); GrantRefused with Supabase's codes when refused."""
    row = conn.execute(
        "SELECT id, user_id, session_id, revoked, updated_at, child_sealed, now() AS now "
        "FROM auth.refresh_tokens WHERE token_hash = %s FOR UPDATE", (_hash(token or ""),)).fetchone()
    if row is None:
        raise GrantRefused("refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
    if not row["revoked"]:
        child = _new_refresh(conn, row["user_id"], row["session_id"], parent=token)
        nonce = secrets.token_bytes(12)
        sealed = nonce + AESGCM(_child_key(token)).encrypt(nonce, child.encode(), None)
        conn.execute("UPDATE auth.refresh_tokens SET revoked = true, updated_at = now(), child_sealed = %s "
                     "WHERE id = %s", (sealed, row["id"]))
    else:
        child = _reusable_child(conn, token, row, reuse_interval_s)
        if child is None:
            # Reuse outside the interval: someone else holds this token. End the whole session (Supabase does).
            conn.execute("DELETE FROM auth.sessions WHERE id = %s", (row["session_id"],))
            raise GrantRefused("refresh_token_already_used", "Invalid Refresh Token: Already Used")
    conn.execute("UPDATE auth.sessions SET updated_at = now() WHERE id = %s", (row["session_id"],))
    user = get_user(conn, row["user_id"])
    if user is None:
        raise GrantRefused("user_not_found", "User from sub claim in JWT does not exist", 403)
    return Issued(user, row["session_id"], child)


def _reusable_child(conn, token: str, row: dict[str, Any], reuse_interval_s: float) -> str | None:
    """The still-active child of a revoked token used again within the reuse interval, else None."""
    if not row["child_sealed"] or row["now"] - row["updated_at"] > dt.timedelta(seconds=reuse_interval_s):
        return None
    blob = bytes(row["child_sealed"])
    try:
        child = AESGCM(_child_key(token)).decrypt(blob[:12], blob[12:], None).decode()
    except InvalidTag:
        return None
    active = conn.execute("SELECT 1 FROM auth.refresh_tokens WHERE token_hash = %s AND NOT revoked",
                          (_hash(child),)).fetchone()
    return child if active else None


def sign_out(conn, user_id: uuid.UUID | str, session_id: str, scope: str) -> int:
    """End sessions (their refresh tokens go with them): this one (local), all (global) or all but this (others)."""
    try:
        session_id = str(uuid.UUID(session_id))
    except ValueError:
        session_id = str(uuid.UUID(int=0))  # a token without a session names none of the user's sessions
    if scope == "local":
        cur = conn.execute("DELETE FROM auth.sessions WHERE id = %s AND user_id = %s", (session_id, str(user_id)))
    elif scope == "others":
        cur = conn.execute("DELETE FROM auth.sessions WHERE user_id = %s AND id <> %s", (str(user_id), session_id))
    else:
        cur = conn.execute("DELETE FROM auth.sessions WHERE user_id = %s", (str(user_id),))
    return cur.rowcount
