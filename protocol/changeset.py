"""Changesets: the wire format of sync, sealed to the server (HPKE-style) and signed by the device.

One module for both sides: the edge calls `seal`, the server calls `open_changeset`.

Envelope (msgpack array): [header bytes, ciphertext, signature]
- header: msgpack map {v, schema, id, device, user, hlc_min, hlc_max, count, epk}; readable without keys so the
  server can find the device's key and refuse formats it does not know.
- ciphertext: AES-256-GCM(zstd(body)) with the header as associated data, under a key derived (HKDF-SHA256) from an
  ephemeral X25519 exchange with the server's public key (the construction of RFC 9180 base mode, single shot).
- signature: Ed25519 by the device over a domain tag + header + ciphertext.

Body v2 = msgpack list of changes {id, t, pk, op, c, hlc}. Body v1 (older apps) = JSON list without change ids;
it is upgraded on open with deterministic change ids, so a replayed v1 changeset is still recognised.
"""
from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgpack
import zstandard
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from protocol.errors import ChangesetError
from protocol.schema import SCHEMA_VERSION, new_id

FORMAT_VERSION = 2
SUPPORTED_FORMATS = (1, 2)
OPS = ("insert", "update", "delete")
# Caps: an envelope larger than MAX_ENVELOPE is refused before any crypto; a body that inflates past MAX_BODY
# (a zip bomb) is refused while decompressing, never fully materialised.
MAX_ENVELOPE = 32 * 1024 * 1024
MAX_BODY = 128 * 1024 * 1024
MAX_CHANGES = 200_000
_SIG_DOMAIN = b"healthsync-changeset-sig\x00"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_HLC = re.compile(r"^\d{15}:\d{6}:[^:\s]{1,64}\Z")
_KDF_INFO = b"healthsync-changeset-hpke-v1"


@dataclass(frozen=True)
class Change:
    """One change to one row: insert (whole record), update (changed columns) or delete (tombstone)."""

    change_id: str
    table: str
    pk: str
    op: str
    columns: dict[str, Any] | None
    hlc: str


@dataclass(frozen=True)
class Header:
    """What a changeset says about itself, authenticated but not encrypted."""

    format_version: int
    schema_version: int
    changeset_id: str
    device_id: str
    user_id: str
    hlc_min: str
    hlc_max: str
    count: int
    epk: bytes = field(repr=False, default=b"")

    def to_wire(self) -> dict[str, Any]:
        return {"v": self.format_version, "schema": self.schema_version, "id": self.changeset_id,
                "device": self.device_id, "user": self.user_id, "hlc_min": self.hlc_min, "hlc_max": self.hlc_max,
                "count": self.count, "epk": self.epk}


@dataclass(frozen=True)
class Changeset:
    """An opened (verified, decrypted, parsed) changeset, always in the current format."""

    header: Header
    changes: list[Change]
    upgraded_from: int | None = None


# ---------------------------------------------------------------- key helpers


