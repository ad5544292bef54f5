"""The console's sign-in session: Supabase Auth tokens kept in HttpOnly, SameSite=Strict cookies (Secure over
https), refreshed through the auth server when the access token runs out, and a CSRF token bound to the session.

The browser never sees a token: no localStorage, no URL, no JavaScript access. Every console view verifies the
access token exactly as the API does (app.state.verifier) and queries as that user under RLS.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from protocol.errors import AuthError
from sync_server.auth import Principal

ACCESS_COOKIE = "hs_console_at"
REFRESH_COOKIE = "hs_console_rt"
LOGIN_CSRF_COOKIE = "hs_console_login"
CSRF_HEADER = "x-csrf-token"
REFRESH_AHEAD_S = 60
STAFF_ROLES = ("doctor", "nurse", "staff", "admin")
# A patient signs in too, to the patient screens only (/console/my-care); RLS shows them their own rows.
CONSOLE_ROLES = (*STAFF_ROLES, "patient")


class SignInRequired(Exception):
    """No valid console session: the page answers with a redirect to the sign-in form."""


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token (or with a wrong one)."""


@dataclass
class ConsoleUser:
    """The signed-in console user: their Principal (for RLS), display details and the session's CSRF token."""

    principal: Principal
    email: str
    name: str
    csrf: str
    set_cookies: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def role(self) -> str:
        return self.principal.role

    @property
    def platform_admin(self) -> bool:
        """Whether the verified token carries app_metadata.platform_admin (may create clinics; 0092 checks it)."""
        return (self.principal.claims.get("app_metadata") or {}).get("platform_admin") is True


def _auth_client(request: Request):
    """An httpx client for the Supabase Auth server: SUPABASE_URL when set, else this very app's embedded service
    (in-process, through the same middleware a browser's request would pass)."""
    import httpx

    auth = getattr(request.app.state, "auth_settings", None)
    if auth is not None and auth.supabase_url:
        return httpx.AsyncClient(base_url=auth.supabase_url.rstrip("/"), timeout=10)
    client = (request.client.host, request.client.port) if request.client else ("127.0.0.1", 0)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=request.app, client=client),
                             base_url=str(request.base_url).rstrip("/"), timeout=10)


async def _grant(request: Request, grant: str, body: dict[str, str]) -> dict[str, Any] | str:
    """POST /auth/v1/token?grant_type=…; the token answer, or GoTrue's error code as a string."""
    async with _auth_client(request) as http:
        resp = await http.post("/auth/v1/token", params={"grant_type": grant}, json=body,
                               headers={"X-Supabase-Api-Version": "2024-01-01", "apikey": "anon"})
    if resp.status_code != 200:
        try:
            return str(resp.json().get("code") or resp.status_code)
        except ValueError:
            return str(resp.status_code)
    return resp.json()


async def sign_in(request: Request, email: str, password: str) -> dict[str, Any] | str:
    """Email + password through Supabase Auth; the token answer or the refusal's code (invalid_credentials, …)."""
    return await _grant(request, "password", {"email": email, "password": password})


def cookies_for(answer: dict[str, Any]) -> list[tuple[str, str, int]]:
    """The (name, value, max_age) cookies holding a token answer."""
    return [(ACCESS_COOKIE, answer["access_token"], 30 * 86400), (REFRESH_COOKIE, answer["refresh_token"], 30 * 86400)]


def set_cookie(request: Request, response, name: str, value: str, max_age: int) -> None:
    """One console cookie: HttpOnly, SameSite=Strict, path /, Secure when the request came over https."""
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict", secure=secure, path="/")


def clear_cookies(response) -> None:
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, path="/")


def expiring(claims: dict[str, Any]) -> bool:
    """Whether an access token is at or within REFRESH_AHEAD_S of its `exp`. The verifier accepts a token for a
    few seconds past it (clock leeway), but the event stream closes a socket at `exp` itself; refreshing ahead
    means a page's reconnect never presents a token the socket would drop again at once."""
    exp = claims.get("exp")
    return isinstance(exp, int | float) and time.time() >= exp - REFRESH_AHEAD_S


def csrf_for(request: Request, claims: dict[str, Any]) -> str:
    """The CSRF token of a session: an HMAC of its session id under the server's secret (nothing to store)."""
    secret = (request.app.state.settings.jwt_secret or "").encode()
    session = f"console-csrf:{claims.get('session_id', '')}:{claims.get('sub', '')}".encode()
    return hmac.new(secret, session, hashlib.sha256).hexdigest()


def new_login_csrf() -> str:
    """A random token for the sign-in form (double-submitted: cookie and hidden field must match)."""
    return secrets.token_urlsafe(24)


def check_login_csrf(request: Request, submitted: str | None) -> None:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        raise CsrfRefused("the sign-in form expired; load it again")


def check_csrf(request: Request, user: ConsoleUser, submitted: str | None) -> None:
    """Refuse a state-changing request whose form field or X-CSRF-Token header is not the session's token."""
    token = submitted or request.headers.get(CSRF_HEADER) or ""
    if not hmac.compare_digest(token, user.csrf):
        raise CsrfRefused("this form is stale or was sent from another site; reload the page")


async def current_user(request: Request) -> ConsoleUser:
    """FastAPI dependency: the console user from the cookies, refreshing an expired access token once; otherwise
    SignInRequired. Staff and patients alike: which screens a role may open is pages.AREAS."""
    verifier = request.app.state.verifier
    token = request.cookies.get(ACCESS_COOKIE)
    fresh: list[tuple[str, str, int]] = []
    principal = None
    if token:
        try:
            principal = verifier.verify(token)
        except AuthError:
            principal = None
    if (principal is None or expiring(principal.claims)) and request.cookies.get(REFRESH_COOKIE):
        answer = await _grant(request, "refresh_token", {"refresh_token": request.cookies[REFRESH_COOKIE]})
        if isinstance(answer, dict):
            fresh = cookies_for(answer)
            try:
                principal = verifier.verify(answer["access_token"])
            except AuthError:
                principal = None
        # A refusal leaves a still-valid token in use until it runs out.
    if principal is None:
        raise SignInRequired()
    if principal.role not in CONSOLE_ROLES:
        raise SignInRequired()
    claims = principal.claims
    name = (claims.get("user_metadata") or {}).get("full_name") or claims.get("email") or str(principal.user_id)
    return ConsoleUser(principal, claims.get("email", ""), name, csrf_for(request, claims), fresh)




def websocket_token(websocket) -> str | None:
    """For the event stream /v1/ws (issue 11): the console's access token from its HttpOnly cookie, so live.js needs
    no token in its URL. Only for a handshake from this server's own origin: SameSite=Strict already keeps the cookie
    off cross-site handshakes, and the Origin check refuses cross-site WebSocket hijacking outright."""
    from urllib.parse import urlsplit

    origin, host = websocket.headers.get("origin"), websocket.headers.get("host")
    if not origin or not host or urlsplit(origin).netloc != host:
        return None
    return websocket.cookies.get(ACCESS_COOKIE)
