"""The device's own key pairs (Ed25519 to sign, X25519 to receive) and the server key pinned at enrollment.

Private halves live in the store's `meta`, sealed with the store's data key: whoever cannot open the store cannot
sign as the device, and destroying the store key shreds the device identity with its data.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from edge.store import Store
from protocol.changeset import raw_private, raw_public
from protocol.errors import HealthSyncError

_META_KEYS = "device_keys"
_META_SERVER = "sync_server"


@dataclass(frozen=True)
class DeviceKeys:
    """The device's signing (Ed25519) and agreement (X25519) key pairs."""

    signing: Ed25519PrivateKey
    agreement: X25519PrivateKey

    @property
    def signing_public(self) -> bytes:
        return raw_public(self.signing)

    @property
    def agreement_public(self) -> bytes:
        return raw_public(self.agreement)


@dataclass(frozen=True)
class ServerPin:
    """The server this device enrolled with: its URL, its X25519 public key, and the user enrolled."""

    url: str
    public_key: bytes
    user_id: str


def device_keys(store: Store) -> DeviceKeys:
    """The device's key pairs, generated and sealed into the store on first use."""
    sealed = store.meta(_META_KEYS)
    if sealed is None:
        keys = DeviceKeys(Ed25519PrivateKey.generate(), X25519PrivateKey.generate())
        doc = {"ed25519": raw_private(keys.signing).hex(), "x25519": raw_private(keys.agreement).hex()}
        with store.transaction() as conn:
            # Re-check inside the write lock: two first uses must not mint two identities.
            row = conn.execute("SELECT value FROM meta WHERE key=?", (_META_KEYS,)).fetchone()
            if row is None:
                conn.execute("INSERT INTO meta(key, value) VALUES (?, ?)",
                             (_META_KEYS, store.seal(doc, "meta|device_keys")))
                return keys
            sealed = row[0]
    doc = store.unseal(sealed, "meta|device_keys")
    return DeviceKeys(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(doc["ed25519"])),
                      X25519PrivateKey.from_private_bytes(bytes.fromhex(doc["x25519"])))


def pin_server(store: Store, url: str, public_key: bytes, user_id: str) -> ServerPin:
    """Record the server's public key at enrollment; a later enrollment to another key must be explicit."""
    if len(public_key) != 32:
        raise HealthSyncError("server public key must be 32 bytes (X25519)")
    pin = ServerPin(url.rstrip("/"), public_key, str(user_id))
    store.set_meta(_META_SERVER, json.dumps({"url": pin.url, "public_key": public_key.hex(), "user_id": pin.user_id}))
    return pin


def server_pin(store: Store) -> ServerPin:
    """The pinned server, or an error telling the user to enroll."""
    raw = store.meta(_META_SERVER)
    if raw is None:
        raise HealthSyncError("this device is not enrolled with a sync server",
                              hint="run `healthsync edge sync enroll --server URL` (signed in, or with "
                                   "--token-file PATH)")
    doc = json.loads(raw)
    return ServerPin(doc["url"], bytes.fromhex(doc["public_key"]), doc["user_id"])
