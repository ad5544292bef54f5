"""The edge store: one SQLite file (WAL) holding every table, PHI sealed with AES-GCM, writes captured in an outbox.

Every write goes through a Repository: validate with the shared schema → seal → write the row and its change
record in one transaction (principle 2: no stored-but-unqueued write, whatever crashes when).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

import pydantic_core

from edge import files, migrations
from edge.keys import FieldCipher, KdfParams, KeySource, unwrap_data_key, wrap_data_key
from protocol.errors import HealthSyncError, NotFoundError, SchemaVersionError, StoreCorruptError, ValidationError
from protocol.hlc import HybridLogicalClock, Timestamp
from protocol.merge import insert_clock_keys
from protocol.schema import (
    APPOINTMENT_TRANSITIONS,
    STORED,
    Policy,
    Record,
    TableSpec,
    new_id,
    table_spec,
    validate,
)

T = TypeVar("T", bound=Record)
MAGIC = b"healthsync-edge-store"
# One encoder for every sealed payload: json.dumps builds a new encoder per call when given options.
_JSON = json.JSONEncoder(separators=(",", ":"), default=str)
# A row's JSON form (already JSON types) as compact UTF-8 bytes: pydantic-core's serializer, about 3x faster than
# the json module's for the 100k rows of an initial sync; any JSON reader reads both the same.
_row_json = pydantic_core.to_json


def _index_value(value: Any) -> str | None:
    """Plaintext index column text whose string order matches value order (datetimes in UTC)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.microsecond and value.year >= 1000 and value.tzinfo is not None and not value.utcoffset():
            # Already UTC (every validated row is): isoformat gives the same text with "+00:00" at the end.
            return value.isoformat()[:-6] + "Z"
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        if value.year >= 1000:
            # The same text as the strftime below, about 3x faster (bulk pulls format 100k of these).
            return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)


def wall_ms() -> int:
    """This device's wall clock in milliseconds (a store may be given another, e.g. a test's wrong clock)."""
    return int(time.time() * 1000)


# meta keys of the clock: the last timestamp issued or absorbed, the newest seen from the server, and the offset
# of the server's wall clock from ours (learned on each sync)
CLOCK_KEY, SERVER_CLOCK_KEY, OFFSET_KEY = "hlc_last", "hlc_server", "clock_offset_ms"


