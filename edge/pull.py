"""The device side of pull: server rows applied to the edge store without outbox capture, and local checksums."""
from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from typing import Any

from edge.patients import INDEXED_TABLES, index_pulled
from edge.store import Store
from protocol.hlc import Timestamp
from protocol.merge import RowState, gc_paused, is_hlc, merge_rows, scope_checksum
from protocol.schema import STORED, TABLES, Policy, TableSpec, validate


def _local(store: Store, spec: TableSpec, conn, row_id: str) -> RowState | None:
    row = conn.execute(f"SELECT payload, clocks, hlc, deleted FROM {spec.name} WHERE id=?", (row_id,)).fetchone()
    if row is None:
        return None
    return RowState(store.unseal(row[0], f"{spec.name}|{row_id}"), json.loads(row[1]), row[2], bool(row[3]))


def _known(conn, items: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[str, bool]]:
    """(hlc, deleted) of the page's rows that already exist locally: one query per table and 500 ids."""
    by_table: dict[str, list[str]] = {}
    for it in items:
        if it["table"] in TABLES:
            by_table.setdefault(it["table"], []).append(it["pk"])
    out = {}
    for table, pks in by_table.items():
        for i in range(0, len(pks), 500):
            chunk = pks[i:i + 500]
            sql = f"SELECT id, hlc, deleted FROM {table} WHERE id IN ({','.join('?' * len(chunk))})"
            out.update({(table, r[0]): (r[1], bool(r[2])) for r in conn.execute(sql, chunk)})
    return out


@functools.cache
def _list_adapter(model: type) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(list[model])


def _records(spec: TableSpec, docs: list[dict[str, Any]]) -> tuple[list[Any], list[dict[str, Any]]]:
    """Validate a page's rows of one table in one pydantic call (the validators of protocol.schema.validate) and
    return them with their JSON forms; if any fails, validate one by one so the error names the row's table and
    field, as a single validate would."""
    from pydantic import ValidationError as PydanticValidationError

    adapter = _list_adapter(spec.model)
    try:
        records = adapter.validate_python(docs, context=STORED)  # the server's rows: size caps are for new writes
    except PydanticValidationError:
        records = [validate(spec.name, d, stored=True) for d in docs]  # raises on the first bad row
    return records, adapter.dump_python(records, mode="json")


def _latest_hlc(stamps: Iterable[str]) -> str:
    """The newest well-formed HLC among the stamps ('' if none): rows written outside sync (seeds, admin tools)
    may carry another stamp."""
    for stamp in sorted(set(stamps), reverse=True):
        if is_hlc(stamp):
            return stamp
    return ""


def apply_pulled(store: Store, rows: Iterable[dict[str, Any]], *, server_wins: bool = False) -> int:
    """Apply server rows ({table, pk, doc, clocks, hlc, deleted}) in one transaction, without outbox capture.

    Rows with a pending local change merge per key (the push will settle them on the server); otherwise the
    server's state is taken as is, which also repairs rows a rejected change left diverged. Every row is validated
    with the shared schema before it is written: a malformed row from a server fails the page and writes nothing.
    """
    items = list(rows)
    n = 0
    with gc_paused(), store.transaction() as conn:
        pending = {r[0] for r in conn.execute("SELECT DISTINCT row_id FROM outbox")}
        known = _known(conn, items)
        by_table: dict[str, list[RowState]] = {}
        for item in items:
            spec = TABLES.get(item["table"])
            if spec is None:
                continue  # a table from a newer server: ignored until this app knows it
            remote = RowState(item["doc"], dict(item.get("clocks") or {}), item["hlc"], bool(item["deleted"]))
            here = known.get((spec.name, item["pk"]))
            if here is not None and spec.policy is Policy.APPEND_ONLY:
                # Observations never change: only the tombstone can be news.
                if here[1] or not remote.deleted:
                    continue
                merged = RowState(remote.doc, {}, max(here[0], remote.hlc), True)
            elif here is not None and item["pk"] in pending and not server_wins:
                merged = merge_rows(spec, _local(store, spec, conn, item["pk"]), remote)
            else:
                merged = remote
            by_table.setdefault(spec.name, []).append(merged)
        for table, states in by_table.items():
            # One bulk write per table and page: validate all, then one executemany (edge.store.write_pulled).
            records, docs = _records(TABLES[table], [st.doc for st in states])
            store.repo(table).write_pulled(conn, [(rec, doc, st.hlc, st.clocks, st.deleted)
                                                  for rec, doc, st in zip(records, docs, states, strict=True)])
            if table in INDEXED_TABLES:  # patients are found by a blind index of their profile (edge.patients)
                index_pulled(store, conn, table, records, [st.deleted for st in states])
            n += len(states)
        # The server's stamps only: a merged state carries our own pending stamp, which may be one our clock issued
        # while it ran ahead: taken as "seen from the server", it would become the floor a rewind cannot go below.
        latest = _latest_hlc(item["hlc"] for item in items if item["table"] in TABLES)
        if latest:
            # Local writes after a pull must order after what was pulled (causality across devices).
            try:
                store.saw_server_clock(conn, Timestamp.decode(latest))
            except ValueError:
                pass  # more than the drift guard ahead of us: applied, but our clock does not jump with it
    return n


def local_checksums(store: Store, tables: Iterable[str]) -> dict[str, str]:
    """Per-table checksums of the edge's rows, comparable with the server's (quarantined rows left out: the
    server never accepted them, and they wait for the user). A clinic device's purged rows count as they were
    (edge/kiosk.py keeps their ids and clocks): the server still shows them to it, by design."""
    sql = ("SELECT id, hlc, deleted FROM {0} WHERE id NOT IN (SELECT row_id FROM quarantine) UNION ALL "
           "SELECT id, hlc, deleted FROM kiosk_purged WHERE tbl='{0}' AND id NOT IN (SELECT id FROM {0})")
    return {t: scope_checksum((i, h, bool(d)) for i, h, d in store.query(sql.format(t))) for t in tables if t in TABLES}


def purge_out_of_scope(store: Store, tables: Iterable[str], visible: set[tuple[str, str]],
                       keep_owner: str | None = None) -> int:
    """Delete local rows of `tables` that a full pull from cursor 0 did not return (`visible` holds its (table, pk)
    pairs): they left this device's scope on the server (an appointment tombstoned, a care relation ended).

    Kept: rows with a pending or quarantined local change (they wait for their receipt or for the user), and rows
    owned by `keep_owner` (the device's user: their own rows never leave their scope, so one missing on the server
    means the server lost it, and the device may hold the last copy). Rows are removed without outbox capture,
    like every pulled change. Returns the number of rows removed."""
    removed = 0
    with store.transaction() as conn:
        keep = {r[0] for r in conn.execute("SELECT row_id FROM outbox UNION SELECT row_id FROM quarantine")}
        for table in tables:
            if table not in TABLES:
                continue
            gone = [(i,) for i, owner in conn.execute(f"SELECT id, owner FROM {table}")
                    if (table, i) not in visible and i not in keep and (keep_owner is None or owner != keep_owner)]
            conn.executemany(f"DELETE FROM {table} WHERE id=?", gone)
            removed += len(gone)
    return removed
