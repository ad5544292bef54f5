"""Reconciliation on the server: merge an opened changeset into Postgres under the caller's role and claims.

Every statement runs in the caller's transaction (sync_server.db.Database.session), so Postgres row-level
security authorizes each row exactly as Supabase would. Observations (the bulk of traffic) are validated in one
pydantic call per table, COPied into a staging table and moved by one `INSERT … SELECT … ON CONFLICT DO NOTHING`
that also writes their audit rows; mutable rows are locked,
merged with the same pure policies as the edge (protocol.merge.apply_change) and written back column by column.
Each change gets a receipt; accepted ones are recorded in `sync_applied` (replays answer duplicate) and audited.
"""
from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from protocol.changeset import Change, Changeset
from protocol.errors import ValidationError
from protocol.merge import Rejected, RowState, apply_change
from protocol.receipts import Receipt
from protocol.schema import STORED, TABLES, Policy, TableSpec, validate

SYNC_COLS = ("hlc", "col_clocks", "deleted", "origin_device")
DOC_COLLECTIONS = ("family_graph", "health_events")
PUSH_LOCK_NAMESPACE = 0x5359  # "SY": the two-key advisory lock space, apart from the migration lock
# One answer for every row the caller may not write, whether or not its id exists under another owner: a
# different answer for a taken id ("duplicate") would tell a patient that someone else's row exists.
NOT_WRITABLE = "row-level security refused this {table} row for the caller"


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
    writable: dict[str, set[uuid.UUID]] = field(default_factory=dict)  # table -> other patients the caller may write
    applied: list[tuple[str, str, str]] = field(default_factory=list)  # (change_id, table, row id)
    audit: list[tuple[str, str, str, str | None]] = field(default_factory=list)  # (action, table, row, subject)
    docs: dict[tuple[str, str], RowState] = field(default_factory=dict)
    touched: dict[str, set[str]] = field(default_factory=dict)  # table -> owners of its accepted changes (asked for)

    def accept(self, change: Change, state: RowState | None, spec: TableSpec, *, ledger: bool = True,
               audited: bool = False, owner: Any = None) -> None:
        self.receipts[change.change_id] = Receipt(change.change_id, "accepted")
        owners = self.touched.get(change.table)
        if owners is not None:
            if owner is None and state is not None:
                owner = state.doc.get(spec.owner)
            owners.add(str(owner))
        if ledger:
            self.applied.append((change.change_id, change.table, change.pk))
        if not audited:
            subject = state.doc.get(spec.owner) if state is not None and spec.owner is not None else None
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
    doc = validate(spec.name, {k: j.get(k) for k in spec.model.model_fields}, stored=True).model_dump(mode="json")
    return RowState(doc, dict(j.get("col_clocks") or {}), j["hlc"], bool(j["deleted"]))


def _wire_row(table: str, pk: str, state: RowState, seq: int | None = None) -> dict[str, Any]:
    out = {"table": table, "pk": pk, **state.to_wire()}
    if seq is not None:
        out["seq"] = seq
    return out


def _owner_ok(spec: TableSpec, doc: dict[str, Any], batch: _Batch) -> bool:
    if spec.owner is None:
        return False
    if spec.name in APPLIED_FIRST:
        # A registration is written for a patient not yet in anyone's scope (that is what it creates): its RLS
        # policies decide (the patient, or a nurse or admin of the registration's clinic; migration 0051).
        return True
    owner = str(doc.get(spec.owner))
    return owner == batch.caller.user_id or _in_write_scope(batch, spec.name, owner)


def _in_write_scope(batch: _Batch, table: str, owner: Any) -> bool:
    try:
        return uuid.UUID(str(owner)) in batch.writable.get(table, ())
    except ValueError:
        return False


def _load_write_scopes(conn, batch: _Batch, changes: list[Change]) -> None:
    """The patients other than the caller whose rows the caller may write, per table (migration 0051's
    app.my_write_scope: a clinic's nurses write for its registered patients, a doctor clinical rows for the patients
    in their care). Asked once per table, and only when a change names another owner: a phone pays nothing."""
    tables = set()
    for c in changes:
        spec = TABLES.get(c.table)
        if spec is not None and spec.owner is not None and c.columns \
                and str(c.columns.get(spec.owner)) != batch.caller.user_id:
            tables.add(c.table)
    cur = _cursor(conn)
    for t in sorted(tables):
        batch.writable[t] = {r[0] for r in cur.execute("SELECT app.my_write_scope(%s)", (t,))}


