"""Keys for PHI at rest: a random data key wrapped by a passphrase-derived key, and AES-256-GCM field sealing."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from protocol.errors import StoreCorruptError, StoreLockedError

ENV_PASSPHRASE = "HEALTHSYNC_PASSPHRASE"
ENV_KEY = "HEALTHSYNC_KEY"  # 64 hex characters: a raw 256-bit key-encryption key (for OS key stores / HSMs)
NONCE_BYTES = 12


@dataclass(frozen=True)
class KdfParams:
    """Argon2id parameters (RFC 9106 second recommended option: 64 MiB, 3 passes, 4 lanes)."""

    memory_kib: int = 64 * 1024
    iterations: int = 3
    lanes: int = 4

    def derive(self, passphrase: str, salt: bytes) -> bytes:
        kdf = Argon2id(
            salt=salt, length=32, iterations=self.iterations, lanes=self.lanes, memory_cost=self.memory_kib
        )
        return kdf.derive(passphrase.encode("utf-8"))


@dataclass(frozen=True)
class KeySource:
    """Where the key-encryption key comes from: a passphrase (through Argon2id) or a raw key."""

    passphrase: str | None = None
    raw_key: bytes | None = None

    @classmethod
    def from_env(cls) -> KeySource:
        """Read HEALTHSYNC_KEY or HEALTHSYNC_PASSPHRASE; raise StoreLockedError if neither is set."""
        raw = os.environ.get(ENV_KEY)
        if raw:
            try:
                key = bytes.fromhex(raw)
            except ValueError:
                key = b""
            if len(key) != 32:
                raise StoreLockedError(f"{ENV_KEY} must be 64 hex characters (a 256-bit key)")
            return cls(raw_key=key)
        phrase = os.environ.get(ENV_PASSPHRASE)
        if phrase:
            return cls(passphrase=phrase)
        raise StoreLockedError(
            "no key for the encrypted store", hint=f"set {ENV_PASSPHRASE} (or {ENV_KEY}) or pass --passphrase"
        )

    def kek(self, salt: bytes, params: KdfParams) -> bytes:
        if self.raw_key is not None:
            return self.raw_key
        if not self.passphrase:
            raise StoreLockedError("empty passphrase")
        return params.derive(self.passphrase, salt)


class FieldCipher:
    """Seals and opens values with AES-256-GCM; the associated data binds a ciphertext to its row and column."""

    def __init__(self, data_key: bytes):
        self._aead = AESGCM(data_key)

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, blob: bytes, context: bytes) -> bytes:
        try:
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context)
        except InvalidTag:
            raise StoreCorruptError(
                "an encrypted value failed its integrity check (tampered or moved between rows)"
            ) from None


def wrap_data_key(data_key: bytes, kek: bytes) -> bytes:
    """Encrypt the data key under the key-encryption key."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(kek).encrypt(nonce, data_key, b"healthsync-dek-v1")


def unwrap_data_key(wrapped: bytes, kek: bytes) -> bytes:
    """Decrypt the data key; a wrong passphrase fails the GCM tag and is reported as such."""
    try:
        return AESGCM(kek).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], b"healthsync-dek-v1")
    except InvalidTag:
        raise StoreLockedError("wrong passphrase or key for this store; nothing was changed") from None
