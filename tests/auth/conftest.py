"""Auth fixtures: a migrated Postgres, the real server app (embedded auth, 2 s access tokens) on a real uvicorn."""
from __future__ import annotations

import contextlib
import secrets
import uuid

import pytest

from sync_server import auth_users, testing
from sync_server.app import create_app
from sync_server.auth_service import AuthSettings
from sync_server.db import Database
from tests.sync import conftest as sync_fixtures

# The same throwaway migrated database (and its connection pool) as the sync tests use.
pg_url, db = sync_fixtures.pg_url, sync_fixtures.db

PASSWORD = "plover-ankle-" + "quartz-meadow"  # strong enough for the policy (zxcvbn score 4)


@pytest.fixture(scope="session")
def auth_app(pg_url, tmp_path_factory):
    """The real app: 2-second access tokens, a 1-second reuse interval, generous sign-in and claim limits."""
    app = create_app(testing.settings_for(pg_url, data_dir=tmp_path_factory.mktemp("server")),
                     auth=AuthSettings(access_ttl_s=2, reuse_interval_s=1, signin_per_ip=10_000,
                                       signin_per_email=10_000, refresh_per_ip=10_000, claim_attempts=10_000))
    yield app
    app.state.db.close()


@pytest.fixture(scope="session")
def live_url(auth_app):
    with testing.serve_in_thread(auth_app) as url:
        yield url


def add_user(db: Database, *, role: str | None = None, clinic: uuid.UUID | None = None,
             name: str | None = "Test User") -> tuple[uuid.UUID, str]:
    """A sign-in user (as `server user add` makes them); returns (id, email)."""
    email = f"u{secrets.token_hex(6)}@clinic.example"
    meta = {k: v for k, v in {"role": role, "clinic_id": str(clinic) if clinic else None}.items() if v}
    with db.session("service_role", {"role": "service_role"}) as conn:
        user = auth_users.create_user(conn, email, PASSWORD, full_name=name, app_metadata=meta)
    return user.id, email


@pytest.fixture
def user(db):
    return add_user(db)


@contextlib.contextmanager
def supabase_client(url: str):
    """The real supabase client pointed at our server: background refresh timers off, its connections closed."""
    import httpx
    from supabase import ClientOptions, create_client

    with httpx.Client(timeout=10) as http:
        yield create_client(url, "anon-key", options=ClientOptions(auto_refresh_token=False, persist_session=False,
                                                                   httpx_client=http))