def _lock_and_set_tenant(conn, caller: Caller) -> None:
    """One round trip for two things a push starts with (each was its own, measured in bench_push_cost):

    - one push per user at a time: the change_seq values of a user's rows then become visible in order, so a pull
      by cursor cannot skip a row committed late (another user's concurrent pushes are invisible to this user);
    - the tenant (clinic_id) of the rows this push inserts: a kiosk's clinic, or for a patient's phone the patient's
      first active registration (nil when unregistered). Left unset otherwise: a trigger then fills each row's
      tenant from its owner (0050). It reads no row the lock protects, so setting it first changes nothing."""
    _cursor(conn).execute(
        "SELECT pg_advisory_xact_lock(%(ns)s, hashtext(%(u)s::text)), set_config('app.tenant', coalesce((SELECT "
        "d.clinic_id::text FROM sync_devices d WHERE d.id = %(d)s AND d.kind = 'clinic' LIMIT 1), CASE WHEN "
        "%(r)s = 'patient' THEN app.tenant_of(%(u)s::uuid)::text END, ''), true)",
        {"ns": PUSH_LOCK_NAMESPACE, "d": caller.device_id, "r": caller.role, "u": caller.user_id})


DEFAULT_MAX_SKEW_S = 300
APPLIED_FIRST = ("registrations",)


def _withdraws(change: Change) -> bool:
    """A registration change that ends the patient's sharing with the clinic."""
    return change.op == "delete" or (change.columns or {}).get("status") == "withdrawn"


def ingest(conn, changeset: Changeset, caller: Caller, *, doc_outbox: bool = False,
           max_skew_s: int = DEFAULT_MAX_SKEW_S, touched: dict[str, set[str]] | None = None) -> list[Receipt]:
    """Merge a changeset's changes inside the caller's transaction; one receipt per change, in order.

    `touched` maps table names to sets that receive the owners (patients) of that table's accepted changes: what
    the caller must invalidate in caches once the transaction commits.

    A change stamped more than `max_skew_s` ahead of the server's clock is refused (CLOCK_SKEW): it would win
    every last-writer-wins merge until the world caught up. Devices stamp with the server's time (learned on each
    sync) and re-stamp a refused change, so only a device that ignores the server's time stays refused."""
    changes = changeset.changes
    batch = _Batch(caller, changeset.header.changeset_id, touched={} if touched is None else touched)
    _lock_and_set_tenant(conn, caller)
    # Observation inserts are deduplicated by their primary key; other changes by the ledger of change ids.
    is_obs = [_is_observation_insert(c) for c in changes]
    others = [c.change_id for c, obs in zip(changes, is_obs, strict=True) if not obs]
    seen = {str(r[0]) for r in _cursor(conn).execute(
        "SELECT change_id FROM sync_applied WHERE change_id = ANY(%s::uuid[])", (others,))} if others else set()
    observations: list[Change] = []
    mutable: list[Change] = []
    horizon = f"{int(time.time() * 1000) + max_skew_s * 1000:015d}"
    for c, obs in zip(changes, is_obs, strict=True):
        if c.change_id in seen:
            batch.receipts[c.change_id] = Receipt(c.change_id, "duplicate")
        elif c.hlc[:15] > horizon:
            # A device whose clock runs a day ahead would win every last-writer-wins merge from now on.
            batch.reject(c, "CLOCK_SKEW", f"the change is stamped more than {max_skew_s} s ahead of the server's "
                                          "clock; sync again to stamp with the server's time")
        else:
            seen.add(c.change_id)
            (observations if obs else mutable).append(c)
    # Registrations first: a kiosk registers a patient and records for them in one push, and the registration is
    # what lets the patient's other rows in, so the write scopes are read after it.
    # A withdrawal goes last: what the device recorded before it (queued earlier) still gets in.
    first = [c for c in mutable if c.table in APPLIED_FIRST and not _withdraws(c)]
    _apply_mutable(conn, batch, first)
    _load_write_scopes(conn, batch, [c for c in changes if c.table not in APPLIED_FIRST])
    _insert_observations(conn, batch, observations)
    _apply_mutable(conn, batch, [c for c in mutable if c.table not in APPLIED_FIRST])
    _apply_mutable(conn, batch, [c for c in mutable if c.table in APPLIED_FIRST and _withdraws(c)])
    _record(conn, batch, doc_outbox)
    return [batch.receipts[c.change_id] if c.change_id in batch.receipts else Receipt(c.change_id, "duplicate")
            for c in changes]


def _is_observation_insert(c: Change) -> bool:
    spec = TABLES.get(c.table)
    return c.op == "insert" and spec is not None and spec.policy is Policy.APPEND_ONLY


# Observations go in chunks: while Postgres runs one chunk's insert (sent in pipeline mode, not waited for), Python
# validates the next, so the two processes work at once on two cores.
INSERT_CHUNK = 1250


