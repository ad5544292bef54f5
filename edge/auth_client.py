"""Supabase Auth through the real `supabase` Python client: sign in, refresh, sign out, with our error codes.

The client runs with its own background refresh timers and session storage turned off: the edge keeps the
session sealed in its store (edge/auth_session.py) and refreshes it itself, right before it is needed.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import httpx

from protocol.codes import ErrorCode
from protocol.errors import AuthError, HealthSyncError, RateLimitedError

# Supabase's error codes meaning "this session is over": a password sign-in is the only way back.
SESSION_OVER = {"refresh_token_not_found", "refresh_token_already_used", "session_not_found", "session_expired",
                "user_not_found", "user_banned", "bad_jwt"}


class AuthUnavailableError(HealthSyncError):
    """The auth server could not be reached (or failed); the session is kept and nothing was lost."""

    code = ErrorCode.AUTH_UNAVAILABLE
    recoverable = True


class SignInRequiredError(AuthError):
    """The auth server refused to refresh the session (revoked, expired or reused): sign in again."""

    code = ErrorCode.AUTH_EXPIRED


@dataclass(frozen=True)
class Tokens:
    """One Supabase session as the edge keeps it."""

    access_token: str
    refresh_token: str
    expires_at: int
    expires_in: int
    user: dict[str, Any]

    @property
    def user_id(self) -> str:
        return str(self.user["id"])

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _tokens(session) -> Tokens:
    expires_in = int(session.expires_in)
    return Tokens(session.access_token, session.refresh_token, int(session.expires_at or time.time() + expires_in),
                  expires_in, session.user.model_dump(mode="json"))


def _api_key() -> str:
    # The public "anon" key of a real project; the embedded development service does not check it.
    return os.environ.get("SUPABASE_ANON_KEY") or os.environ.get("SUPABASE_KEY") or "anon"


class SupabaseAuth:
    """The `supabase` client's auth API for one project URL (…/auth/v1 is appended by the client)."""

    def __init__(self, url: str, *, timeout_s: float = 15.0):
        from supabase import ClientOptions, create_client

        self._http = httpx.Client(timeout=timeout_s)
        self.url = url.rstrip("/")
        self.client = create_client(self.url, _api_key(), options=ClientOptions(
            auto_refresh_token=False, persist_session=False, httpx_client=self._http))

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> SupabaseAuth:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def sign_in(self, email: str, password: str) -> Tokens:
        """A new session for email + password; AuthError (AUTH_FAILED) when they do not match."""
        with _translated(refreshing=False):
            return _tokens(self.client.auth.sign_in_with_password({"email": email, "password": password}).session)

    def refresh(self, refresh_token: str) -> Tokens:
        """The next session in the rotation; SignInRequiredError when the server refuses the refresh token."""
        with _translated(refreshing=True):
            return _tokens(self.client.auth.refresh_session(refresh_token).session)

    def sign_out(self, access_token: str) -> None:
        """Revoke this session's refresh tokens on the server (scope local: other devices stay signed in)."""
        with _translated(refreshing=True):
            self.client.auth.admin.sign_out(access_token, "local")


class _translated:
    """Maps the supabase client's exceptions to HealthSync errors with codes and hints."""

    def __init__(self, refreshing: bool):
        self.refreshing = refreshing

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        from supabase_auth.errors import AuthApiError, AuthRetryableError
        from supabase_auth.errors import AuthError as ClientAuthError

        if exc is None or isinstance(exc, HealthSyncError):
            return False
        if isinstance(exc, (AuthRetryableError, httpx.TransportError)) or \
                (isinstance(exc, AuthApiError) and exc.status >= 500):
            raise AuthUnavailableError("the auth server could not be reached",
                                       hint="your session is kept; try again when the network is back") from None
        if isinstance(exc, AuthApiError):
            if exc.status == 429:
                raise RateLimitedError("too many sign-in attempts; wait a minute", retry_after=60) from None
            if self.refreshing and (exc.code in SESSION_OVER or exc.status in (400, 401, 403)):
                raise SignInRequiredError("the signed-in session has ended: sign in again",
                                          hint="healthsync edge sign-in --email <your email>") from None
            if exc.code == "invalid_credentials":
                raise AuthError("wrong email or password", hint="check both; after several tries, wait a minute") \
                    from None
            raise AuthError(f"sign-in refused ({exc.code or exc.status})") from None
        if isinstance(exc, ClientAuthError):  # the client's own refusals (no session in the answer, say)
            if self.refreshing:
                raise SignInRequiredError("the signed-in session has ended: sign in again",
                                          hint="healthsync edge sign-in --email <your email>") from None
            raise AuthError(f"sign-in failed ({exc.code or type(exc).__name__})") from None
        return False