class Store:
    """An open edge store; get repositories with `store.repo(table)` or attributes named after tables."""

    def __init__(self, conn: sqlite3.Connection, path: Path, cipher: FieldCipher, device_id: str, capture: bool):
        self._conn = conn
        self.path = path
        self._cipher = cipher
        from edge.patient_keys import PatientKeys

        self.patient_keys = PatientKeys(self)  # per-patient keys of a clinic device (edge/patient_keys.py)
        self.device_id = device_id
        self.capture = capture
        self._lock = threading.RLock()
        self._in_txn = False
        self.wall_ms = wall_ms
        self.clock_offset_ms = int(self.meta(OFFSET_KEY, 0) or 0)
        # Stamps use our wall clock corrected by the server's offset, so a device whose clock is wrong still
        # stamps close to the server's time (and is not refused as skewed).
        self.clock = HybridLogicalClock(device_id, self._last_clock(),
                                        wall=lambda: self.wall_ms() + self.clock_offset_ms)
        self._persisted_clock = self.clock.last

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        path: str | os.PathLike,
        keys: KeySource | None = None,
        *,
        create: bool = False,
        kdf: KdfParams = KdfParams(),
        capture: bool = True,
    ) -> Store:
        """Open (or with create=True, initialise) a store; migrations run on open. Raises StoreLockedError on a
        wrong key, without touching the data."""
        path = Path(path)
        keys = keys or KeySource.from_env()
        if not path.exists() and not create:
            raise NotFoundError(f"no store at {path}", hint="run `healthsync edge init` first")
        _private_files(path)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreCorruptError(f"{path} is not a readable SQLite store: {exc}") from None
        if version > migrations.LATEST:
            conn.close()
            raise SchemaVersionError(
                f"store schema v{version} is newer than this software (v{migrations.LATEST})",
                hint="upgrade healthsync",
            )
        try:
            if version == 0:
                if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    raise StoreCorruptError(f"{path} is an SQLite file but not a HealthSync store")
                data_key = cls._initialise(conn, keys, kdf)
            else:
                data_key = cls._unlock(conn, keys)
            cls._migrate(conn, max(version, 1))
        except BaseException:
            conn.close()
            raise
        device_id = conn.execute("SELECT value FROM meta WHERE key='device_id'").fetchone()[0]
        return cls(conn, path, FieldCipher(data_key), str(device_id), capture)

    @staticmethod
    def _initialise(conn: sqlite3.Connection, keys: KeySource, kdf: KdfParams) -> bytes:
        data_key = secrets.token_bytes(32)
        conn.execute("BEGIN IMMEDIATE")
        for stmt in _split(migrations.MIGRATIONS[0]):
            conn.execute(stmt)
        meta = {"magic": MAGIC, **_wrapped_key_meta(data_key, keys, kdf), "device_id": str(new_id())}
        conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", meta.items())
        conn.execute("PRAGMA user_version=1")
        conn.execute("COMMIT")
        return data_key

    @staticmethod
    def _unlock(conn: sqlite3.Connection, keys: KeySource) -> bytes:
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        if meta.get("magic") != MAGIC:
            raise StoreCorruptError("not a HealthSync store (magic missing)")
        if meta.get("shredded_at"):
            from edge.shred import StoreShreddedError

            raise StoreShreddedError(f"this store was crypto-shredded at {meta['shredded_at']} (its device was "
                                     "revoked): its data can no longer be read", hint="initialise a new store")
        params = json.loads(meta["kdf"])
        if params["alg"] == "raw" and keys.raw_key is None:
            raise HealthSyncError("this store is protected by a raw key", hint="set HEALTHSYNC_KEY")
        kdf = KdfParams(memory_kib=params["m"], iterations=params["t"], lanes=params["p"])
        return unwrap_data_key(meta["wrapped_key"], keys.kek(meta["salt"], kdf))

    @classmethod
    def change_key(cls, path: str | os.PathLike, old: KeySource, new: KeySource, kdf: KdfParams = KdfParams()
                   ) -> None:
        """Re-wrap the data key under a new passphrase or key: the old one is verified first, the swap is one
        transaction (a crash leaves the old or the new wrap, never neither), and no record is re-encrypted."""
        path = Path(path)
        if not path.exists():
            raise NotFoundError(f"no store at {path}", hint="run `healthsync edge init` first")
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("BEGIN IMMEDIATE")
            try:
                data_key = cls._unlock(conn, old)
                conn.executemany("UPDATE meta SET value=? WHERE key=?",
                                 [(v, k) for k, v in _wrapped_key_meta(data_key, new, kdf).items()])
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise HealthSyncError(f"{path} could not be re-keyed ({exc}); nothing was changed",
                                  hint="close other programs using the store and try again") from None
        finally:
            conn.close()

    @staticmethod
    def _migrate(conn: sqlite3.Connection, version: int) -> None:
        for target in range(version, migrations.LATEST):
            conn.execute("BEGIN IMMEDIATE")
            for stmt in _split(migrations.MIGRATIONS[target]):
                conn.execute(stmt)
            conn.execute(f"PRAGMA user_version={target + 1}")
            conn.execute("COMMIT")

    def close(self) -> None:
        """Checkpoint and close."""
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing

    @property
    def schema_version(self) -> int:
        return self._conn.execute("PRAGMA user_version").fetchone()[0]

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One SQLite write transaction (nested calls join the outer one)."""
        with self._lock:
            if self._in_txn:
                yield self._conn
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._in_txn = True
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                last = self._persist_clock()
                self._conn.execute("COMMIT")
                self._persisted_clock = last
            finally:
                self._in_txn = False

    def query(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        """Read-only query helper for modules of the edge (outbox, sync)."""
        with self._lock:
            cur = self._conn.execute(sql, params)
            return cur.fetchall()

    def subkey(self, label: str) -> bytes:
        """A key for one purpose derived from the data key (HKDF): unreadable without the store's key."""
        return self._cipher.derive(label)

    def seal(self, obj: Any, context: str) -> bytes:
        return self._cipher.seal(_JSON.encode(obj).encode(), context.encode())

    def unseal(self, blob: bytes, context: str) -> Any:
        return json.loads(self.patient_keys.open(blob, context.encode()))

    def meta(self, key: str, default: Any = None) -> Any:
        row = self.query("SELECT value FROM meta WHERE key=?", (key,))
        return row[0][0] if row else default

    def set_meta(self, key: str, value: Any) -> None:
        self.patient_keys.reset()  # the device's clinic or users may have changed
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    def _last_clock(self) -> Timestamp | None:
        """Where the clock resumes: the persisted clock, or a pending change's stamp (stores older than it)."""
        stamps = [self.meta(CLOCK_KEY), self.meta(SERVER_CLOCK_KEY),
                  self._conn.execute("SELECT max(hlc) FROM outbox").fetchone()[0]]
        return max((Timestamp.decode(s) for s in stamps if s), default=None)

    def _persist_clock(self) -> Timestamp:
        """Save the clock in the committing transaction when it moved, so a reopened store never goes back."""
        last = self.clock.last
        if last != self._persisted_clock:
            self._conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                               "value=excluded.value", (CLOCK_KEY, last.encode()))
        return last

    def saw_server_clock(self, conn: sqlite3.Connection, stamp: Timestamp) -> None:
        """Absorb the newest stamp pulled from the server (inside the caller's transaction) and remember it: the
        floor the clock never goes below, even when rewound."""
        self.clock.receive(stamp)
        seen = self.meta(SERVER_CLOCK_KEY)
        if seen is None or Timestamp.decode(seen) < stamp:
            conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                         "value=excluded.value", (SERVER_CLOCK_KEY, stamp.encode()))

    def set_clock_offset(self, offset_ms: int) -> None:
        """Use (and keep) this offset of the server's wall clock from ours."""
        self.clock_offset_ms = int(offset_ms)
        self.set_meta(OFFSET_KEY, str(self.clock_offset_ms))

    def rewind_clock(self) -> None:
        """After the server refused our stamps as too far ahead: restart the clock at the corrected wall clock,
        never below the newest stamp seen from the server (so we still order after what we pulled)."""
        seen = self.meta(SERVER_CLOCK_KEY)
        floor = Timestamp(self.wall_ms() + self.clock_offset_ms, 0, self.device_id)
        self.clock.rewind(max(floor, Timestamp.decode(seen)) if seen else floor)
        with self.transaction():
            pass  # persists the rewound clock

    def record_change(self, conn: sqlite3.Connection, table: str, row_id: str, op: str, columns: bytes | None,
                      hlc: str) -> str | None:
        """Append a change to the outbox inside the caller's transaction; returns its id (None with capture off)."""
        if not self.capture:
            return None
        change_id = str(new_id())
        conn.execute(
            "INSERT INTO outbox(change_id, tbl, row_id, op, columns, hlc) VALUES (?, ?, ?, ?, ?, ?)",
            (change_id, table, row_id, op, columns, hlc),
        )
        return change_id

    def repo(self, table: str) -> Repository:
        """The repository of a table."""
        return Repository(self, table_spec(table))

    def __getattr__(self, name: str) -> Repository:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.repo(name)
        except ValidationError:
            raise AttributeError(name) from None


