"""Where the sync client's bearer token comes from: a given token, or the signed-in session, refreshed in time."""
from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path

from edge import auth_session
from edge.auth_client import AuthUnavailableError, SignInRequiredError, SupabaseAuth
from edge.store import Store
from protocol.errors import InputError

REFRESH_MARGIN_S = 60  # refresh when less than this is left (or half the token's lifetime, if that is shorter)


class StaticToken:
    """A token given with --token, --token-file or HEALTHSYNC_TOKEN (scripts, CI): used as is, never refreshed."""

    renewable = False

    def __init__(self, token: str):
        self._token = token

    def token(self) -> str:
        """The token."""
        return self._token


class SessionTokens:
    """The active session's access token, refreshed through Supabase Auth shortly before it expires.

    A refused refresh marks the session ended and raises SignInRequiredError; from then on no request is made
    until someone signs in again (a new sign-in is picked up on the next call, the store is read each time).
    """

    renewable = True

    def __init__(self, store: Store, *, margin_s: float = REFRESH_MARGIN_S,
                 auth_factory: Callable[[str], SupabaseAuth] = SupabaseAuth,
                 clock: Callable[[], float] | None = None):
        self.store = store
        self.margin_s = margin_s
        self._auth = auth_factory
        self._clock = clock

    def _now(self) -> float:
        # Expiry is the auth server's time: judge it by our clock corrected with the offset learned from the
        # sync server, so a device whose clock runs slow does not send tokens the server already finds expired.
        return self._clock() if self._clock else time.time() + self.store.clock_offset_ms / 1000

    def token(self) -> str:
        """A usable access token for the active session."""
        record = auth_session.active_session(self.store)
        if record is None:
            raise auth_session.NotSignedInError(
                "nobody is signed in on this device",
                hint=auth_session.SIGN_IN_HINT)
        if record.get("ended"):
            raise SignInRequiredError("the signed-in session has ended: sign in again",
                                      hint="healthsync edge sign-in --email <your email>")
        left = record["expires_at"] - self._now()
        if left > min(self.margin_s, record["expires_in"] / 2):
            return record["access_token"]
        uid, used = str(record["user"]["id"]), record["refresh_token"]
        try:
            with self._auth(record["auth_url"]) as auth:
                fresh = auth.refresh(used)
        except SignInRequiredError:
            auth_session.mark_ended(self.store, uid, used)
            raise
        except AuthUnavailableError:
            if left > 0:
                return record["access_token"]  # the auth server is away but this token still works a while
            raise
        return auth_session.replace_tokens(self.store, uid, used, fresh)["access_token"]


def read_token_file(path: str | Path) -> str:
    """The access token held in a file only its owner can read (ssh's rule for private keys), or on standard input
    for `-`: the content without surrounding whitespace. Anything else is an InputError naming what to fix."""
    if str(path) == "-":
        return _one_token(sys.stdin.read(), "standard input")
    try:
        # Opened before it is checked, so the checks are about the file that is read; O_NONBLOCK: a FIFO given by
        # mistake is refused below instead of blocking here.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(f"--token-file {path}: no such file", field="token_file",
                         hint="give the path of a file holding the access token, or `-` for standard input") from None
    except OSError as exc:
        raise InputError(f"--token-file {path}: cannot open it ({exc.strerror})", field="token_file") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"--token-file {path} is not a regular file", field="token_file",
                             hint="give the path of a file holding the access token, or `-` for standard input")
        if os.name == "posix" and info.st_mode & 0o077:
            raise InputError(f"--token-file {path} can be read by other users (mode "
                             f"{stat.S_IMODE(info.st_mode):04o}); refusing to use a token others may have read",
                             field="token_file", hint=f"chmod 600 {path}")
        with os.fdopen(fd, "rb", closefd=False) as f:
            raw = f.read()
    finally:
        os.close(fd)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"--token-file {path} is not text", field="token_file") from None
    return _one_token(text, str(path))


def _one_token(text: str, where: str) -> str:
    token = text.strip()
    if not token:
        raise InputError(f"--token-file: no token in {where} (it is empty)", field="token_file",
                         hint="pipe the access token in" if where == "standard input"
                         else "write the access token into it, on one line")
    if any(c.isspace() for c in token):  # two lines, say: not one bearer token (and not a valid header)
        raise InputError(f"--token-file: {where} holds more than one word; a token is one", field="token_file")
    return token


def token_source(store: Store, token: str | None = None) -> StaticToken | SessionTokens:
    """A given token (--token, --token-file, HEALTHSYNC_TOKEN) when there is one, else the device's signed-in
    session."""
    token = token or os.environ.get("HEALTHSYNC_TOKEN")
    if token:
        return StaticToken(token)
    if auth_session.active_session(store) is None:
        raise auth_session.NotSignedInError(
            "no access token and nobody is signed in on this device",
            hint=auth_session.SIGN_IN_HINT)
    return SessionTokens(store)