def _insert_observations(conn, batch: _Batch, changes: list[Change]) -> None:
    by_table: dict[str, list[Change]] = {}
    for c in changes:
        by_table.setdefault(c.table, []).append(c)
    caller = uuid.UUID(batch.caller.user_id)
    for table, group in by_table.items():
        spec = TABLES[table]
        if len(group) <= VALUES_MAX_ROWS:
            items, inserted, refused = _insert_small(conn, spec, group, batch, caller)
        else:
            items, inserted, refused = _insert_large(conn, spec, group, batch, caller)
        own = _own_existing(conn, spec, [(c, r) for c, r in items
                                         if c.pk not in inserted and c.change_id not in refused])
        # A changeset naming one id twice: its first record went in, a later one is a replay of that id (answered
        # `accepted`, its device would believe a record that was never stored had been applied).
        first: set[str] = set()
        for c, record in items:
            if c.change_id in refused:
                batch.reject(c, "SYNC_REJECTED_DB", refused[c.change_id])
            elif c.pk in inserted and c.pk in first:
                batch.receipts[c.change_id] = Receipt(c.change_id, "duplicate")
            elif c.pk in inserted:
                first.add(c.pk)
                # Audited by the insert statement itself; observations need no change-id ledger either: their
                # id (the primary key, or the table's id registry: ID_REGISTRIES) already makes a replay a duplicate.
                state = RowState(record.model_dump(mode="json"), {}, c.hlc) if table in DOC_COLLECTIONS else None
                batch.accept(c, state, spec, ledger=False, audited=True, owner=record.__dict__[spec.owner])
            elif c.pk in own:
                batch.receipts[c.change_id] = Receipt(c.change_id, "duplicate")
            else:  # the id is taken by a row the caller may not write: answered like any such row
                batch.reject(c, "SYNC_REJECTED_RLS", NOT_WRITABLE.format(table=table))


# A push from a phone or kiosk carries a handful of rows: for those one INSERT … VALUES is a single round trip,
# where the staging table (create, truncate, describe, COPY, insert, empty) took six; measured, the staging was
# most of a small push's database time. Large pushes keep the COPY path, faster per row.
VALUES_MAX_ROWS = 100

Inserted = tuple[list[tuple[Change, Any]], set[str], dict[str, str]]


def _insert_small(conn, spec: TableSpec, group: list[Change], batch: _Batch, caller: uuid.UUID) -> Inserted:
    """Validated rows inserted by one statement; a row the database refuses sends them all the row-by-row way."""
    items = _checked(spec, group, batch, caller)
    if not items:
        return items, set(), {}
    try:
        with conn.transaction():
            return items, _values_insert(conn, spec, items, batch.caller), {}
    except _row_refusals():
        inserted, refused = _insert_chunk(conn, _stage(conn, spec), items, batch.caller)
        return items, inserted, refused


def _insert_large(conn, spec: TableSpec, group: list[Change], batch: _Batch, caller: uuid.UUID) -> Inserted:
    """Validated rows COPied in chunks, each chunk validated while the database inserts the one before."""
    chunks = [group[i:i + INSERT_CHUNK] for i in range(0, len(group), INSERT_CHUNK)]
    checked: list[list[tuple[Change, Any]]] = []

    def check(k: int) -> list[tuple[Change, Any]]:
        while len(checked) <= k:  # each chunk is validated once, in order
            checked.append(_checked(spec, chunks[len(checked)], batch, caller))
        return checked[k]

    stage = _stage(conn, spec)
    try:
        with conn.transaction():
            inserted, refused = _pipelined_insert(conn, stage, len(chunks), check, batch.caller), {}
    except _row_refusals():
        # A row the database refuses undid the fast path (the savepoint above): insert again with a savepoint
        # per attempt, row by row if need be, so that only that row is rejected.
        inserted, refused = _insert_chunk(conn, stage, [it for k in range(len(chunks)) for it in check(k)],
                                          batch.caller)
    return [it for chunk in checked for it in chunk], inserted, refused


def _own_existing(conn, spec: TableSpec, items: list[tuple[Change, Any]]) -> set[str]:
    """Of the rows not inserted (their id exists), those that are the same owner's: true duplicates (a replay)."""
    if not items:
        return set()
    rows = _cursor(conn).execute(f"SELECT id::text, {spec.owner}::text FROM {spec.name} WHERE id = ANY(%s::uuid[])",
                                 ([c.pk for c, _ in items],)).fetchall()
    owners = dict(rows)
    return {c.pk for c, record in items if owners.get(c.pk) == str(record.__dict__[spec.owner])}