def _wrapped_key_meta(data_key: bytes, keys: KeySource, kdf: KdfParams) -> dict[str, Any]:
    """The meta rows that hold the data key wrapped under `keys` (a fresh salt each time)."""
    salt = secrets.token_bytes(16)
    params = {"alg": "argon2id" if keys.raw_key is None else "raw", "m": kdf.memory_kib, "t": kdf.iterations,
              "p": kdf.lanes}
    return {"kdf": json.dumps(params), "salt": salt, "wrapped_key": wrap_data_key(data_key, keys.kek(salt, kdf))}


def _private_files(path: Path) -> None:
    """The store file is created 0600 before SQLite opens it (its -wal and -shm take the main file's mode), in a
    0700 directory when the directory is new; a store made before this is narrowed to 0600."""
    if path.exists():
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            files.tighten(p)
        return
    files.private_dir(path.parent)
    try:
        files.create_private(path)  # SQLite takes an empty file as a new database
    except FileExistsError:
        pass  # created meanwhile by another opener: SQLite's own locking takes it from here


def _split(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip() and not s.strip().startswith("--")]


class Repository(Generic[T]):
    """Typed access to one table: the only way pipelines write."""

    def __init__(self, store: Store, spec: TableSpec):
        self.store = store
        self.spec = spec
        self.table = spec.name

    def _ctx(self, row_id: str) -> str:
        return f"{self.table}|{row_id}"

    def _row_values(self, record: Record) -> dict[str, Any]:
        owner = getattr(record, self.spec.owner) if self.spec.owner else None
        values = {"id": str(record.id), "owner": None if owner is None else str(owner)}
        values.update({c: _index_value(getattr(record, c)) for c in self.spec.index})
        values["supersedes"] = _index_value(getattr(record, "supersedes", None))
        return values

    def _write_row(self, conn: sqlite3.Connection, record: Record, hlc: str, clocks: dict[str, str],
                   deleted: bool = False, *, new: bool = False) -> bytes:
        values = self._row_values(record)
        doc = record.model_dump(mode="json")
        payload = self.store.patient_keys.seal(conn, values["owner"], _row_json(doc),
                                               self._ctx(values["id"]).encode())
        values.update(payload=payload, hlc=hlc, clocks=json.dumps(clocks), deleted=int(deleted))
        cols = ", ".join(values)
        marks = ", ".join("?" * len(values))
        if new:
            try:
                conn.execute(f"INSERT INTO {self.table} ({cols}) VALUES ({marks})", list(values.values()))
            except sqlite3.IntegrityError:
                raise ValidationError(f"{self.table} {values['id']} already exists", field="id") from None
        else:
            updates = ", ".join(f"{c}=excluded.{c}" for c in values if c != "id")
            conn.execute(
                f"INSERT INTO {self.table} ({cols}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {updates}",
                list(values.values()),
            )
        return payload

    def write_pulled(self, conn: sqlite3.Connection, rows: list[tuple[Record, dict[str, Any], str, dict[str, str],
                                                                      bool]]) -> None:
        """Upsert rows pulled from the server — (validated record, its JSON form, hlc, clocks, deleted) — in one
        executemany, sealed as `_write_row` seals them and not captured in the outbox (they are the server's)."""
        if not rows:
            return
        owner, index, table = self.spec.owner, self.spec.index, self.table
        has_supersedes = "supersedes" in self.spec.model.model_fields
        cols = ["id", "owner", *index, "supersedes", "payload", "hlc", "clocks", "deleted"]
        updates = ", ".join(f"{c}=excluded.{c}" for c in cols if c != "id")
        seal = functools.partial(self.store.patient_keys.seal, conn)
        params = []
        for record, doc, hlc, clocks, deleted in rows:
            values = record.__dict__
            row_id = doc["id"]  # the JSON form holds the ids as text already: no str(UUID) per row
            params.append((
                row_id, doc[owner] if owner else None,
                *(v if type(v) is str else _index_value(v) for v in (values[c] for c in index)),
                _index_value(values["supersedes"]) if has_supersedes else None,
                seal(doc[owner] if owner else None, _row_json(doc),  # as _write_row seals
                     f"{table}|{row_id}".encode()),
                hlc, json.dumps(clocks) if clocks else "{}", int(deleted)))
        conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                         f"ON CONFLICT(id) DO UPDATE SET {updates}", params)

    def add(self, data: T | dict[str, Any]) -> T:
        """Validate and insert a new record; its change is captured in the same transaction."""
        record = validate(self.table, data)
        self._refuse_server_owned()
        row_id = str(record.id)
        if self.spec.id_from and (wrong_id := self.spec.id_error({**record.__dict__, "id": row_id})):
            raise ValidationError(wrong_id, field="id")
        with self.store.transaction() as conn:
            if self.spec.policy is Policy.APPEND_ONLY and record.supersedes is not None:
                original, _ = self._get_row(conn, str(record.supersedes))
                if getattr(original, self.spec.owner) != getattr(record, self.spec.owner):
                    raise ValidationError("a correction must supersede a row of the same patient", field="supersedes")
            hlc = self.store.clock.now().encode()
            if self.spec.policy is Policy.LWW_COLUMNS:
                # Only the columns this write set get a clock and travel (protocol.merge.insert_clock_keys): a
                # device joining a user with an empty profile must not wipe the profile the others hold.
                wire = record.model_dump(mode="json")
                given = {k: wire[k] for k in {"id", *record.model_fields_set}}
                clocks = dict.fromkeys(insert_clock_keys(self.spec, given, wire), hlc)
                self._write_row(conn, record, hlc, clocks, new=True)
                columns = self.store.seal({k: given[k] for k in clocks}, self._ctx(row_id))
            else:
                # The insert's change carries the whole record: reuse the sealed payload (same bytes, context).
                columns = self._write_row(conn, record, hlc, {}, new=True)
            self.store.record_change(conn, self.table, row_id, "insert", columns, hlc)
        return record  # type: ignore[return-value]

    def add_many(self, items: list[T | dict[str, Any]]) -> list[T]:
        """Insert several records in one transaction."""
        with self.store.transaction():
            return [self.add(item) for item in items]

    def update(self, row_id: uuid.UUID | str, **changes: Any) -> T:
        """Change columns of a mutable row (profile LWW, appointment status, family members)."""
        self._refuse_server_owned()
        if self.spec.policy is Policy.APPEND_ONLY:
            raise ValidationError(
                f"{self.table} is append-only: record a correction with correct() instead", field="table"
            )
        row_id = str(row_id)
        with self.store.transaction() as conn:
            current, clocks = self._get_row(conn, row_id)
            doc = current.model_dump()
            if "id" in changes:
                raise ValidationError("id cannot change", field="id")
            if self.spec.policy is Policy.STATE_MACHINE and "status" in changes:
                allowed = APPOINTMENT_TRANSITIONS[current.status]
                if changes["status"] != current.status and changes["status"] not in allowed:
                    raise ValidationError(
                        f"appointment cannot go from {current.status} to {changes['status']}", field="status"
                    )
            if self.spec.policy is Policy.DOC_MEMBERS and "members" in changes:
                members = dict(doc["members"])
                changed_members = list(changes["members"])
                for mid, member in changes.pop("members").items():
                    if member is None:
                        members.pop(mid, None)
                    else:
                        members[mid] = member
                doc["members"] = members
            else:
                changed_members = []
            doc.update(changes)
            record = validate(self.table, doc)
            hlc = self.store.clock.now().encode()
            wire = record.model_dump(mode="json")
            delta = {k: wire[k] for k in changes}
            for k in delta:
                clocks[k] = hlc
            if changed_members:
                # Per-member delta and clocks (None = removed), so relatives added on two devices both survive.
                delta["members"] = {mid: wire["members"].get(mid) for mid in changed_members}
                clocks.update({f"members.{mid}": hlc for mid in changed_members})
            self._write_row(conn, record, hlc, clocks)
            self.store.record_change(conn, self.table, row_id, "update", self.store.seal(delta, self._ctx(row_id)),
                                     hlc)
        return record  # type: ignore[return-value]

    def correct(self, row_id: uuid.UUID | str, **changes: Any) -> T:
        """Record a correction of an append-only observation: a new row that supersedes the old one."""
        current = self.get(row_id)
        doc = current.model_dump()
        doc.update(changes, id=new_id(), supersedes=current.id)
        return self.add(doc)

    def rewrite(self, conn: sqlite3.Connection, record: Record, columns: Iterable[str]) -> str:
        """Overwrite a local row with a corrected record (inside the caller's transaction), advancing the clocks of
        `columns`; returns the new HLC. For repairing a change the server rejected, never for ordinary writes."""
        row_id = str(record.id)
        row = conn.execute(f"SELECT clocks FROM {self.table} WHERE id=?", (row_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"{self.table} {row_id} not found")
        clocks = json.loads(row[0])
        hlc = self.store.clock.now().encode()
        if clocks:  # tables merged per column keep per-column clocks; append-only tables keep none
            clocks.update(dict.fromkeys(columns, hlc))
        self._write_row(conn, record, hlc, clocks)
        return hlc

    def restamp(self, conn: sqlite3.Connection, row_id: str, old: str, new: str) -> None:
        """Move a local row's clocks from a refused stamp to its replacement (inside the caller's transaction)."""
        row = conn.execute(f"SELECT hlc, clocks FROM {self.table} WHERE id=?", (row_id,)).fetchone()
        if row is None:
            return
        clocks = {k: new if v == old else v for k, v in json.loads(row[1]).items()}
        conn.execute(f"UPDATE {self.table} SET hlc=?, clocks=? WHERE id=?",
                     (new if row[0] == old else row[0], json.dumps(clocks), row_id))

    def delete(self, row_id: uuid.UUID | str) -> None:
        """Delete as a tombstone: the row stays (sealed) so the delete can sync, and reads hide it."""
        self._refuse_server_owned()
        row_id = str(row_id)
        with self.store.transaction() as conn:
            record, clocks = self._get_row(conn, row_id)
            hlc = self.store.clock.now().encode()
            self._write_row(conn, record, hlc, clocks, deleted=True)
            self.store.record_change(conn, self.table, row_id, "delete", None, hlc)

    def get(self, row_id: uuid.UUID | str) -> T:
        """One live record by id, or NotFoundError."""
        with self.store._lock:
            return self._get_row(self.store._conn, str(row_id))[0]

    def _get_row(self, conn: sqlite3.Connection, row_id: str) -> tuple[T, dict[str, str]]:
        row = conn.execute(f"SELECT payload, clocks FROM {self.table} WHERE id=? AND deleted=0", (row_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"{self.table} {row_id} not found")
        doc = self.store.unseal(row[0], self._ctx(row_id))
        # Stored rows skip the size caps (they govern new writes): a row kept from before them still reads.
        return self.spec.model.model_validate(doc, context=STORED), json.loads(row[1])  # type: ignore[return-value]

    def list(
        self,
        *,
        owner: uuid.UUID | str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int = 100,
        offset: int = 0,
        include_superseded: bool = False,
        **equals: Any,
    ) -> list[T]:
        """Live records, newest first, filtered by owner, index columns and a time window."""
        where, params = ["t.deleted=0"], []
        if owner is not None:
            where.append("t.owner=?")
            params.append(str(owner))
        for col, val in equals.items():
            if col not in self.spec.index:
                raise ValidationError(f"{self.table} cannot be filtered by {col}", field=col)
            where.append(f"t.{col}=?")
            params.append(_index_value(val))
        time_col = next((c for c in self.spec.index if c.endswith("_at")), None)
        for bound, op in ((since, ">="), (until, "<")):
            if bound is not None:
                if time_col is None:
                    raise ValidationError(f"{self.table} has no time column to filter by", field="since")
                where.append(f"t.{time_col}{op}?")
                params.append(_index_value(bound))
        if not include_superseded and self.spec.policy is Policy.APPEND_ONLY:
            # Only the owner's own correction hides a row: another patient's row cannot supersede it.
            where.append(f"NOT EXISTS (SELECT 1 FROM {self.table} s WHERE s.supersedes=t.id AND s.owner IS t.owner "
                         "AND s.deleted=0)")
        order = f"t.{time_col} DESC, t.id DESC" if time_col else "t.id DESC"
        sql = f"SELECT id, payload FROM {self.table} t WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ? OFFSET ?"
        rows = self.store.query(sql, [*params, int(limit), int(offset)])
        return [self.spec.model.model_validate(self.store.unseal(p, self._ctx(i)), context=STORED)  # type: ignore
                for i, p in rows]

    def count(self, owner: uuid.UUID | str | None = None) -> int:
        sql = f"SELECT count(*) FROM {self.table} WHERE deleted=0" + (" AND owner=?" if owner else "")
        return self.store.query(sql, (str(owner),) if owner else ())[0][0]

    def _refuse_server_owned(self) -> None:
        if self.spec.policy is Policy.SERVER_OWNED and self.store.capture:
            raise ValidationError(f"{self.table} is owned by the server and read-only on devices", field="table")
