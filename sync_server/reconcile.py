"""Reconciliation on the server: merge an opened changeset into Postgres under the caller's role and claims.

Every statement runs in the caller's transaction (sync_server.db.Database.session), so Postgres row-level
security authorizes each row exactly as Supabase would. Observations (the bulk of traffic) go in one
`INSERT … SELECT FROM jsonb_populate_recordset … ON CONFLICT DO NOTHING` per table; mutable rows are locked,
merged with the same pure policies as the edge (edge.merge.apply_change) and written back column by column.
Each change gets a receipt; accepted ones are recorded in `sync_applied` (replays answer duplicate) and audited.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from edge.changeset import Change, Changeset
from edge.errors import ValidationError
from edge.hlc import MAX_DRIFT_MS
from edge.merge import Rejected, RowState, apply_change
from edge.outbox import Receipt
from edge.schema import TABLES, Policy, TableSpec, validate

SYNC_COLS = ("hlc", "col_clocks", "deleted", "origin_device")
DOC_COLLECTIONS = ("family_graph", "health_events")
PUSH_LOCK_NAMESPACE = 0x5359  # "SY": the two-key advisory lock space, apart from the migration lock


@dataclass
class Caller:
    """Who pushes: the user (JWT sub), their application role, the device and the request id (for the audit)."""

    user_id: str
    role: str = "patient"
    device_id: str | None = None
    request_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass
class _Batch:
    caller: Caller
    changeset_id: str
    receipts: dict[str, Receipt] = field(default_factory=dict)
    applied: list[tuple[str, str, str]] = field(default_factory=list)  # (change_id, table, row id)
    audit: list[tuple[str, str, str, str | None]] = field(default_factory=list)  # (action, table, row, subject)
    docs: dict[tuple[str, str], RowState] = field(default_factory=dict)

    def accept(self, change: Change, state: RowState | None, spec: TableSpec, *, subject: str | None = None,
               ledger: bool = True) -> None:
        self.receipts[change.change_id] = Receipt(change.change_id, "accepted")
        if ledger:
            self.applied.append((change.change_id, change.table, change.pk))
        if subject is None and state is not None and spec.owner is not None:
            subject = state.doc.get(spec.owner)
        self.audit.append((f"sync_{change.op}", change.table, change.pk, subject))
        if state is not None and change.table in DOC_COLLECTIONS:
            self.docs[(change.table, change.pk)] = state

    def reject(self, change: Change, code: str, reason: str, row: dict | None = None) -> None:
        self.receipts[change.change_id] = Receipt(change.change_id, "rejected", code, reason, row)


def _cursor(conn):
    from psycopg.rows import tuple_row

    return conn.cursor(row_factory=tuple_row)


def _columns(spec: TableSpec) -> list[str]:
    return list(spec.model.model_fields)


def _state_from_json(spec: TableSpec, j: dict[str, Any]) -> RowState:
    doc = validate(spec.name, {k: j.get(k) for k in spec.model.model_fields}).model_dump(mode="json")
    return RowState(doc, dict(j.get("col_clocks") or {}), j["hlc"], bool(j["deleted"]))


def _wire_row(table: str, pk: str, state: RowState, seq: int | None = None) -> dict[str, Any]:
    out = {"table": table, "pk": pk, **state.to_wire()}
    if seq is not None:
        out["seq"] = seq
    return out


def _owner_ok(spec: TableSpec, doc: dict[str, Any], caller: Caller) -> bool:
    return caller.is_admin or (spec.owner is not None and str(doc.get(spec.owner)) == caller.user_id)


def ingest(conn, changeset: Changeset, caller: Caller, *, doc_outbox: bool = False) -> list[Receipt]:
    """Merge a changeset's changes inside the caller's transaction; one receipt per change, in order."""
    changes = changeset.changes
    batch = _Batch(caller, changeset.header.changeset_id)
    # One push per user at a time: the change_seq values of a user's rows then become visible in order, so a pull
    # by cursor cannot skip a row committed late (another user's concurrent pushes are invisible to this user).
    _cursor(conn).execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (PUSH_LOCK_NAMESPACE, caller.user_id))
    observations, others = [], []
    for c in changes:
        (observations if _is_observation_insert(c) else others).append(c)
    # Observation inserts are deduplicated by their primary key; other changes by the ledger of change ids.
    seen = {str(r[0]) for r in _cursor(conn).execute(
        "SELECT change_id FROM sync_applied WHERE change_id = ANY(%s::uuid[])", ([c.change_id for c in others],))
    } if others else set()
    todo: list[Change] = []
    horizon = f"{int(time.time() * 1000) + MAX_DRIFT_MS:015d}"
    for c in changes:
        if c.change_id in seen:
            batch.receipts[c.change_id] = Receipt(c.change_id, "duplicate")
        elif c.hlc[:15] > horizon:
            # A device whose clock runs a day ahead would win every last-writer-wins merge from now on.
            batch.reject(c, "CLOCK_SKEW", "the change is stamped more than 24 h ahead of the server's clock; "
                                          "fix the device's clock and retry")
        else:
            seen.add(c.change_id)
            todo.append(c)
    _insert_observations(conn, batch, [c for c in todo if _is_observation_insert(c)])
    _apply_mutable(conn, batch, [c for c in todo if not _is_observation_insert(c)])
    _record(conn, batch, doc_outbox)
    return [batch.receipts[c.change_id] if c.change_id in batch.receipts else Receipt(c.change_id, "duplicate")
            for c in changes]


def _is_observation_insert(c: Change) -> bool:
    spec = TABLES.get(c.table)
    return c.op == "insert" and spec is not None and spec.policy is Policy.APPEND_ONLY


def _insert_observations(conn, batch: _Batch, changes: list[Change]) -> None:
    by_table: dict[str, list[tuple[Change, Any]]] = {}
    for c in changes:
        spec = TABLES[c.table]
        try:
            record = validate(c.table, c.columns or {})
        except ValidationError as exc:
            batch.reject(c, exc.code, exc.message)
            continue
        if str(record.id) != c.pk:
            batch.reject(c, "VALIDATION_FAILED", "the record's id does not match the change's primary key")
        elif not (batch.caller.is_admin or str(getattr(record, spec.owner)) == batch.caller.user_id):
            batch.reject(c, "SYNC_REJECTED_RLS", f"{c.table} rows may only be written for the signed-in user")
        else:
            by_table.setdefault(c.table, []).append((c, record))
    for table, items in by_table.items():
        spec = TABLES[table]
        try:
            with conn.transaction():
                inserted = _copy_insert(conn, spec, items, batch.caller.device_id)
        except Exception:
            # One row the database refuses must not sink the batch: retry row by row to find it.
            inserted = set()
            for c, record in items:
                try:
                    with conn.transaction():
                        inserted |= _copy_insert(conn, spec, [(c, record)], batch.caller.device_id)
                except Exception as exc:  # noqa: BLE001 - becomes the receipt's reason
                    batch.reject(c, "SYNC_REJECTED_DB", _db_reason(exc))
        for c, record in items:
            if c.change_id in batch.receipts:
                continue
            if c.pk in inserted:
                # Observations need no change-id ledger: their primary key already makes a replay a duplicate.
                state = RowState(record.model_dump(mode="json"), {}, c.hlc) if table in DOC_COLLECTIONS else None
                batch.accept(c, state, spec, subject=str(getattr(record, spec.owner)), ledger=False)
            else:
                batch.receipts[c.change_id] = Receipt(c.change_id, "duplicate")


def _copy_insert(conn, spec: TableSpec, items: list[tuple[Change, Any]], device: str | None) -> set[str]:
    """COPY typed rows into a per-connection staging table (RLS does not allow COPY into the real one), then one
    INSERT … SELECT … ON CONFLICT DO NOTHING, which RLS checks row by row; returns the ids inserted."""
    from psycopg.types.json import Jsonb

    table, cols = spec.name, _columns(spec) + list(SYNC_COLS)
    stage = f"stage_{table}"
    cur = _cursor(conn)
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
                f"SELECT {', '.join(cols)} FROM {table} WITH NO DATA")
    cur.execute(f"TRUNCATE {stage}")
    oids = [d.type_code for d in cur.execute(f"SELECT {', '.join(cols)} FROM {stage} LIMIT 0").description]
    fields = list(spec.model.model_fields)
    tail = [Jsonb({}), False, uuid.UUID(device) if device else None]
    # Binary COPY: no text formatting or escaping of PHI strings, and the fastest path psycopg has (measured
    # faster than building COPY text in Python).
    with cur.copy(f"COPY {stage} ({', '.join(cols)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(oids)
        for c, record in items:
            values = [getattr(record, k) for k in fields]
            values = [Jsonb(v) if isinstance(v, (dict, list)) else v for v in values]
            copy.write_row([*values, c.hlc, *tail])
    rows = cur.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM {stage} "
                       f"ON CONFLICT (id) DO NOTHING RETURNING id").fetchall()
    return {str(r[0]) for r in rows}


def _db_reason(exc: Exception) -> str:
    from sync_server.db import translate

    return translate(exc).message


def _load(conn, table: str, pks: list[str]) -> dict[str, RowState]:
    spec = TABLES[table]
    rows = _cursor(conn).execute(f"SELECT id, to_jsonb(t) FROM {table} t WHERE id = ANY(%s::uuid[]) FOR UPDATE",
                                 (pks,))
    return {str(i): _state_from_json(spec, j) for i, j in rows}


def _apply_mutable(conn, batch: _Batch, changes: list[Change]) -> None:
    states: dict[tuple[str, str], RowState | None] = {}
    by_table: dict[str, list[str]] = {}
    for c in changes:
        if c.table in TABLES:
            by_table.setdefault(c.table, []).append(c.pk)
    for table, pks in by_table.items():
        loaded = _load(conn, table, pks)
        states.update({(table, pk): loaded.get(pk) for pk in pks})
    for c in changes:
        current = states.get((c.table, c.pk))
        try:
            new = apply_change(c.table, current, c)
        except Rejected as exc:
            row = _wire_row(c.table, c.pk, current) if current is not None and exc.code == "ILLEGAL_TRANSITION" \
                else None
            batch.reject(c, exc.code, exc.message, row)
            continue
        spec = TABLES[c.table]
        if current is None and not _owner_ok(spec, new.doc, batch.caller):
            batch.reject(c, "SYNC_REJECTED_RLS", f"{c.table} rows may only be written for the signed-in user")
            continue
        if new == current:
            batch.receipts[c.change_id] = Receipt(c.change_id, "duplicate")
            continue
        try:
            with conn.transaction():
                ok = _write(conn, spec, c.pk, current, new, batch.caller.device_id)
        except Exception as exc:  # noqa: BLE001 - becomes the receipt's reason
            batch.reject(c, "SYNC_REJECTED_DB", _db_reason(exc))
            continue
        if not ok:
            batch.reject(c, "SYNC_REJECTED_RLS", f"row-level security refused this {c.table} row for the caller")
            continue
        states[(c.table, c.pk)] = new
        batch.accept(c, new, spec)


def _write(conn, spec: TableSpec, pk: str, current: RowState | None, new: RowState, device: str | None) -> bool:
    table = spec.name
    row = {**new.doc, "hlc": new.hlc, "col_clocks": new.clocks, "deleted": new.deleted, "origin_device": device}
    if current is None:
        cols = ", ".join(_columns(spec) + list(SYNC_COLS))
        sql = (f"INSERT INTO {table} ({cols}) SELECT {cols} FROM jsonb_populate_record(NULL::{table}, %s::jsonb) "
               f"ON CONFLICT (id) DO NOTHING RETURNING id")
        return bool(_cursor(conn).execute(sql, (json.dumps(row),)).fetchall())
    # Only the columns that changed: the grants (0009) let devices touch no others.
    changed = [k for k in _columns(spec) if new.doc.get(k) != current.doc.get(k)] + list(SYNC_COLS)
    cols = ", ".join(changed)
    sql = (f"UPDATE {table} SET ({cols}) = (SELECT {cols} FROM jsonb_populate_record(NULL::{table}, %s::jsonb)) "
           f"WHERE id = %s RETURNING id")
    return bool(_cursor(conn).execute(sql, (json.dumps(row), pk)).fetchall())


def _record(conn, batch: _Batch, doc_outbox: bool) -> None:
    if not batch.audit:
        return
    c, caller = _cursor(conn), batch.caller
    if batch.applied:
        change_ids, tables, rows = (list(x) for x in zip(*batch.applied, strict=True))
        c.execute("INSERT INTO sync_applied (change_id, changeset_id, user_id, device_id, tbl, row_id) "
                  "SELECT u.c, %s, %s, %s, u.t, u.r FROM unnest(%s::uuid[], %s::text[], %s::uuid[]) AS u(c, t, r)",
                  (batch.changeset_id, caller.user_id, caller.device_id, change_ids, tables, rows))
    # Columns travel as one comma-joined string each (ids, table and action names hold no commas): adapting
    # four 5,000-element Python lists costs more than the insert itself.
    actions, atables, arows, subjects = (",".join("" if v is None else str(v) for v in x)
                                         for x in zip(*batch.audit, strict=True))
    c.execute("INSERT INTO audit_log (actor, role, action, table_name, row_id, subject_id, device_id, request_id) "
              "SELECT %s, %s, u.a, u.t, u.r::uuid, nullif(u.s, '')::uuid, %s, %s "
              "FROM unnest(string_to_array(%s, ','), string_to_array(%s, ','), string_to_array(%s, ','), "
              "string_to_array(%s, ',')) AS u(a, t, r, s)",
              (caller.user_id, caller.role, caller.device_id, caller.request_id, actions, atables, arows, subjects))
    if doc_outbox and batch.docs:
        c.executemany("INSERT INTO sync_doc_outbox (user_id, collection, doc_id, hlc, doc) VALUES (%s, %s, %s, %s, "
                      "%s::jsonb)",
                      [(caller.user_id, t, pk, s.hlc, json.dumps({**s.doc, "_deleted": s.deleted}))
                       for (t, pk), s in batch.docs.items()])


# ---------------------------------------------------------------- pull


def pull(conn, cursor: int, limit: int, tables: list[str] | None = None) -> dict[str, Any]:
    """A page of rows visible to the caller (RLS) changed after `cursor`, and per-table checksums on the last page."""
    names = [t for t in (tables or TABLES) if t in TABLES]
    parts = [f"(SELECT '{t}'::text, change_seq, id, to_jsonb(x) FROM {t} x WHERE change_seq > %(cursor)s "
             f"ORDER BY change_seq LIMIT %(limit)s)" for t in names]
    sql = "SELECT * FROM (" + " UNION ALL ".join(parts) + ") page ORDER BY 2 LIMIT %(limit)s"
    rows = _cursor(conn).execute(sql, {"cursor": cursor, "limit": limit + 1}).fetchall()
    has_more = len(rows) > limit
    rows = rows[:limit]
    out = [_wire_row(t, str(i), _state_from_json(TABLES[t], j), seq) for t, seq, i, j in rows]
    page: dict[str, Any] = {"changes": out, "cursor": rows[-1][1] if rows else cursor, "has_more": has_more}
    if not has_more:
        page["checksums"] = checksums(conn, names)
    return page


def checksums(conn, tables: list[str]) -> dict[str, str]:
    """Per-table checksum of the caller's visible rows (same text and order as edge.merge.scope_checksum)."""
    c = _cursor(conn)
    out = {}
    for t in tables:
        out[t] = c.execute(
            f"SELECT md5(coalesce(string_agg(id::text || ':' || hlc || ':' || (deleted::int)::text, ',' "
            f"ORDER BY id), '')) FROM {t}").fetchone()[0]
    return out
