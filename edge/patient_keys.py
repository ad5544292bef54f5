"""Per-patient data keys on a clinic device: each patient's rows are sealed with a key of their own, wrapped by the
store's data key, so purging a patient destroys one small key and every copy of their rows becomes unreadable.

A row sealed this way starts with MAGIC and the owner's 16-byte id, then nonce + AES-256-GCM ciphertext (the same
associated data as any row: table and id). Rows of the device's own and signed-in users, and every row on a
personal device, keep the store's key.
"""
from __future__ import annotations

import secrets
import sqlite3
import uuid
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from edge.keys import NONCE_BYTES

if TYPE_CHECKING:
    from edge.store import Store

MAGIC = b"HSK1"
_HEAD = len(MAGIC) + 16


def _wrap_context(owner: str) -> bytes:
    return f"patient-key|{owner}".encode()


class PatientKeys:
    """The patient keys of one open store: created on a patient's first sealed row, cached, destroyed on purge."""

    def __init__(self, store: Store):
        self.store = store
        self._keys: dict[str, AESGCM | None] = {}
        self._exempt: set[str] | None = None  # None: not a clinic device (no patient keys at all)
        self._clinic: bool | None = None

    def reset(self) -> None:
        """Forget cached decisions (the device's clinic or users changed)."""
        self._keys.clear()
        self._clinic = None

    def _applies(self, owner: str | None) -> bool:
        if owner is None:
            return False
        if self._clinic is None:
            meta = {k: v for k, v in self.store.query(
                "SELECT key, value FROM meta WHERE key IN ('clinic_id', 'user_id', 'session_user_id')")}
            self._clinic = bool(meta.get("clinic_id"))
            self._exempt = {str(meta[k]) for k in ("user_id", "session_user_id") if meta.get(k)}
        return self._clinic and owner not in (self._exempt or set())

    def _key(self, conn: sqlite3.Connection, owner: str, create: bool) -> AESGCM | None:
        if owner in self._keys:
            return self._keys[owner]
        row = conn.execute("SELECT wrapped FROM patient_keys WHERE user_id=?", (owner,)).fetchone()
        if row is None and not create:
            return None
        if row is None:
            raw = secrets.token_bytes(32)
            conn.execute("INSERT INTO patient_keys(user_id, wrapped) VALUES (?, ?)",
                         (owner, self.store._cipher.seal(raw, _wrap_context(owner))))
        else:
            raw = self.store._cipher.open(row[0], _wrap_context(owner))
        self._keys[owner] = AESGCM(raw)
        return self._keys[owner]

    def seal(self, conn: sqlite3.Connection, owner: str | None, plaintext: bytes, context: bytes) -> bytes:
        """Seal a row's payload: with its owner's key on a clinic device, else with the store's key."""
        if not self._applies(owner):
            return self.store._cipher.seal(plaintext, context)
        nonce = secrets.token_bytes(NONCE_BYTES)
        aead = self._key(conn, owner, create=True)
        return MAGIC + uuid.UUID(owner).bytes + nonce + aead.encrypt(nonce, plaintext, context)

    def open(self, blob: bytes, context: bytes) -> bytes:
        """Open a payload sealed either way."""
        if blob[:len(MAGIC)] == MAGIC:
            owner = str(uuid.UUID(bytes=bytes(blob[len(MAGIC):_HEAD])))
            with self.store._lock:
                aead = self._key(self.store._conn, owner, create=False)
            if aead is not None:
                body = blob[_HEAD:]
                try:
                    return aead.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], context)
                except InvalidTag:
                    pass  # a store-key blob whose random nonce began with MAGIC (p = 2^-32): opened below
        return self.store._cipher.open(blob, context)

    def destroy(self, conn: sqlite3.Connection, owner: str) -> bool:
        """Delete a patient's key (inside the caller's transaction): what it sealed can never be read again."""
        self._keys.pop(owner, None)
        return conn.execute("DELETE FROM patient_keys WHERE user_id=?", (owner,)).rowcount > 0