def raw_public(key: X25519PrivateKey | Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public half of a private key."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def raw_private(key: X25519PrivateKey | Ed25519PrivateKey) -> bytes:
    """The raw 32-byte private key."""
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def _derive(shared: bytes, epk: bytes, server_pk: bytes) -> tuple[bytes, bytes]:
    okm = HKDF(algorithm=hashes.SHA256(), length=44, salt=epk + server_pk, info=_KDF_INFO).derive(shared)
    return okm[:32], okm[32:]


def _signed_bytes(header: bytes, ciphertext: bytes) -> bytes:
    return _SIG_DOMAIN + len(header).to_bytes(4, "big") + header + ciphertext


# ---------------------------------------------------------------- sealing (edge)


def _body_v2(changes: list[Change]) -> bytes:
    return msgpack.packb([{"id": c.change_id, "t": c.table, "pk": c.pk, "op": c.op, "c": c.columns, "hlc": c.hlc}
                          for c in changes], use_bin_type=True)


def _body_v1(changes: list[Change]) -> bytes:
    return json.dumps([{"table": c.table, "pk": c.pk, "op": c.op, "columns": c.columns, "hlc": c.hlc}
                       for c in changes], separators=(",", ":")).encode()


def seal(
    changes: Iterable[Change],
    *,
    device_id: str,
    user_id: str,
    signing_key: Ed25519PrivateKey,
    server_public_key: bytes,
    changeset_id: str | None = None,
    format_version: int = FORMAT_VERSION,
    schema_version: int = SCHEMA_VERSION,
) -> tuple[str, bytes]:
    """Serialize, compress, encrypt to the server and sign a batch of changes; returns (changeset id, bytes)."""
    changes = list(changes)
    if not changes:
        raise ChangesetError("a changeset needs at least one change", code="CHANGESET_EMPTY")
    changeset_id = changeset_id or str(new_id())
    body = _body_v2(changes) if format_version >= 2 else _body_v1(changes)
    ephemeral = X25519PrivateKey.generate()
    epk = raw_public(ephemeral)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(server_public_key))
    key, nonce = _derive(shared, epk, server_public_key)
    hlcs = sorted(c.hlc for c in changes)
    header = Header(format_version, schema_version, changeset_id, device_id, user_id, hlcs[0], hlcs[-1],
                    len(changes), epk)
    header_bytes = msgpack.packb(header.to_wire(), use_bin_type=True)
    compressed = zstandard.ZstdCompressor(level=3).compress(body)
    ciphertext = AESGCM(key).encrypt(nonce, compressed, header_bytes)
    signature = signing_key.sign(_signed_bytes(header_bytes, ciphertext))
    return changeset_id, msgpack.packb([header_bytes, ciphertext, signature], use_bin_type=True)


# ---------------------------------------------------------------- opening (server)


def _malformed(what: str) -> ChangesetError:
    return ChangesetError(f"malformed changeset: {what}", code="CHANGESET_MALFORMED")


def read_header(data: bytes) -> tuple[Header, bytes, bytes, bytes]:
    """Parse the envelope and header without any key; returns (header, header bytes, ciphertext, signature)."""
    if len(data) > MAX_ENVELOPE:
        raise ChangesetError(f"changeset of {len(data)} bytes exceeds the {MAX_ENVELOPE}-byte limit",
                             code="CHANGESET_TOO_LARGE", hint="push smaller batches")
    try:
        parts = msgpack.unpackb(data, raw=False, max_bin_len=MAX_ENVELOPE, strict_map_key=True)
    except Exception:
        raise _malformed("not a msgpack envelope") from None
    if not (isinstance(parts, list) and len(parts) == 3 and all(isinstance(p, bytes) for p in parts)):
        raise _malformed("envelope must be [header, ciphertext, signature]")
    header_bytes, ciphertext, signature = parts
    try:
        h = msgpack.unpackb(header_bytes, raw=False)
        version = h["v"]
        if not isinstance(version, int):
            raise TypeError
        if version > FORMAT_VERSION:
            raise ChangesetError(
                f"changeset format v{version} is newer than this server understands (v{FORMAT_VERSION})",
                code="CHANGESET_FORMAT_TOO_NEW", hint="upgrade the server before the devices")
        if version not in SUPPORTED_FORMATS:
            raise _malformed(f"unknown format version {version}")
        header = Header(version, int(h["schema"]), str(uuid.UUID(h["id"])), str(uuid.UUID(h["device"])),
                        str(uuid.UUID(h["user"])), str(h["hlc_min"]), str(h["hlc_max"]), int(h["count"]),
                        bytes(h["epk"]))
    except ChangesetError:
        raise
    except Exception:
        raise _malformed("header fields missing or of the wrong type") from None
    if len(header.epk) != 32 or len(signature) != 64:
        raise _malformed("key or signature of the wrong length")
    return header, header_bytes, ciphertext, signature


def _decrypt(header: Header, header_bytes: bytes, ciphertext: bytes, server_key: X25519PrivateKey) -> bytes | None:
    try:
        shared = server_key.exchange(X25519PublicKey.from_public_bytes(header.epk))
        key, nonce = _derive(shared, header.epk, raw_public(server_key))
        return AESGCM(key).decrypt(nonce, ciphertext, header_bytes)
    except (InvalidTag, ValueError):
        return None