def _pipelined_insert(conn, stage: _Stage, n_chunks: int, check, caller: Caller) -> set[str]:
    """Insert the chunks `check(k)` returns, validating chunk k+1 while the database inserts chunk k."""
    inserted: set[str] = set()
    cur, cleanup = _cursor(conn), _cursor(conn)
    items = check(0)
    for k in range(n_chunks):
        if not items:
            items = check(k + 1) if k + 1 < n_chunks else []
            continue
        _copy_rows(cur, stage, items)
        with conn.pipeline():
            cur.execute(*_insert_statement(stage, caller))
            cleanup.execute(f"DELETE FROM {stage.name}")  # queued too: empty for the next chunk's COPY
            items = check(k + 1) if k + 1 < n_chunks else []
            inserted.update(r[0] for r in cur.fetchall())
    return inserted


def _checked(spec: TableSpec, changes: list[Change], batch: _Batch, caller: uuid.UUID) -> list[tuple[Change, Any]]:
    """Validated records whose id matches the change and whose owner is the caller; the rest are rejected."""
    items = []
    owner = spec.owner
    for c, record in _validate_many(spec, changes, batch):
        values = record.__dict__
        # The pk is canonical text (checked when the changeset was opened): when the record's id is the same text
        # they match without formatting the UUID again.
        if c.columns.get("id") != c.pk and str(values["id"]) != c.pk:
            batch.reject(c, "VALIDATION_FAILED", "the record's id does not match the change's primary key")
        elif values[owner] != caller and values[owner] not in batch.writable.get(c.table, ()):
            batch.reject(c, "SYNC_REJECTED_RLS", NOT_WRITABLE.format(table=c.table))
        else:
            items.append((c, record))
    return items


def _insert_chunk(conn, stage: _Stage, items: list[tuple[Change, Any]], caller: Caller
                  ) -> tuple[set[str], dict[str, str]]:
    """Insert validated rows: the ids inserted, and the reason for each change the database refused."""
    try:
        with conn.transaction():
            return _copy_insert(conn, stage, items, caller), {}
    except _row_refusals():
        # One row the database refuses must not sink the chunk: retry row by row to find it.
        inserted, refused = set(), {}
        for c, record in items:
            try:
                with conn.transaction():
                    _cursor(conn).execute(f"TRUNCATE {stage.name}")  # rows of the previous attempt
                    inserted |= _copy_insert(conn, stage, [(c, record)], caller)
            except _row_refusals() as exc:
                refused[c.change_id] = _db_reason(exc)
        return inserted, refused


@functools.cache
def _list_adapter(model: type) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(list[model])


def _validate_many(spec: TableSpec, changes: list[Change], batch: _Batch) -> list[tuple[Change, Any]]:
    """Validate a table's records in one pydantic call (the same validators as protocol.schema.validate); only when
    some record fails is each one validated on its own, so each rejection names its own field."""
    from pydantic import ValidationError as PydanticValidationError

    try:
        records = _list_adapter(spec.model).validate_python([c.columns or {} for c in changes])
        return list(zip(changes, records, strict=True))
    except PydanticValidationError:
        pass
    out = []
    for c in changes:
        try:
            out.append((c, validate(c.table, c.columns or {})))
        except ValidationError as exc:
            batch.reject(c, exc.code, exc.message)
    return out


_JSON_OIDS = (114, 3802)  # json, jsonb


@dataclass(frozen=True)
class _Stage:
    """A per-connection staging table for one table's rows (RLS does not allow COPY into the real one)."""

    spec: TableSpec
    name: str
    columns: list[str]
    oids: list[int]
    json_cols: list[int]


def _stage(conn, spec: TableSpec) -> _Stage:
    """Create (once per connection) and describe the staging table of a table; it empties at commit."""
    columns = [*_columns(spec), "hlc"]
    name = f"sync_stage_{spec.name}"
    cur = _cursor(conn)
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ON COMMIT DELETE ROWS AS "
                f"SELECT {', '.join(columns)} FROM {spec.name} WITH NO DATA")
    cur.execute(f"TRUNCATE {name}")
    oids = _column_types(conn, spec)[0]
    return _Stage(spec, name, columns, oids, [i for i, oid in enumerate(oids[:-1]) if oid in _JSON_OIDS])


_TYPES: dict[str, tuple[list[int], list[str]]] = {}


def _column_types(conn, spec: TableSpec) -> tuple[list[int], list[str]]:
    """The type oids and SQL type names of a table's synced columns and hlc, read once per process (the columns
    are the code's)."""
    if spec.name not in _TYPES:
        columns = [*_columns(spec), "hlc"]
        cur = _cursor(conn)
        oids = [d.type_code for d in cur.execute(f"SELECT {', '.join(columns)} FROM {spec.name} LIMIT 0").description]
        names = dict(cur.execute("SELECT oid::int, format_type(oid, NULL) FROM pg_type WHERE oid = ANY(%s)",
                                 (oids,)).fetchall())
        _TYPES[spec.name] = (oids, [names[o] for o in oids])
    return _TYPES[spec.name]


