"""Crypto-shred: destroy a store's wrapped data key (and the sealed device keys), so nothing in it can ever be read
again. A revoked device does this when its server tells it to (protocol.request_auth.verify_shred)."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from protocol.codes import ErrorCode
from protocol.errors import StoreLockedError

if TYPE_CHECKING:
    from edge.store import Store

SHREDDED_META = "shredded_at"


class StoreShreddedError(StoreLockedError):
    """The store's data key was destroyed (the device was revoked): its data can no longer be read."""

    code = ErrorCode.STORE_SHREDDED


class _ShreddedCipher:
    """Stands in for the destroyed key in a store object still open: every seal or open is refused."""

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        raise StoreShreddedError("this store was crypto-shredded: nothing can be written to it")

    def open(self, blob: bytes, context: bytes) -> bytes:
        raise StoreShreddedError("this store was crypto-shredded: its data can no longer be read")


def crypto_shred(store: Store) -> str:
    """Delete the wrapped data key and the sealed device keys, and every row (whose index columns are in clear),
    with the bytes zeroed in the file and the WAL truncated; mark the store shredded and return the time. Nothing
    the store held can be read again."""
    from protocol.schema import TABLES

    when = dt.datetime.now(dt.UTC).isoformat()
    store.query("PRAGMA secure_delete=ON")  # deleted cells are overwritten with zeros, not just unlinked
    with store.transaction() as conn:
        conn.execute("DELETE FROM meta WHERE key IN ('wrapped_key', 'device_keys')")
        # Sealed payloads are already unreadable without the key; the plaintext index columns (owner, metric
        # type, times) are not, so the rows go too.
        for table in (*TABLES, "outbox", "quarantine", "sync_state"):
            conn.execute(f"DELETE FROM {table}")
        conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                     (SHREDDED_META, when))
    store.query("PRAGMA wal_checkpoint(TRUNCATE)")  # no copy of the old page is left in the WAL file
    store._cipher = _ShreddedCipher()  # the open object forgets the key too
    return when
