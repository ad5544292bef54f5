"""Paged reads of a patient-data table under the caller's RLS, audited per patient: the one query behind the
clinicians' list endpoints (/api/v1/health/*) and the console's patient chart."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sync_server import audit
from sync_server.auth import Principal


@dataclass(frozen=True)
class Kind:
    """A readable record kind: its table, the columns answered, the time column ordering it and an optional
    type column the caller may filter on (metric type, exercise, disease)."""

    table: str
    columns: str
    time_column: str
    type_column: str | None = None


KINDS: dict[str, Kind] = {k.table: k for k in (
    Kind("health_metrics", "id, user_id, supersedes, metric_type, unit, value, recorded_at, source, notes, hlc",
         "recorded_at", "metric_type"),
    Kind("symptoms", "id, user_id, supersedes, description, severity, recorded_at, duration_days, voice_analysis, "
         "triage, model_versions, hlc", "recorded_at"),
    Kind("therapy_sessions", "id, user_id, supersedes, exercise, reps, score, duration_s, pain_before, pain_after, "
         "started_at, details, hlc", "started_at", "exercise"),
    Kind("predictions", "id, user_id, supersedes, disease, probability, confidence, model_name, model_version, "
         "inputs_hash, created_at, details, hlc", "created_at", "disease"),
    Kind("medications", "id, user_id, supersedes, name, strength, unit, frequency, route, source_scan_id, "
         "recorded_at, hlc", "recorded_at"),
)}


def list_records(conn, principal: Principal, table: str, *, user_id: uuid.UUID | None = None,
                 type_value: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
                 source: str | None = None, current_only: bool = False, limit: int = 50, offset: int = 0,
                 ) -> dict[str, Any]:
    """A page of `table`'s rows the caller may see (RLS decides), newest first, with the total; one audit row per
    patient whose rows were answered, in the caller's transaction. `current_only` leaves out rows a correction
    superseded (the chart shows what stands; the list endpoints answer the history)."""
    kind = KINDS[table]
    if user_id is None and principal.role == "patient":
        # RLS would return the same rows; naming the owner lets Postgres use the (user_id, …) index.
        user_id = principal.user_id
    where, params = ["NOT t.deleted"], []
    for clause, value in ((f"t.{kind.type_column} = %s" if kind.type_column else None, type_value),
                          (f"t.{kind.time_column} >= %s", since), (f"t.{kind.time_column} < %s", until),
                          ("t.user_id = %s", user_id), ("t.source = %s" if table == "health_metrics" else None,
                                                         source)):
        if value is not None and clause is not None:
            where.append(clause)
            params.append(value)
    if current_only:
        where.append(f"NOT EXISTS (SELECT 1 FROM {table} c WHERE c.supersedes = t.id AND NOT c.deleted)")
    sql_where = " AND ".join(where)
    total = conn.execute(f"SELECT count(*) AS n FROM {table} t WHERE {sql_where}", params).fetchone()["n"]
    columns = ", ".join(f"t.{c.strip()}" for c in kind.columns.split(","))
    rows = conn.execute(
        f"SELECT {columns} FROM {table} t WHERE {sql_where} "
        f"ORDER BY t.{kind.time_column} DESC, t.id DESC LIMIT %s OFFSET %s", [*params, limit, offset],
    ).fetchall()
    audit_read(conn, principal, table, rows)
    return {"items": rows, "total": total, "limit": limit, "offset": offset}


def audit_read(conn, principal: Principal, table: str, rows: list[dict[str, Any]]) -> None:
    """One audit row per patient whose rows were answered (also for a page served from a cache)."""
    subjects = sorted({str(r["user_id"]) for r in rows})
    audit.record_many(conn, principal, "read", table, [(None, s) for s in subjects], detail={"rows": len(rows)})
