"""The FastAPI application factory: settings in, a fully wired app out (no I/O until the first request)."""
from __future__ import annotations

import contextlib
import uuid

from fastapi import FastAPI

from protocol.errors import InputError
from protocol.hlc import HybridLogicalClock
from sync_server import auth_service, console, handlers
from sync_server.auth import TokenVerifier
from sync_server.auth_service import AuthSettings
from sync_server.config import Settings
from sync_server.db import Database
from sync_server.middleware import BodyLimitMiddleware, RequestContextMiddleware
from sync_server.ratelimit import RateLimiter, limiter_for
from sync_server.routes import ROUTERS


def create_app(settings: Settings | None = None, *, limiter: RateLimiter | None = None,
               auth: AuthSettings | None = None) -> FastAPI:
    """Build the sync server app; `settings.database_url` must already point at a reachable Postgres."""
    settings = settings or Settings.from_env()
    if not settings.database_url:
        raise InputError("DATABASE_URL is not set", hint="use sync_server.pg.ensure_database() to get one")
    db = Database(settings.database_url, max_size=settings.pool_max_size)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        db.close()
        cache = getattr(app.state, "predictions_cache", None)
        if cache is not None:  # made on first use (sync_server.predictions_cache.for_app): its Redis connection
            cache.close()
            del app.state.predictions_cache

    app = FastAPI(title="HealthSync sync server", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.db = db
    app.state.verifier = TokenVerifier(settings.jwt_secret, settings.jwks_url, settings.jwt_audience)
    app.state.limiter = limiter or limiter_for(settings.redis_url)
    # Each instance is its own HLC node, so N instances never issue equal timestamps.
    app.state.hlc = HybridLogicalClock(node=f"server-{uuid.uuid4().hex[:12]}")

    handlers.install(app)
    for router in ROUTERS:
        app.include_router(router)
    auth_service.install(app, auth)  # the development Supabase Auth, unless SUPABASE_URL names the real one
    console.install(app)  # /console: the clinicians' and admins' pages

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Added last = outermost: every answer, even a 413 or a CORS preflight, carries the request id.
    app.add_middleware(RequestContextMiddleware)
    return app
