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
# What opening a body may cost is proportional to the bytes the device sent, plus an allowance for one large record:
# a few hundred signed bytes of zstd can otherwise inflate into tens of millions of Python objects (an empty map is
# one byte on the wire and some 64 bytes in memory). Real changesets stay inside these ratios: at the edge's zstd
# level 3, 5,000 heart-rate changes compress 9.5x and hold 0.44 objects per compressed byte; health events with 100
# small ints each, 20x and 2.9 (tests/sync/test_bombs.py opens such bodies).
BODY_ALLOWANCE = 4 * 1024 * 1024  # inflated bytes allowed whatever the compressed size
MAX_INFLATE_RATIO = 64  # beyond the allowance, inflated bytes per compressed byte
OBJECT_ALLOWANCE = 65_536  # msgpack/JSON objects allowed whatever the compressed size
OBJECTS_PER_BYTE = 8  # beyond the allowance, objects per compressed byte
MAX_CONTAINER = 65_536  # entries in any nested list or map (the top-level list holds `count` changes)
MAX_STRING = BODY_ALLOWANCE  # bytes in any one string or binary value
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
    hlcs = sorted(c.hlc for c in changes)
    return changeset_id, seal_body(body, device_id=device_id, user_id=user_id, signing_key=signing_key,
                                   server_public_key=server_public_key, changeset_id=changeset_id,
                                   count=len(changes), hlc_range=(hlcs[0], hlcs[-1]),
                                   format_version=format_version, schema_version=schema_version)


def seal_body(
    body: bytes,
    *,
    device_id: str,
    user_id: str,
    signing_key: Ed25519PrivateKey,
    server_public_key: bytes,
    changeset_id: str,
    count: int,
    hlc_range: tuple[str, str],
    format_version: int = FORMAT_VERSION,
    schema_version: int = SCHEMA_VERSION,
) -> bytes:
    """Compress, encrypt to the server and sign an already serialized body (`seal` without the serializing)."""
    ephemeral = X25519PrivateKey.generate()
    epk = raw_public(ephemeral)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(server_public_key))
    key, nonce = _derive(shared, epk, server_public_key)
    header = Header(format_version, schema_version, changeset_id, device_id, user_id, hlc_range[0], hlc_range[1],
                    count, epk)
    header_bytes = msgpack.packb(header.to_wire(), use_bin_type=True)
    compressed = zstandard.ZstdCompressor(level=3).compress(body)
    ciphertext = AESGCM(key).encrypt(nonce, compressed, header_bytes)
    signature = signing_key.sign(_signed_bytes(header_bytes, ciphertext))
    return msgpack.packb([header_bytes, ciphertext, signature], use_bin_type=True)


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
    if not 1 <= header.count <= MAX_CHANGES:
        raise ChangesetError(f"changeset says it holds {header.count} changes; the limit is 1 to {MAX_CHANGES}",
                             code="CHANGESET_TOO_LARGE", hint="push smaller batches")
    return header, header_bytes, ciphertext, signature


def _decrypt(header: Header, header_bytes: bytes, ciphertext: bytes, server_key: X25519PrivateKey) -> bytes | None:
    try:
        shared = server_key.exchange(X25519PublicKey.from_public_bytes(header.epk))
        key, nonce = _derive(shared, header.epk, raw_public(server_key))
        return AESGCM(key).decrypt(nonce, ciphertext, header_bytes)
    except (InvalidTag, ValueError):
        return None


def _too_large(what: str) -> ChangesetError:
    return ChangesetError(f"changeset body {what} (refused as a decompression bomb)", code="CHANGESET_TOO_LARGE",
                          hint="push smaller batches")


def _inflate(compressed: bytes, limit: int) -> bytes:
    out = io.BytesIO()
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(compressed))
        while chunk := reader.read(min(1 << 20, limit + 1 - out.tell())):
            out.write(chunk)
            if out.tell() > limit:
                raise _too_large(f"inflates past {limit} bytes from {len(compressed)}")
    except zstandard.ZstdError:
        raise _malformed("body is not zstd") from None
    return out.getvalue()


class _ObjectBudget:
    """Counts the objects an unpacker builds (each list or map and its entries) and stops it past a limit.

    Called by msgpack as each container is completed, so the count stops the unpacking long before a body of
    millions of tiny objects is all in memory.
    """

    def __init__(self, limit: int):
        self.limit = self.left = limit

    def take(self, container):
        self.left -= len(container) + 1
        if self.left < 0:
            raise _too_large(f"holds more than {self.limit} objects")
        return container


def _array_length(body: bytes) -> int:
    """The length in a msgpack array header, read without unpacking anything after it."""
    unpacker = msgpack.Unpacker(max_buffer_size=16)
    unpacker.feed(body[:5])
    return unpacker.read_array_header()


def _unpack_v2(header: Header, body: bytes, objects: int) -> list:
    # Structure before objects: the top level must be an array of exactly `count` changes, and every nested
    # container and string is capped, before the (counted) unpacking builds anything.
    if (length := _array_length(body)) != header.count:
        raise _malformed(f"header says {header.count} changes, body holds {length}")
    budget = _ObjectBudget(objects)
    return msgpack.unpackb(body, raw=False, strict_map_key=True, object_hook=budget.take, list_hook=budget.take,
                           max_array_len=max(MAX_CONTAINER, header.count), max_map_len=MAX_CONTAINER,
                           max_str_len=MAX_STRING, max_bin_len=MAX_STRING, max_ext_len=0)


def _unpack_v1(body: bytes, objects: int) -> list:
    # json has no container hook for lists: every bracket counts as a container (brackets inside strings too, an
    # overestimate that only real bodies with thousands of them would notice), checked before parsing.
    if body.count(b"{") + body.count(b"[") > objects:
        raise _too_large(f"holds more than {objects} objects")
    return json.loads(body)


def _v1_change_id(changeset_id: str, index: int) -> str:
    # Deterministic, so the same v1 changeset sent twice yields the same change ids (and duplicate receipts).
    return str(uuid.uuid5(uuid.UUID(changeset_id), str(index)))


def _parse_body(header: Header, body: bytes, objects: int) -> list[Change]:
    try:
        if header.format_version == 1:
            items = _unpack_v1(body, objects)
            raw = [(_v1_change_id(header.changeset_id, i), it["table"], it["pk"], it["op"], it.get("columns"),
                    it["hlc"]) for i, it in enumerate(items)]
        else:
            items = _unpack_v2(header, body, objects)
            raw = [(it["id"], it["t"], it["pk"], it["op"], it.get("c"), it["hlc"]) for it in items]
    except ChangesetError:
        raise
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
    # Both limits grow with what the device sent: a large honest push is fine, a tiny one cannot explode.
    inflated = min(MAX_BODY, BODY_ALLOWANCE + MAX_INFLATE_RATIO * len(compressed))
    changes = _parse_body(header, _inflate(compressed, inflated), OBJECT_ALLOWANCE + OBJECTS_PER_BYTE * len(compressed))
    if header.format_version < FORMAT_VERSION:
        upgraded = Header(FORMAT_VERSION, header.schema_version, header.changeset_id, header.device_id,
                          header.user_id, header.hlc_min, header.hlc_max, header.count, header.epk)
        return Changeset(upgraded, changes, upgraded_from=header.format_version)
    return Changeset(header, changes)


def new_server_key() -> X25519PrivateKey:
    """A fresh server X25519 key pair (the private half stays on the server)."""
    return X25519PrivateKey.generate()

