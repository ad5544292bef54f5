"""Merge policies as pure functions of (row, change, clock), shared by the server's reconcile and the edge's pull.

A row's sync state is its record (wire form), a clock per column (per member for `family_graph`, keys
`members.<id>`), the row's latest clock and a tombstone flag. Because each merge is a per-key maximum by HLC
(ties are impossible: clocks carry the node), replicas converge whatever the order or repetition of delivery
(principle 3). The one order-dependent policy, the appointment state machine, is decided by the server alone.

The device-side apply of pulled rows is `edge.pull`.
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from protocol.changeset import Change
from protocol.codes import ErrorCode
from protocol.errors import HealthSyncError, ValidationError
from protocol.hlc import Timestamp
from protocol.schema import APPOINTMENT_TRANSITIONS, TABLES, Policy, TableSpec, validate

MEMBER_PREFIX = "members."

_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = True


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector during a bulk merge (a pushed changeset on the server, a pulled page on
    the edge).

    A 5,000-change push allocates some 100k short-lived acyclic objects (parsed changes, validated records), and
    the collector's passes over a large heap cost up to a quarter of the time (measured); reference counting frees
    them either way. Counted, so overlapping merges re-enable it only when the last one ends.
    """
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
        _gc_holders += 1
        gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


@dataclass
class RowState:
    """One row as sync sees it: record (JSON form), per-key clocks, latest clock, tombstone."""

    doc: dict[str, Any]
    clocks: dict[str, str] = field(default_factory=dict)
    hlc: str = ""
    deleted: bool = False

    def to_wire(self) -> dict[str, Any]:
        return {"doc": self.doc, "clocks": self.clocks, "hlc": self.hlc, "deleted": self.deleted}

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> RowState:
        return cls(d["doc"], dict(d.get("clocks") or {}), d["hlc"], bool(d["deleted"]))


class Rejected(HealthSyncError):
    """A change the merge refuses; becomes a rejected receipt carrying `code` and the message."""

    def __init__(self, code: ErrorCode | str, message: str):
        super().__init__(message)
        self.code = ErrorCode(code)  # a receipt's code: from the registry, or this raises


def _wire(table: str, doc: dict[str, Any]) -> dict[str, Any]:
    try:
        return validate(table, doc).model_dump(mode="json")
    except ValidationError as exc:
        raise Rejected(exc.code, exc.message) from None


def _keys_of(spec: TableSpec, doc: dict[str, Any]) -> list[str]:
    keys = [k for k in doc if not (spec.policy is Policy.DOC_MEMBERS and k == "members")]
    if spec.policy is Policy.DOC_MEMBERS:
        keys += [MEMBER_PREFIX + m for m in doc.get("members") or {}]
    return keys


def insert_clock_keys(spec: TableSpec, columns: dict[str, Any], doc: dict[str, Any]) -> list[str]:
    """The keys an insert stamps with its clock (the same rule on the edge and the server).

    For a profile (last-writer-wins per column) only the columns the writer set to a value: a device that creates
    the row it joins (a second device of a user) must not win with the nulls and defaults it never chose. An
    insert's null sets nothing; an explicit clear is an update naming the column. Other tables stamp every key.
    """
    if spec.policy is Policy.LWW_COLUMNS:
        return [k for k, v in columns.items() if v is not None and k in doc]
    return _keys_of(spec, doc)


def _get(doc: dict[str, Any], key: str) -> Any:
    if key.startswith(MEMBER_PREFIX):
        return (doc.get("members") or {}).get(key[len(MEMBER_PREFIX):])
    return doc.get(key)


def _put(doc: dict[str, Any], key: str, value: Any) -> None:
    if key.startswith(MEMBER_PREFIX):
        members = dict(doc.get("members") or {})
        if value is None:
            members.pop(key[len(MEMBER_PREFIX):], None)
        else:
            members[key[len(MEMBER_PREFIX):]] = value
        doc["members"] = members
    else:
        doc[key] = value


def _delta_keys(spec: TableSpec, columns: dict[str, Any]) -> dict[str, Any]:
    """A change's columns as clock keys: a members map becomes one key per member."""
    out = {}
    for k, v in columns.items():
        if spec.policy is Policy.DOC_MEMBERS and k == "members":
            if not isinstance(v, dict):
                raise Rejected("VALIDATION_FAILED", "members must be a map of member id to member")
            out.update({MEMBER_PREFIX + m: member for m, member in v.items()})
        else:
            out[k] = v
    return out