def _row_values(fields: list[str], json_cols: list[int], items: list[tuple[Change, Any]]) -> Iterator[list[Any]]:
    """Each validated record as the list of its column values and hlc, JSON columns wrapped as jsonb."""
    from psycopg.types.json import Jsonb

    staged: set[str] = set()
    for c, record in items:
        # A changeset naming one id twice: only its first record goes in (`ON CONFLICT DO NOTHING` kept the first
        # too). A registry table (ID_REGISTRIES) would refuse the second one inside the statement and send the
        # whole chunk down the row-by-row retry, with the same receipts but far slower.
        if c.pk in staged:
            continue
        staged.add(c.pk)
        values = record.__dict__  # the validated field values; __dict__ avoids a getattr per field
        row = [values[k] for k in fields]
        for i in json_cols:
            if row[i] is not None:
                row[i] = Jsonb(row[i])
        row.append(c.hlc)
        yield row


def _copy_rows(cur, stage: _Stage, items: list[tuple[Change, Any]]) -> None:
    """COPY validated records into the (empty) staging table."""
    # Binary COPY: no text formatting or escaping of PHI strings, and the fastest path psycopg has (measured
    # faster than building COPY text in Python). The sync columns that are the same for every row (no column
    # clocks, not deleted, the pushing device) are constants of the INSERT instead of 3 values per row.
    with cur.copy(f"COPY {stage.name} ({', '.join(stage.columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(stage.oids)
        for row in _row_values(_columns(stage.spec), stage.json_cols, items):
            copy.write_row(row)


# Tables partitioned by time, whose id is unique through a registry table instead of their own primary key (which
# must include the partition key: migration 0091). Postgres cannot arbitrate `ON CONFLICT (id)` there, so their
# inserts skip the ids the registry already holds. Same outcome as before: a taken id inserts nothing and the change
# is answered duplicate (the caller's own row) or refused (someone else's). A concurrent push of the same id by
# another user slips past the skip and meets the registry's primary key instead (unique_violation, waiting for the
# other transaction like a unique index would): the fast path is undone and the row-by-row retry, a new statement
# that sees the other commit, skips it.
ID_REGISTRIES = {"health_metrics": "app.health_metric_ids"}


def _skip_taken_ids(table: str) -> tuple[str, str]:
    """The WHERE and ON CONFLICT clauses that make an observation insert skip ids already taken."""
    registry = ID_REGISTRIES.get(table)
    if registry is None:
        return "", "ON CONFLICT (id) DO NOTHING"
    return f"WHERE NOT EXISTS (SELECT 1 FROM {registry} taken WHERE taken.id = staged.id)", ""


def _audited_insert(spec: TableSpec, columns: list[str], source: str, caller: Caller, params: dict[str, Any]
                    ) -> tuple[str, dict[str, Any]]:
    """INSERT … SELECT … FROM `source` (rows named `staged`) skipping taken ids, which RLS checks row by row, that
    audits exactly the rows inserted, in one round trip (a data-modifying CTE runs once whether or not the outer
    query reads it); it returns the ids inserted, as text."""
    where, on_conflict = _skip_taken_ids(spec.name)
    cols = ", ".join(columns)
    sql = (f"WITH ins AS (INSERT INTO {spec.name} ({cols}, col_clocks, deleted, origin_device) "
           f"SELECT {cols}, '{{}}'::jsonb, false, %(device)s::uuid FROM {source} {where} {on_conflict} "
           f"RETURNING id, {spec.owner}), "
           f"aud AS (INSERT INTO audit_log (actor, role, action, table_name, row_id, subject_id, device_id, "
           f"request_id) SELECT %(actor)s::uuid, %(role)s, 'sync_insert', %(table)s, id, {spec.owner}, "
           f"%(device)s::uuid, %(request)s FROM ins) "
           f"SELECT id::text FROM ins")
    return sql, {**params, "device": caller.device_id, "actor": caller.user_id, "role": caller.role,
                 "table": spec.name, "request": caller.request_id}


def _insert_statement(stage: _Stage, caller: Caller) -> tuple[str, dict[str, Any]]:
    """The statement that moves the staged rows into the table."""
    return _audited_insert(stage.spec, stage.columns, f"{stage.name} staged", caller, {})


def _values_insert(conn, spec: TableSpec, items: list[tuple[Change, Any]], caller: Caller) -> set[str]:
    """Insert a few validated rows (with their audit rows) by one INSERT … SELECT … FROM (VALUES …); returns the ids
    inserted."""
    columns = [*_columns(spec), "hlc"]
    oids, types = _column_types(conn, spec)
    json_cols = [i for i, oid in enumerate(oids[:-1]) if oid in _JSON_OIDS]
    params: dict[str, Any] = {}
    tuples = []
    for r, row in enumerate(_row_values(_columns(spec), json_cols, items)):
        names = [f"v{r}_{k}" for k in range(len(row))]
        params.update(zip(names, row, strict=True))
        # Each parameter cast to its column's type: inside VALUES an untyped NULL would otherwise be text.
        tuples.append("(" + ", ".join(f"%({n})s::{t}" for n, t in zip(names, types, strict=True)) + ")")
    source = f"(VALUES {', '.join(tuples)}) AS staged ({', '.join(columns)})"
    sql, bound = _audited_insert(spec, columns, source, caller, params)
    return {r[0] for r in _cursor(conn).execute(sql, bound).fetchall()}


def _copy_insert(conn, stage: _Stage, items: list[tuple[Change, Any]], caller: Caller) -> set[str]:
    """COPY rows into the staging table and insert them (with their audit rows); returns the ids inserted."""
    cur = _cursor(conn)
    _copy_rows(cur, stage, items)
    return {r[0] for r in cur.execute(*_insert_statement(stage, caller)).fetchall()}


@functools.cache
def _row_refusals() -> tuple[type[Exception], ...]:
    """The database errors that mean Postgres refused a row (a constraint, a type, RLS, a trigger): they become that
    change's rejection receipt. Anything else (a lost connection, a bug in our SQL or Python) fails the request."""
    from psycopg import errors as pe

    return pe.IntegrityError, pe.DataError, pe.InsufficientPrivilege, pe.RaiseException


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
        if current is None and not _owner_ok(spec, new.doc, batch):
            batch.reject(c, "SYNC_REJECTED_RLS", NOT_WRITABLE.format(table=c.table))
            continue
        if new == current:
            # Not a replay (those are found by change id above): the change lost every key to a later write.
            batch.receipts[c.change_id] = _superseded(c, current)
            continue
        try:
            with conn.transaction():
                ok = _write(conn, spec, c.pk, current, new, batch.caller.device_id)
        except _row_refusals() as exc:
            _reject_db(batch, c, current, exc)
            continue
        if not ok:
            batch.reject(c, "SYNC_REJECTED_RLS", NOT_WRITABLE.format(table=c.table))
            continue
        states[(c.table, c.pk)] = new
        batch.accept(c, new, spec)


def _superseded(change: Change, winner: RowState | None) -> Receipt:
    """The receipt of a change that lost its merge: the winning row goes back so the device can take it."""
    return Receipt(change.change_id, "superseded", reason=f"a later write to {change.table} {change.pk} won the merge",
                   row=None if winner is None else _wire_row(change.table, change.pk, winner))


def _reject_db(batch: _Batch, c: Change, current: RowState | None, exc: Exception) -> None:
    """A write the database refused: the appointment triggers' refusals keep their own code and carry the server's
    row (the device repairs its copy at once, not at its next checksum verify), anything else is SYNC_REJECTED_DB.
    A booking that names no open bid is one of them (SYNC_REJECTED_DB, with the row)."""
    from sync_server.db import BAD_BID_SQLSTATE, translate

    err = translate(exc)
    row = _wire_row(c.table, c.pk, current) if current is not None else None
    if err.code in ("ILLEGAL_TRANSITION", "ALREADY_BOOKED", "SLOT_TAKEN"):  # the marketplace's refusals too
        batch.reject(c, err.code, err.message, row)
    else:
        batch.reject(c, "SYNC_REJECTED_DB", err.message,
                     row if getattr(exc, "sqlstate", None) == BAD_BID_SQLSTATE else None)


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
    c, caller = _cursor(conn), batch.caller
    if batch.applied:
        change_ids, tables, rows = (list(x) for x in zip(*batch.applied, strict=True))
        c.execute("INSERT INTO sync_applied (change_id, changeset_id, user_id, device_id, tbl, row_id) "
                  "SELECT u.c, %s, %s, %s, u.t, u.r FROM unnest(%s::uuid[], %s::text[], %s::uuid[]) AS u(c, t, r)",
                  (batch.changeset_id, caller.user_id, caller.device_id, change_ids, tables, rows))
    if batch.audit:
        # Columns travel as one comma-joined string each (ids, table and action names hold no commas): adapting
        # four 5,000-element Python lists costs more than the insert itself.
        actions, atables, arows, subjects = (",".join("" if v is None else str(v) for v in x)
                                             for x in zip(*batch.audit, strict=True))
        c.execute("INSERT INTO audit_log (actor, role, action, table_name, row_id, subject_id, device_id, "
                  "request_id) SELECT %s, %s, u.a, u.t, u.r::uuid, nullif(u.s, '')::uuid, %s, %s "
                  "FROM unnest(string_to_array(%s, ','), string_to_array(%s, ','), string_to_array(%s, ','), "
                  "string_to_array(%s, ',')) AS u(a, t, r, s)",
                  (caller.user_id, caller.role, caller.device_id, caller.request_id, actions, atables, arows,
                   subjects))
    if doc_outbox and batch.docs:
        c.executemany("INSERT INTO sync_doc_outbox (user_id, collection, doc_id, hlc, doc) VALUES (%s, %s, %s, %s, "
                      "%s::jsonb)",
                      [(caller.user_id, t, pk, s.hlc, json.dumps({**s.doc, "_deleted": s.deleted}))
                       for (t, pk), s in batch.docs.items()])


# ---------------------------------------------------------------- pull


# Tables read under migration 0051's care policy: a row is visible when its owner is the caller, a patient of one
# of the caller's clinics, a patient in their care window or one opened by break-glass. Every such owner is in
# {caller} ∪ app.my_scope(), so a pull first narrows these tables to those owners: the policy alone, an OR of
# subqueries, cannot use the owner index, and Postgres tested it on every row of the table (a patient's pull then
# cost as much as the whole table: 1,000 patients' rows for one patient's 30). RLS still decides; the narrowing
# only has to keep every row RLS would show (tests/server/test_pull_narrowing.py checks both the result and that
# these tables' policies still have that shape).
CARE_POLICY_TABLES = frozenset({"users", "health_metrics", "symptoms", "therapy_sessions", "predictions",
                                "health_events", "family_graph", "consents", "check_ins", "medications"})
# Above this many owners (staff of a large clinic) the policy's own hashed plan is the better one.
NARROW_MAX_OWNERS = 200


def readable_owners(conn) -> list[str] | None:
    """The owners whose rows the caller may read under the care policy; None when they are too many to help, or
    when the caller is not an API user (the service role reads past RLS: narrowing it to nobody would hide all).
    Like the start of a pull, it also sets the transaction to generic plans."""
    return _start_pull(conn, narrow=True)[0]


def _start_pull(conn, *, narrow: bool) -> tuple[list[str] | None, str | None]:
    """Sets the pull's transaction to plan its statements once (generic plans: with custom plans Postgres planned
    the thirteen tables' policies on every pull, 4–5 ms, more than running the statements) and returns the owners
    to narrow by (None: no narrowing) and the scope's digest (`scope_digest`), in one round trip."""
    _, digest, owners = _cursor(conn).execute(
        "WITH scope AS MATERIALIZED (SELECT o FROM (SELECT auth.uid() UNION SELECT app.my_scope()) s(o) "
        "WHERE current_user = 'authenticated' AND auth.uid() IS NOT NULL AND o IS NOT NULL) "
        "SELECT set_config('plan_cache_mode', 'force_generic_plan', true), "
        "(SELECT md5(string_agg(o::text, ',' ORDER BY o)) FROM scope), "
        "CASE WHEN %s AND current_user = 'authenticated' AND auth.uid() IS NOT NULL "
        "THEN array(SELECT o FROM scope LIMIT %s)::text[] END",
        (narrow, NARROW_MAX_OWNERS + 1), prepare=True).fetchone()
    return (owners if owners is not None and len(owners) <= NARROW_MAX_OWNERS else None), digest


def _narrowed(table: str, owners: list[str] | None) -> str:
    """The extra condition that narrows `table` to `owners` (none for other tables, or when owners is None)."""
    if owners is None or table not in CARE_POLICY_TABLES:
        return ""
    return f" AND {TABLES[table].owner} = ANY(%(owners)s::uuid[])"


def _page_order(table: str, owners: list[str] | None) -> str:
    """How a table's part of the page is ordered. A narrowed table's `change_seq + 0` keeps the planner off the
    change_seq index: the statement runs prepared with one generic plan (planning thirteen tables' policies cost
    more than running them), and that plan, not knowing how few owners there are, preferred walking the whole
    table in change_seq order to reading the owners' rows by the owner index (7 ms against 0.2 ms, measured)."""
    return "change_seq + 0" if _narrowed(table, owners) else "change_seq"


# Checksums are computed when the device asks (`with_checksums`): on every pull they were half its database time
# (measured: bench/bench_push_cost.py), for an answer that rarely changes. The device asks when it verifies: on its
# first pull, every few minutes, and when the scope digest differs from the last one it saw (edge/sync_client.py).
# The digest, md5 of {caller} ∪ app.my_scope() and so nearly free in the pull's first statement, changes whenever
# the patients the caller may read change (a registration, a care window opening or closing, break-glass): rows
# entering or leaving the scope are then reconciled on that round, not at the next verify.
def pull(conn, cursor: int, limit: int, tables: list[str] | None = None, *, narrow: bool = True,
         with_checksums: bool = True) -> dict[str, Any]:
    """A page of rows visible to the caller (RLS) changed after `cursor`; on the last page the scope's digest and,
    when asked, per-table checksums. `narrow=False` leaves RLS alone to choose the rows (the narrowing's test
    compares the two)."""
    names = [t for t in (tables or TABLES) if t in TABLES]
    owners, digest = _start_pull(conn, narrow=narrow)
    # First the page's keys across tables, then each table's rows as typed columns: no JSON rendering of every
    # row in Postgres and parsing of it again in Python (measured: a quarter of the pull).
    parts = [f"(SELECT '{t}'::text, change_seq, id::text FROM {t} WHERE change_seq > %(cursor)s"
             f"{_narrowed(t, owners)} ORDER BY {_page_order(t, owners)} LIMIT %(limit)s)" for t in names]
    sql = "SELECT * FROM (" + " UNION ALL ".join(parts) + ") page ORDER BY 2 LIMIT %(limit)s"
    keys = _cursor(conn).execute(sql, {"cursor": cursor, "limit": limit + 1, "owners": owners},
                                 prepare=True).fetchall()
    has_more = len(keys) > limit
    keys = keys[:limit]
    page: dict[str, Any] = {"changes": _pulled_rows(conn, keys), "cursor": keys[-1][1] if keys else cursor,
                            "has_more": has_more}
    if not has_more:
        if digest is not None:
            page["scope"] = digest
        if with_checksums:
            page["checksums"] = checksums(conn, names, owners)
    return page


def _pulled_rows(conn, keys: list[tuple[str, int, str]]) -> list[dict[str, Any]]:
    """The page's rows (table, change_seq, id) as a pull sends them, docs in their canonical wire form.

    Each table's rows are read in one query and validated and dumped in one pydantic call each way (per row, this
    was as costly as the rest of the pull together, measured); a row that fails is then validated alone, to raise
    its own error. A row changed since the keys were read is sent in its newer state (it comes again later with
    its new sequence number: applying it twice changes nothing)."""
    from pydantic import ValidationError as PydanticValidationError

    by_table: dict[str, list[Any]] = {}
    for table, _, row_id in keys:
        by_table.setdefault(table, []).append(row_id)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for table, ids in by_table.items():
        spec = TABLES[table]
        fields = list(spec.model.model_fields)
        # Clocks as text: most rows (observations) have none, and one json.loads per row costs more than the test.
        rows = _cursor(conn).execute(f"SELECT {', '.join(fields)}, col_clocks::text, hlc, deleted FROM {table} "
                                     f"WHERE id = ANY(%s::uuid[])", (ids,)).fetchall()
        raw = [dict(zip(fields, r, strict=False)) for r in rows]
        adapter = _list_adapter(spec.model)
        try:
            records = adapter.validate_python(raw, context=STORED)  # stored rows: size caps are for new writes
        except PydanticValidationError:
            records = [validate(table, d, stored=True) for d in raw]
        for r, doc in zip(rows, adapter.dump_python(records, mode="json"), strict=True):
            clocks, hlc, deleted = r[len(fields):]
            found[(table, doc["id"])] = {"doc": doc, "clocks": {} if clocks == "{}" else json.loads(clocks),
                                         "hlc": hlc, "deleted": bool(deleted)}
    out = []
    for table, seq, row_id in keys:
        row = found.get((table, row_id))
        if row is not None:  # not visible any more (RLS): nothing to send
            out.append({"table": table, "pk": row_id, **row, "seq": seq})
    return out


def checksums(conn, tables: list[str], owners: list[str] | None = None) -> dict[str, str]:
    """Per-table checksum of the caller's visible rows (same text and order as protocol.merge.scope_checksum);
    `owners` narrows the care-policy tables as in `pull`."""
    if not tables:
        return {}
    # One statement for every table: a round trip (and its RLS set-up in Postgres) per table was most of a small
    # pull's cost, measured.
    parts = [f"(SELECT md5(coalesce(string_agg(id::text || ':' || hlc || ':' || (deleted::int)::text, ',' "
             f"ORDER BY id), '')) FROM {t} WHERE true{_narrowed(t, owners)})" for t in tables]
    # Prepared: planning thirteen tables' RLS policies took most of the statement's time (psycopg prepares a
    # statement by itself only after it has run a few times on one connection).
    row = _cursor(conn).execute("SELECT " + ", ".join(parts), {"owners": owners}, prepare=True).fetchone()
    return dict(zip(tables, row, strict=True))
