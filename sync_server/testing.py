"""Reusable test helpers for the server (tests/server and tests/sync): a throwaway migrated database, tokens, apps."""
from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sync_server.auth import mint_token
from sync_server.config import Settings

LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/test"
TEST_JWT_SECRET = "test-only-jwt-secret-" + "0123456789abcdef" * 3  # 69 bytes: long enough for HS384 too


def _reachable(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def base_url(embedded_dir: Path | None = None) -> str:
    """A Postgres cluster to create test databases in: DATABASE_URL, else the local one, else an embedded one."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if _reachable(LOCAL_PG):
        return LOCAL_PG
    from sync_server.pg import embedded_server

    return embedded_server(embedded_dir or Path("/tmp/healthsync-test-pgdata")).get_uri()


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def create_database(base: str, prefix: str = "hs_test") -> str:
    """CREATE a uniquely named empty database on `base`'s server; returns its URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return with_database(base, name)


def drop_database(base: str, url: str) -> None:
    """DROP a database made by create_database, disconnecting anyone still on it."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_database(base: str, prefix: str = "hs_test") -> str:
    """A fresh database with every migration applied."""
    from sync_server.migrate import migrate

    url = create_database(base, prefix)
    migrate(url)
    return url


def settings_for(database_url: str, **overrides) -> Settings:
    """Settings for a test app: the test secret, no Redis, generous rate limits unless overridden."""
    settings = Settings(database_url=database_url, jwt_secret=TEST_JWT_SECRET, rate_limit_requests=100_000)
    return replace(settings, **overrides)


def token(user_id: uuid.UUID | str, role: str = "patient", ttl_s: int = 3600, secret: str = TEST_JWT_SECRET) -> str:
    """A signed test access token."""
    return mint_token(secret, user_id, role, ttl_s)


def auth(user_id: uuid.UUID | str, role: str = "patient") -> dict[str, str]:
    """An Authorization header for a test user."""
    return {"Authorization": f"Bearer {token(user_id, role)}"}


@contextlib.contextmanager
def served(url: str, data_dir: Path, *, workers: int = 1, **env: str) -> Iterator[str]:
    """The real app served by uvicorn in a child process (as deployed, `workers` processes); yields its base URL.

    Settings come from the environment as in production (the test secret, no Redis, no rate limit to speak of);
    `env` adds or overrides variables (e.g. MAX_BODY_BYTES)."""
    import subprocess
    import sys
    import time

    import httpx

    port = free_port()
    # No Redis unless `env` names one (REDIS_URL from the caller's own environment is not inherited).
    child_env = {**{k: v for k, v in os.environ.items() if k != "REDIS_URL"}, "DATABASE_URL": url,
                 "SUPABASE_JWT_SECRET": TEST_JWT_SECRET, "RATE_LIMIT_REQUESTS": "1000000",
                 "HEALTHSYNC_SERVER_DATA": str(data_dir), **env}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "sync_server.app:create_app",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                             "--workers", str(workers)],
                            env=child_env, cwd=Path(__file__).resolve().parent.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/v1/sync/server-key", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(30)


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_in_thread(app, *, websockets: bool = False, port: int | None = None) -> Iterator[str]:
    """Serve `app` with a real uvicorn on a free loopback port (in a thread); yields its base URL. WebSockets only
    when asked (`websockets`: uvicorn's sans-I/O implementation, which raises no deprecation warning), else refused
    at the upgrade as before. `port`: that port instead (a server restarted where its pages point)."""
    import threading
    import time

    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                          ws="websockets-sansio" if websockets else "none"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
