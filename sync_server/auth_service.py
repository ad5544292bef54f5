"""The embedded, development-only Supabase Auth service: GoTrue's real routes and JSON under /auth/v1.

No Supabase Auth server runs on our machines, so the demo and the tests sign in for real, through the real
`supabase` client, against this. Production sets SUPABASE_URL to the real project, and then this service is off
(it says so at start-up). Routes: POST /auth/v1/token?grant_type=password|refresh_token, GET /auth/v1/user,
POST /auth/v1/logout?scope=global|local|others. Errors are GoTrue's: with the request header
X-Supabase-Api-Version >= 2024-01-01 (the client sends it) `{"code": "<error_code>", "message": …}`, else the
older `{"code": <status>, "error_code": …, "msg": …}`. Nothing here logs an email, a password or a token.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from protocol.errors import InputError
from sync_server import auth_users
from sync_server.auth_users import GrantRefused
from sync_server.config import _int
from sync_server.deps import bearer_token
from sync_server.logs import log_event

API_VERSION = "2024-01-01"
SERVICE_CLAIMS = {"role": "service_role"}


@dataclass(frozen=True)
class AuthSettings:
    """The embedded service's configuration (environment names in from_env)."""

    supabase_url: str | None = None
    access_ttl_s: int = 3600
    reuse_interval_s: int = 10  # Supabase's default GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL
    signin_per_ip: int = 30
    signin_per_email: int = 10
    refresh_per_ip: int = 150  # Supabase's default GOTRUE_RATE_LIMIT_TOKEN_REFRESH (per 5 minutes)
    rate_window_s: int = 300
    claim_attempts: int = 10  # claim-code attempts per sign-in and per address in a window (POST /v1/patients/claim)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuthSettings:
        """SUPABASE_URL, HEALTHSYNC_AUTH_ACCESS_TTL_S, HEALTHSYNC_AUTH_REUSE_INTERVAL_S,
        HEALTHSYNC_AUTH_SIGNIN_PER_IP, HEALTHSYNC_AUTH_SIGNIN_PER_EMAIL, HEALTHSYNC_AUTH_REFRESH_PER_IP,
        HEALTHSYNC_AUTH_RATE_WINDOW_S and HEALTHSYNC_CLAIM_ATTEMPTS."""
        env = os.environ if env is None else env
        d = cls()
        reuse = (env.get("HEALTHSYNC_AUTH_REUSE_INTERVAL_S") or "").strip()
        if reuse and not reuse.isdigit():
            raise InputError(f"HEALTHSYNC_AUTH_REUSE_INTERVAL_S must be a whole number of seconds, got {reuse!r}")
        return cls(
            supabase_url=env.get("SUPABASE_URL") or None,
            access_ttl_s=_int(env, "HEALTHSYNC_AUTH_ACCESS_TTL_S", d.access_ttl_s),
            # 0 is meaningful here (no reuse grace at all), so it is parsed apart from the positive settings.
            reuse_interval_s=int(reuse) if reuse else d.reuse_interval_s,
            signin_per_ip=_int(env, "HEALTHSYNC_AUTH_SIGNIN_PER_IP", d.signin_per_ip),
            signin_per_email=_int(env, "HEALTHSYNC_AUTH_SIGNIN_PER_EMAIL", d.signin_per_email),
            refresh_per_ip=_int(env, "HEALTHSYNC_AUTH_REFRESH_PER_IP", d.refresh_per_ip),
            rate_window_s=_int(env, "HEALTHSYNC_AUTH_RATE_WINDOW_S", d.rate_window_s),
            claim_attempts=_int(env, "HEALTHSYNC_CLAIM_ATTEMPTS", d.claim_attempts),
        )


def install(app: FastAPI, auth: AuthSettings | None = None) -> bool:
    """Mount the service unless SUPABASE_URL is set (or no JWT secret can sign); logs which, and returns it."""
    auth = auth or AuthSettings.from_env()
    app.state.auth_settings = auth
    app.state.embedded_auth = False  # whether the sign-in users are ours (a claim code may re-key one)
    if auth.supabase_url:
        log_event(logging.INFO, "embedded auth service off: SUPABASE_URL is set, sign-in goes to that project")
        return False
    if not app.state.settings.jwt_secret:
        log_event(logging.WARNING, "embedded auth service off: SUPABASE_JWT_SECRET is not set, it cannot sign")
        return False
    app.include_router(router)
    app.state.embedded_auth = True
    log_event(logging.INFO, "embedded development auth service on at /auth/v1 (SUPABASE_URL is not set)",
              access_ttl_s=auth.access_ttl_s)
    return True


router = APIRouter(prefix="/auth/v1", tags=["auth (development)"])


def _error(request: Request, status: int, error_code: str, message: str, headers: dict | None = None):
    """An error the way GoTrue answers it, so the supabase client raises the right AuthApiError."""
    if request.headers.get("x-supabase-api-version", "") >= API_VERSION:
        body: dict[str, Any] = {"code": error_code, "message": message}
    else:
        body = {"code": status, "error_code": error_code, "msg": message}
    return JSONResponse(body, status, headers={"X-Supabase-Api-Version": API_VERSION, **(headers or {})})


def _ok(body: Any, status: int = 200):
    return JSONResponse(body, status, headers={"X-Supabase-Api-Version": API_VERSION})


def _over_limit(request: Request, scope: str, who: str, limit: int) -> int | None:
    """Count one hit; the seconds to wait when over `limit`, else None."""
    window = request.app.state.auth_settings.rate_window_s
    decision = request.app.state.limiter.hit(f"auth:{scope}:{who}", limit, window)
    return None if decision.allowed else decision.retry_after_s