def apply_change(table: str, current: RowState | None, change: Change) -> RowState:
    """Merge one pushed change into the current row (None if absent); raises Rejected with a stable code."""
    spec = TABLES.get(table)
    if spec is None:
        raise Rejected("UNKNOWN_TABLE", f"unknown table {table!r}")
    if spec.policy is Policy.SERVER_OWNED:
        raise Rejected("READ_ONLY_TABLE", f"{table} is owned by the server and read-only on devices")
    if change.op == "delete":
        if current is None:
            raise Rejected("NOT_FOUND", f"{table} {change.pk} does not exist")
        return RowState(current.doc, current.clocks, max(current.hlc, change.hlc), True)
    columns = dict(change.columns or {})
    if change.op == "insert":
        if str(columns.get("id")) != change.pk:
            raise Rejected("VALIDATION_FAILED", "the record's id does not match the change's primary key")
        doc = _wire(table, columns)
        if wrong_id := spec.id_error(doc):
            raise Rejected("VALIDATION_FAILED", wrong_id)
        incoming = RowState(doc, dict.fromkeys(insert_clock_keys(spec, columns, doc), change.hlc), change.hlc)
        if current is None:
            return incoming
        if spec.policy is Policy.APPEND_ONLY:
            return current  # observations never change: a second insert of the same id is a duplicate
        if spec.policy is Policy.STATE_MACHINE:
            _check_transition(current.doc.get("status"), doc.get("status"), change)
        if spec.policy is Policy.LWW_COLUMNS:
            # Only what the insert set takes part in the merge: the defaults of the columns it left out were never
            # chosen by anyone, so they must not replace the row's values.
            incoming = RowState({k: doc[k] for k in incoming.clocks}, incoming.clocks, change.hlc)
        return merge_rows(spec, current, incoming)
    # update
    if spec.policy is Policy.APPEND_ONLY:
        raise Rejected("APPEND_ONLY", f"{table} is append-only: send a correction (a new row) instead")
    if current is None:
        raise Rejected("NOT_FOUND", f"{table} {change.pk} does not exist")
    if "id" in columns and str(columns["id"]) != change.pk:
        raise Rejected("VALIDATION_FAILED", "id cannot change")
    delta = _delta_keys(spec, columns)
    unknown = [k for k in delta if not k.startswith(MEMBER_PREFIX) and k not in spec.model.model_fields]
    if unknown:
        raise Rejected("UNKNOWN_COLUMN", f"{table} has no column {unknown[0]!r}")
    if spec.policy is Policy.STATE_MACHINE and "status" in delta:
        _check_transition(current.doc.get("status"), delta["status"], change)
    doc, clocks = dict(current.doc), dict(current.clocks)
    for key, value in delta.items():
        if change.hlc > clocks.get(key, ""):
            _put(doc, key, value)
            clocks[key] = change.hlc
    return RowState(_wire(table, doc), clocks, max(current.hlc, change.hlc), current.deleted)


def _check_transition(old: str | None, new: str | None, change: Change) -> None:
    if old is None or new is None or old == new:
        return
    if new not in APPOINTMENT_TRANSITIONS.get(old, set()):
        raise Rejected("ILLEGAL_TRANSITION", f"appointment {change.pk} cannot go from {old} to {new} "
                                             f"(it is {old} on the server)")


def merge_rows(spec: TableSpec, a: RowState, b: RowState) -> RowState:
    """Per-key last-writer-wins union of two states of one row; tombstones win (a delete is never undone)."""
    if spec.policy is Policy.APPEND_ONLY:
        return RowState(a.doc, a.clocks, max(a.hlc, b.hlc), a.deleted or b.deleted)
    doc, clocks = dict(a.doc), dict(a.clocks)
    for key in set(_keys_of(spec, b.doc)) | set(b.clocks):
        theirs, ours = b.clocks.get(key, ""), clocks.get(key, "")
        # Unclocked on both sides (rows written outside sync): b's value, unless b holds nothing there, since a
        # value nobody set must not erase one.
        if theirs > ours or (not theirs and not ours and key in b.doc and _get(b.doc, key) is not None):
            _put(doc, key, _get(b.doc, key))
            if theirs:
                clocks[key] = theirs
    return RowState(doc, clocks, max(a.hlc, b.hlc), a.deleted or b.deleted)


def is_hlc(text: str) -> bool:
    try:
        Timestamp.decode(text)
        return True
    except ValueError:
        return False


def scope_checksum(rows: Iterable[tuple[str, str, bool]]) -> str:
    """Checksum of a scope (table) from (id, hlc, deleted) rows; the server computes the same in SQL."""
    text = ",".join(f"{i}:{h}:{int(d)}" for i, h, d in sorted(rows))
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - divergence detection, not security
