"""Postgres access: one connection pool per app, and transactions run under a Supabase role and JWT claims."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from protocol.codes import ErrorCode
from protocol.errors import (
    ConflictError,
    DuplicateError,
    ForbiddenError,
    HealthSyncError,
    IllegalTransitionError,
    ValidationError,
)
from sync_server.pg import DatabaseUnavailableError

API_ROLES = ("anon", "authenticated", "service_role")
# Every connection runs without Postgres's JIT compiler. The care policies (migration 0051) give row-level-security
# queries planner costs in the millions, far above jit_above_cost, so each pull's checksum paid about a second of
# LLVM compilation to scan 100k rows that take 0.2 s to read (EXPLAIN ANALYZE: JIT 1,039 ms of 1,325 ms). Our
# queries are short OLTP ones: compilation never pays for itself here.
SESSION_OPTIONS = "-c jit=off"
ILLEGAL_TRANSITION_SQLSTATE = "23H09"  # raised by the appointment trigger (migration 0016)
ALREADY_BOOKED_SQLSTATE = "23H10"  # the booking trigger (0080): the request is booked already
BAD_BID_SQLSTATE = "23H11"  # the booking trigger (0080): not an open bid on this request


class Database:
    """A lazily opened psycopg connection pool; `session()` gives a transaction under a role and claims."""

    def __init__(self, url: str, max_size: int = 10):
        self.url = url
        self.max_size = max_size
        self._pool = None
        self._lock = threading.Lock()

    @property
    def pool(self):
        """The pool, opened on first use (so building the app does no I/O)."""
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    from psycopg.rows import dict_row
                    from psycopg_pool import ConnectionPool

                    self._pool = ConnectionPool(
                        self.url, min_size=1, max_size=self.max_size, open=True, timeout=10,
                        kwargs={"autocommit": True, "row_factory": dict_row, "options": SESSION_OPTIONS},
                    )
        return self._pool

    def close(self) -> None:
        """Close the pool (idempotent)."""
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    @contextmanager
    def session(self, role: str, claims: dict[str, Any] | None) -> Iterator[Any]:
        """A connection inside one transaction that runs as `role` with `claims`, exactly as PostgREST does.

        Both settings are transaction-local, so nothing leaks to the next user of the pooled connection.
        Postgres errors are translated into HealthSyncErrors at this boundary.
        """
        if role not in API_ROLES:
            raise ValueError(f"unknown database role {role!r}")
        import psycopg

        try:
            with self.pool.connection() as conn, conn.transaction():
                conn.execute(
                    "SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
                    (role, json.dumps(claims or {})),
                )
                yield conn
        except HealthSyncError:
            raise
        except psycopg.Error as exc:
            raise translate(exc) from exc
        except Exception as exc:
            from psycopg_pool import PoolTimeout

            if isinstance(exc, PoolTimeout):
                raise DatabaseUnavailableError("no database connection available") from exc
            raise

    @contextmanager
    def admin(self, timeout_s: float | None = None) -> Iterator[Any]:
        """A transaction as the login role itself (migrations, health checks); never for user requests."""
        import psycopg

        try:
            with self.pool.connection(timeout=timeout_s) as conn, conn.transaction():
                yield conn
        except psycopg.Error as exc:
            raise translate(exc) from exc


def aborted_in_conflict(exc: BaseException) -> bool:
    """Whether Postgres rolled the transaction back to resolve a conflict (SQLSTATE class 40: a deadlock, a
    serialization failure): nothing of it was kept, and the same work may simply run again."""
    return str(getattr(exc, "sqlstate", None) or "").startswith("40")


def translate(exc: Exception) -> HealthSyncError:
    """A psycopg error as the HealthSyncError the API answers with; messages name columns, never values."""
    from psycopg import errors as pe

    diag = getattr(exc, "diag", None)
    column = getattr(diag, "column_name", None) if diag else None
    constraint = getattr(diag, "constraint_name", None) if diag else None
    if getattr(exc, "sqlstate", None) == ILLEGAL_TRANSITION_SQLSTATE:
        # The trigger's message says who may make the move (protocol.appointments.explain); it names no values.
        return IllegalTransitionError(getattr(diag, "message_primary", None) or "illegal appointment transition",
                                      field="status")
    sqlstate = getattr(exc, "sqlstate", None)
    message = getattr(diag, "message_primary", None) if diag else None
    if sqlstate == ALREADY_BOOKED_SQLSTATE:
        return ConflictError(message or "this request is already booked", field=column)
    if sqlstate == BAD_BID_SQLSTATE:
        return ValidationError(message or "bid_id must name an open bid on this request", field="bid_id")
    if isinstance(exc, pe.ExclusionViolation):
        return ConflictError("the doctor is already booked for an overlapping time", code=ErrorCode.SLOT_TAKEN,
                             field="slot_start")
    if isinstance(exc, pe.InsufficientPrivilege):
        return ForbiddenError("row-level security refused this row for the caller")
    if isinstance(exc, pe.CheckViolation):
        where = column or constraint or "a column"
        return ValidationError(f"database check failed on {where}", field=column)
    if isinstance(exc, (pe.NotNullViolation, pe.InvalidTextRepresentation, pe.DatetimeFieldOverflow)):
        return ValidationError(f"invalid or missing value for {column or 'a column'}", field=column)
    if isinstance(exc, pe.UniqueViolation):
        return DuplicateError(f"duplicate key ({constraint or 'unique constraint'})", field=column)
    if aborted_in_conflict(exc):
        return DatabaseUnavailableError("the database rolled this request back in a conflict with a concurrent one",
                                        hint="send it again: nothing of it was kept")
    if isinstance(exc, pe.OperationalError):
        return DatabaseUnavailableError(f"database unavailable: {type(exc).__name__}")
    return HealthSyncError(f"database error: {type(exc).__name__}")