def _db(request: Request):
    return request.app.state.db.session("service_role", SERVICE_CLAIMS)


def token_answer(request: Request, issued: auth_users.Issued) -> dict[str, Any]:
    """A session as GoTrue answers it: access token (signed here), refresh token, expiry and the user."""
    from sync_server.auth import mint_token

    ttl = request.app.state.auth_settings.access_ttl_s
    now = int(time.time())
    user = issued.user
    access = mint_token(request.app.state.settings.jwt_secret, user.id, user.role, ttl, email=user.email, now=now,
                        clinic_id=user.clinic_id, session_id=issued.session_id,
                        full_name=user.user_metadata.get("full_name"),
                        platform_admin=user.app_metadata.get("platform_admin") is True,
                        issuer=f"{str(request.base_url).rstrip('/')}/auth/v1")
    return {"access_token": access, "token_type": "bearer", "expires_in": ttl, "expires_at": now + ttl,
            "refresh_token": issued.refresh_token, "user": user.to_json()}


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


@router.post("/token")
async def token(request: Request):
    """Sign in with email + password, or trade a refresh token for a new session (rotating)."""
    grant = request.query_params.get("grant_type")
    body = await _json_body(request)
    if body is None:
        return _error(request, 400, "bad_json", "Could not parse request body as JSON")
    ip = request.client.host if request.client else "unknown"
    settings = request.app.state.auth_settings
    if grant == "password":
        email, password = body.get("email"), body.get("password")
        if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
            return _error(request, 400, "validation_failed", "missing email or password")
        email_key = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]  # no email in limiter keys
        wait = (_over_limit(request, "signin-ip", ip, settings.signin_per_ip)
                or _over_limit(request, "signin-email", email_key, settings.signin_per_email))
        if wait:
            return _error(request, 429, "over_request_rate_limit", "Request rate limit reached",
                          {"Retry-After": str(wait)})
        work = _sign_in(request, email, password)
    elif grant == "refresh_token":
        refresh = body.get("refresh_token")
        if not isinstance(refresh, str) or not refresh:
            return _error(request, 400, "validation_failed", "refresh_token required")
        wait = _over_limit(request, "refresh-ip", ip, settings.refresh_per_ip)
        if wait:
            return _error(request, 429, "over_request_rate_limit", "Request rate limit reached",
                          {"Retry-After": str(wait)})
        work = _refresh(request, refresh)
    else:
        return _error(request, 400, "validation_failed", "unsupported_grant_type")
    try:
        issued = await run_in_threadpool(work)
    except GrantRefused as exc:
        log_event(logging.INFO, "auth grant refused", grant_type=grant, error_code=exc.error_code)
        return _error(request, exc.status, exc.error_code, exc.message)
    return _ok(token_answer(request, issued))


def _sign_in(request: Request, email: str, password: str):
    def work():
        with _db(request) as conn:
            return auth_users.sign_in(conn, email, password)
    return work


def _refresh(request: Request, refresh: str):
    interval = request.app.state.auth_settings.reuse_interval_s

    def work():
        # The reuse-detection delete must commit even though the grant is refused: run it, then raise outside.
        with _db(request) as conn:
            try:
                return auth_users.refresh(conn, refresh, interval)
            except GrantRefused as exc:
                refused = exc
        raise refused
    return work


def _claims(request: Request) -> tuple[dict[str, Any] | None, Response | None]:
    """The verified claims of the bearer access token, or GoTrue's refusal."""
    import jwt

    token = bearer_token(request)
    if not token:
        return None, _error(request, 401, "no_authorization", "This endpoint requires a valid Bearer token")
    try:
        claims = jwt.decode(token, request.app.state.settings.jwt_secret, algorithms=["HS256"],
                            audience="authenticated", options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        return None, _error(request, 403, "bad_jwt", "invalid JWT: unable to parse or verify signature, "
                                                     "token has invalid claims: token is expired")
    except jwt.PyJWTError:
        return None, _error(request, 403, "bad_jwt", "invalid JWT: unable to parse or verify signature")
    return claims, None


@router.get("/user")
async def user(request: Request):
    """The signed-in user (the session named by the token must still be live)."""
    claims, refusal = _claims(request)
    if refusal:
        return refusal

    def work():
        with _db(request) as conn:
            if not auth_users.session_exists(conn, claims.get("session_id", "")):
                return None, "session_not_found"
            found = auth_users.get_user(conn, claims["sub"])
            return found, None if found else "user_not_found"

    found, problem = await run_in_threadpool(work)
    if problem == "session_not_found":
        return _error(request, 403, "session_not_found", "Session from session_id claim in JWT does not exist")
    if problem:
        return _error(request, 403, "user_not_found", "User from sub claim in JWT does not exist")
    return _ok(found.to_json())


@router.post("/logout")
async def logout(request: Request):
    """Revoke refresh tokens: this session (local), every session (global, the default) or the others."""
    claims, refusal = _claims(request)
    if refusal:
        return refusal
    scope = request.query_params.get("scope", "global")
    if scope not in ("global", "local", "others"):
        return _error(request, 400, "validation_failed", "Unsupported logout scope")

    def work():
        with _db(request) as conn:
            auth_users.sign_out(conn, claims["sub"], str(claims.get("session_id", "")), scope)

    await run_in_threadpool(work)
    return Response(status_code=204, headers={"X-Supabase-Api-Version": API_VERSION})