def _inflate(compressed: bytes) -> bytes:
    out = io.BytesIO()
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(compressed))
        while chunk := reader.read(1 << 20):
            out.write(chunk)
            if out.tell() > MAX_BODY:
                raise ChangesetError(f"changeset body inflates past {MAX_BODY} bytes (refused as a zip bomb)",
                                     code="CHANGESET_TOO_LARGE")
    except zstandard.ZstdError:
        raise _malformed("body is not zstd") from None
    return out.getvalue()


def _v1_change_id(changeset_id: str, index: int) -> str:
    # Deterministic, so the same v1 changeset sent twice yields the same change ids (and duplicate receipts).
    return str(uuid.uuid5(uuid.UUID(changeset_id), str(index)))


def _parse_body(header: Header, body: bytes) -> list[Change]:
    try:
        if header.format_version == 1:
            items = json.loads(body)
            raw = [(_v1_change_id(header.changeset_id, i), it["table"], it["pk"], it["op"], it.get("columns"),
                    it["hlc"]) for i, it in enumerate(items)]
        else:
            items = msgpack.unpackb(body, raw=False)
            raw = [(it["id"], it["t"], it["pk"], it["op"], it.get("c"), it["hlc"]) for it in items]
    except Exception:
        raise _malformed("body is not a list of changes") from None
    if len(raw) != header.count or len(raw) > MAX_CHANGES:
        raise _malformed(f"header says {header.count} changes, body holds {len(raw)}")
    changes = []
    for change_id, table, pk, op, columns, hlc in raw:
        # Regexes rather than uuid.UUID/Timestamp.decode: this loop runs for every change the server ingests.
        ok = (isinstance(change_id, str) and isinstance(pk, str) and isinstance(hlc, str)
              and _UUID.match(change_id) is not None and _UUID.match(pk) is not None and _HLC.match(hlc) is not None
              and isinstance(table, str) and op in OPS and (columns is None or isinstance(columns, dict)))
        if not ok or (op != "delete" and columns is None):
            raise _malformed(f"change {change_id!r} has the wrong shape")
        if not header.hlc_min <= hlc <= header.hlc_max:
            raise _malformed(f"change {change_id} has a clock outside the header's range")
        changes.append(Change(change_id, table, pk, op, columns, hlc))
    return changes


def open_changeset(
    data: bytes,
    server_key: X25519PrivateKey,
    device_key: Callable[[Header], Ed25519PublicKey | bytes],
) -> Changeset:
    """Verify, decrypt, decompress (capped), parse and shape-check a changeset; each failure a ChangesetError.

    `device_key(header)` returns the sending device's Ed25519 public key, or raises (unknown or revoked device).
    """
    header, header_bytes, ciphertext, signature = read_header(data)
    public = device_key(header)
    if isinstance(public, bytes):
        public = Ed25519PublicKey.from_public_bytes(public)
    try:
        public.verify(signature, _signed_bytes(header_bytes, ciphertext))
        verified = True
    except InvalidSignature:
        verified = False
    compressed = _decrypt(header, header_bytes, ciphertext, server_key)
    if compressed is None:
        # Contents changed after sealing (or sealed to another server): say so rather than blame the signer.
        raise ChangesetError("changeset ciphertext or header failed its integrity check (tampered)",
                             code="CHANGESET_TAMPERED")
    if not verified:
        raise ChangesetError("changeset signature does not match the device's registered key",
                             code="CHANGESET_BAD_SIGNATURE")
    changes = _parse_body(header, _inflate(compressed))
    if header.format_version < FORMAT_VERSION:
        upgraded = Header(FORMAT_VERSION, header.schema_version, header.changeset_id, header.device_id,
                          header.user_id, header.hlc_min, header.hlc_max, header.count, header.epk)
        return Changeset(upgraded, changes, upgraded_from=header.format_version)
    return Changeset(header, changes)


def new_server_key() -> X25519PrivateKey:
    """A fresh server X25519 key pair (the private half stays on the server)."""
    return X25519PrivateKey.generate()

