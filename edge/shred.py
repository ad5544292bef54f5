"""Crypto-shred: destroy a store's wrapped data key (and the sealed device keys), so nothing in it can ever be read
again. A revoked device does this when its server tells it to (protocol.request_auth.verify_shred)."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from protocol.errors import StoreLockedError

if TYPE_CHECKING:
    from edge.store import Store

SHREDDED_META = "shredded_at"


class StoreShreddedError(StoreLockedError):
    """The store's data key was destroyed (the device was revoked): its data can no longer be read."""

    code = "STORE_SHREDDED"


class _ShreddedCipher:
    """Stands in for the destroyed key in a store object still open: every seal or open is refused."""

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        raise StoreShreddedError("this store was crypto-shredded: nothing can be written to it")

    def open(self, blob: bytes, context: bytes) -> bytes:
        raise StoreShreddedError("this store was crypto-shredded: its data can no longer be read")


def crypto_shred(store: Store) -> str:
    """Delete the wrapped data key and the sealed device keys (bytes zeroed in the file, WAL truncated) and mark
    the store shredded; returns the time. Every sealed value in the store is then unreadable for good."""
    when = dt.datetime.now(dt.UTC).isoformat()
    store.query("PRAGMA secure_delete=ON")  # deleted cells are overwritten with zeros, not just unlinked
    with store.transaction() as conn:
        conn.execute("DELETE FROM meta WHERE key IN ('wrapped_key', 'device_keys')")
        conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                     (SHREDDED_META, when))
    store.query("PRAGMA wal_checkpoint(TRUNCATE)")  # no copy of the old page is left in the WAL file
    store._cipher = _ShreddedCipher()  # the open object forgets the key too
    return when
