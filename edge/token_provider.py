"""Where the sync client's bearer token comes from: a given token, or the signed-in session, refreshed in time."""
from __future__ import annotations

import os
import time
from collections.abc import Callable

from edge import auth_session
from edge.auth_client import AuthUnavailableError, SignInRequiredError, SupabaseAuth
from edge.store import Store

REFRESH_MARGIN_S = 60  # refresh when less than this is left (or half the token's lifetime, if that is shorter)


class StaticToken:
    """A token given with --token or HEALTHSYNC_TOKEN (scripts, CI): used as is, never refreshed."""

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
                hint="healthsync edge sign-in --email <email> (or pass --token / HEALTHSYNC_TOKEN)")
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


def token_source(store: Store, token: str | None = None) -> StaticToken | SessionTokens:
    """A given token (--token, HEALTHSYNC_TOKEN) when there is one, else the device's signed-in session."""
    token = token or os.environ.get("HEALTHSYNC_TOKEN")
    if token:
        return StaticToken(token)
    if auth_session.active_session(store) is None:
        raise auth_session.NotSignedInError(
            "no access token and nobody is signed in on this device",
            hint="healthsync edge sign-in --email <email>, or pass --token / set HEALTHSYNC_TOKEN")
    return SessionTokens(store)
