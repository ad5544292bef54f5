"""The edge outbox: changes captured by the store, batched into changesets, settled by the server's receipts.

Accepted and duplicate changes leave the outbox; rejected ones move to the quarantine with the server's reason,
so one bad change never blocks the rest of the queue (principle 5). The user lists, fixes, retries or discards them.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from edge.store import Store
from protocol.changeset import Change
from protocol.errors import NotFoundError, ValidationError
from protocol.receipts import Receipt
from protocol.schema import validate


@dataclass(frozen=True)
class QuarantinedChange:
    """A change the server rejected, waiting for the user to retry or discard it."""

    change_id: str
    table: str
    row_id: str
    op: str
    code: str
    reason: str
    quarantined_at: str


def _columns(store: Store, table: str, row_id: str, sealed: bytes | None) -> dict[str, Any] | None:
    return None if sealed is None else store.unseal(sealed, f"{table}|{row_id}")


def pending(store: Store, limit: int = 5000) -> list[Change]:
    """The oldest pending changes, in capture order, with their columns unsealed for the changeset."""
    rows = store.query("SELECT change_id, tbl, row_id, op, columns, hlc FROM outbox ORDER BY seq LIMIT ?", (limit,))
    return [Change(cid, tbl, rid, op, _columns(store, tbl, rid, cols), hlc) for cid, tbl, rid, op, cols, hlc in rows]


def pending_count(store: Store) -> int:
    """How many changes wait to be pushed."""
    return store.query("SELECT count(*) FROM outbox")[0][0]


SUPERSEDED_TOTAL = "superseded_total"  # sync_state key: changes that lost a merge, over the store's life


def apply_receipts(store: Store, receipts: Iterable[Receipt], *, restamp: set[str] = frozenset()
                   ) -> dict[str, int]:
    """Settle pushed changes in one transaction: drop accepted, duplicate and superseded (lost a merge; the caller
    repairs the row from the receipt), quarantine rejected; returns counts.

    A change in `restamp` refused as CLOCK_SKEW stays queued under a new stamp from the (rewound) clock instead."""
    counts = {"accepted": 0, "duplicate": 0, "superseded": 0, "rejected": 0, "restamped": 0}
    now = dt.datetime.now(dt.UTC).isoformat()
    with store.transaction() as conn:
        for r in receipts:
            if r.status == "rejected" and r.code == "CLOCK_SKEW" and r.change_id in restamp:
                counts["restamped"] += _restamp(store, conn, r.change_id)
                continue
            if r.status == "rejected":
                # Copy before delete: the change is never in neither place (crash-safe inside the transaction).
                moved = conn.execute(
                    "INSERT OR REPLACE INTO quarantine(change_id, tbl, row_id, op, columns, hlc, code, reason, "
                    "quarantined_at) SELECT change_id, tbl, row_id, op, columns, hlc, ?, ?, ? FROM outbox "
                    "WHERE change_id=?", (r.code or "REJECTED", r.reason or "", now, r.change_id)).rowcount
            elif r.status in ("accepted", "duplicate", "superseded"):
                moved = 1
            else:
                continue  # an unknown status leaves the change queued rather than guessing
            if moved:
                counts[r.status] += conn.execute("DELETE FROM outbox WHERE change_id=?", (r.change_id,)).rowcount
        if counts["superseded"]:
            conn.execute("INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                         "value=CAST(CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER) AS TEXT)",
                         (SUPERSEDED_TOTAL, str(counts["superseded"])))
    return counts


def _restamp(store: Store, conn, change_id: str) -> int:
    """Give a queued change (and its row's clocks) a new stamp; 1 if it was still queued."""
    row = conn.execute("SELECT tbl, row_id, hlc FROM outbox WHERE change_id=?", (change_id,)).fetchone()
    if row is None:
        return 0
    table, row_id, old = row
    new = store.clock.now().encode()
    conn.execute("UPDATE outbox SET hlc=? WHERE change_id=?", (new, change_id))
    store.repo(table).restamp(conn, row_id, old, new)
    return 1


def superseded_total(store: Store) -> int:
    """How many of this device's changes lost a merge to a later write (their rows took the winner)."""
    row = store.query("SELECT value FROM sync_state WHERE key=?", (SUPERSEDED_TOTAL,))
    return int(row[0][0]) if row else 0


def quarantined(store: Store) -> list[QuarantinedChange]:
    """Changes the server rejected, oldest first."""
    rows = store.query("SELECT change_id, tbl, row_id, op, code, reason, quarantined_at FROM quarantine "
                       "ORDER BY quarantined_at, change_id")
    return [QuarantinedChange(*r) for r in rows]


def retry(store: Store, change_id: str) -> None:
    """Put a quarantined change back in the outbox (after the cause was fixed, e.g. on the server)."""
    with store.transaction() as conn:
        if not conn.execute(
            "INSERT INTO outbox(change_id, tbl, row_id, op, columns, hlc) SELECT change_id, tbl, row_id, op, "
            "columns, hlc FROM quarantine WHERE change_id=?", (change_id,)
        ).rowcount:
            raise NotFoundError(f"no quarantined change {change_id}")
        conn.execute("DELETE FROM quarantine WHERE change_id=?", (change_id,))


def fix(store: Store, change_id: str, changes: dict[str, Any]) -> str:
    """Correct a quarantined insert or update with new values, validated like any write, and queue it again.

    The local row takes the corrected values too, so the device and the server agree once it is accepted; the
    corrected change goes out under a new change id and clock. Returns the new change id."""
    found = store.query("SELECT tbl, row_id, op, columns FROM quarantine WHERE change_id=?", (change_id,))
    if not found:
        raise NotFoundError(f"no quarantined change {change_id}")
    table, row_id, op, sealed = found[0]
    if op == "delete":
        raise ValidationError("a delete has nothing to fix: retry or discard it", field="op")
    if "id" in changes:
        raise ValidationError("id cannot change", field="id")
    sent = _columns(store, table, row_id, sealed) or {}
    repo = store.repo(table)
    with store.transaction() as conn:
        base = sent if op == "insert" else {**repo.get(row_id).model_dump(mode="json"), **sent}
        record = validate(table, {**base, **changes})
        wire = record.model_dump(mode="json")
        # What was sent plus the corrections: an insert of a profile carries only the columns it set (see
        # protocol.merge.insert_clock_keys), so its defaults stay out of the merge here too.
        delta = {k: wire[k] for k in {*sent, *changes}}
        hlc = repo.rewrite(conn, record, delta)
        new_change = store.record_change(conn, table, row_id, op, store.seal(delta, f"{table}|{row_id}"), hlc)
        conn.execute("DELETE FROM quarantine WHERE change_id=?", (change_id,))
    return new_change


def discard(store: Store, change_id: str) -> None:
    """Drop a quarantined change for good (the next pull brings the server's version of the row)."""
    with store.transaction() as conn:
        if not conn.execute("DELETE FROM quarantine WHERE change_id=?", (change_id,)).rowcount:
            raise NotFoundError(f"no quarantined change {change_id}")
