"""Changeset wire format: round trip, and each kind of bad input refused with its own stable code."""
from __future__ import annotations

import json
import secrets
import uuid

import msgpack
import pytest
import zstandard
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from protocol import changeset as cs
from protocol.changeset import Change, open_changeset, raw_public, seal
from protocol.errors import ChangesetError
from protocol.schema import new_id

DEVICE = str(uuid.uuid4())
USER = str(uuid.uuid4())


@pytest.fixture
def keys():
    return Ed25519PrivateKey.generate(), X25519PrivateKey.generate()


def _changes(n=3):
    return [Change(str(new_id()), "symptoms", str(new_id()), "insert",
                   {"description": f"cough {i}", "severity": i, "nested": {"a": [1, 2.5, None]}},
                   f"{1700000000000 + i:015d}:000000:{DEVICE}") for i in range(n)]


def _seal(keys, changes=None, **kw):
    signing, server = keys
    return seal(changes or _changes(), device_id=DEVICE, user_id=USER, signing_key=signing,
                server_public_key=raw_public(server), **kw)


def _open(keys, data, signer_public=None):
    signing, server = keys
    return open_changeset(data, server, lambda h: signer_public or raw_public(signing))


def _code(keys, data, **kw):
    with pytest.raises(ChangesetError) as err:
        _open(keys, data, **kw)
    return err.value.code


def test_round_trip_keeps_every_field(keys):
    changes = _changes(5)
    cid, data = _seal(keys, changes)
    opened = _open(keys, data)
    assert opened.changes == changes
    h = opened.header
    assert (h.changeset_id, h.device_id, h.user_id, h.count, h.format_version) == (cid, DEVICE, USER, 5, 2)
    assert h.hlc_min == changes[0].hlc and h.hlc_max == changes[-1].hlc
    assert opened.upgraded_from is None


def test_payload_is_not_readable_without_the_server_key(keys):
    _, data = _seal(keys)
    assert b"cough" not in data


def test_tampered_ciphertext_is_refused_as_tampered(keys):
    _, data = _seal(keys)
    header, ct, sig = msgpack.unpackb(data)
    ct = bytes([ct[0] ^ 1]) + ct[1:]
    assert _code(keys, msgpack.packb([header, ct, sig])) == "CHANGESET_TAMPERED"


def test_tampered_header_is_refused(keys):
    _, data = _seal(keys)
    header, ct, sig = msgpack.unpackb(data)
    h = msgpack.unpackb(header)
    h["count"] = 2
    assert _code(keys, msgpack.packb([msgpack.packb(h), ct, sig])) == "CHANGESET_TAMPERED"


def test_signature_by_another_key_is_refused(keys):
    other = Ed25519PrivateKey.generate()
    _, data = seal(_changes(), device_id=DEVICE, user_id=USER, signing_key=other,
                   server_public_key=raw_public(keys[1]))
    assert _code(keys, data) == "CHANGESET_BAD_SIGNATURE"


def test_sealed_to_another_server_is_refused(keys):
    _, data = seal(_changes(), device_id=DEVICE, user_id=USER, signing_key=keys[0],
                   server_public_key=raw_public(X25519PrivateKey.generate()))
    assert _code(keys, data) == "CHANGESET_TAMPERED"


def test_future_format_version_is_refused_before_any_crypto(keys):
    _, data = _seal(keys)
    header, ct, sig = msgpack.unpackb(data)
    h = msgpack.unpackb(header)
    h["v"] = 99
    assert _code(keys, msgpack.packb([msgpack.packb(h), ct, sig])) == "CHANGESET_FORMAT_TOO_NEW"


@pytest.mark.parametrize("data", [b"", b"\x00\x01garbage", msgpack.packb([b"a", b"b"]), msgpack.packb({"x": 1}),
                                  msgpack.packb([b"\x81\xa1v\x02", b"ct", b"s" * 64])])
def test_malformed_bytes_are_refused(keys, data):
    assert _code(keys, data) == "CHANGESET_MALFORMED"


def test_oversized_envelope_is_refused(keys, monkeypatch):
    monkeypatch.setattr(cs, "MAX_ENVELOPE", 1000)
    _, data = _seal(keys, [Change(str(new_id()), "symptoms", str(new_id()), "insert", {"x": secrets.token_hex(5000)},
                                  f"{1:015d}:000000:{DEVICE}")])
    assert _code(keys, data) == "CHANGESET_TOO_LARGE"


def test_zip_bomb_is_refused_while_inflating(keys, monkeypatch):
    # 2 MB of zeros compresses to a few hundred bytes; the cap stops decompression before it is all in memory.
    monkeypatch.setattr(cs, "MAX_BODY", 1 << 20)
    big = [Change(str(new_id()), "symptoms", str(new_id()), "insert", {"x": "\0" * (2 << 20)},
                  f"{1:015d}:000000:{DEVICE}")]
    _, data = _seal(keys, big)
    assert len(data) < 10_000
    assert _code(keys, data) == "CHANGESET_TOO_LARGE"


def test_body_with_wrong_shape_is_refused(keys, monkeypatch):
    bad = Change("not-a-uuid", "symptoms", str(new_id()), "insert", {}, f"{1:015d}:000000:{DEVICE}")
    _, data = _seal(keys, [bad])
    assert _code(keys, data) == "CHANGESET_MALFORMED"
    bad_op = Change(str(new_id()), "symptoms", str(new_id()), "upsert", {}, f"{1:015d}:000000:{DEVICE}")
    _, data = _seal(keys, [bad_op])
    assert _code(keys, data) == "CHANGESET_MALFORMED"


def test_unknown_device_lookup_error_propagates(keys):
    _, data = _seal(keys)

    def refuse(header):
        raise ChangesetError("device revoked", code="DEVICE_REVOKED")

    with pytest.raises(ChangesetError) as err:
        open_changeset(data, keys[1], refuse)
    assert err.value.code == "DEVICE_REVOKED"


def test_v1_changeset_is_upgraded_with_stable_change_ids(keys):
    changes = _changes(2)
    cid, data = _seal(keys, changes, format_version=1)
    header, ct, _ = msgpack.unpackb(data)
    assert msgpack.unpackb(header)["v"] == 1
    first, again = _open(keys, data), _open(keys, data)
    assert first.upgraded_from == 1 and first.header.format_version == 2
    assert [c.change_id for c in first.changes] == [c.change_id for c in again.changes]
    assert len({c.change_id for c in first.changes}) == 2
    assert [(c.table, c.pk, c.op, c.columns, c.hlc) for c in first.changes] == \
           [(c.table, c.pk, c.op, c.columns, c.hlc) for c in changes]


def test_v1_body_is_json(keys):
    # The v1 format as older apps wrote it: JSON, not msgpack (checked by decrypting with the server key).
    signing, server = keys
    _, data = _seal(keys, format_version=1)
    header_bytes, ct, _ = msgpack.unpackb(data)
    header = cs.read_header(data)[0]
    compressed = cs._decrypt(header, header_bytes, ct, server)
    body = json.loads(zstandard.ZstdDecompressor().decompress(compressed))
    assert set(body[0]) == {"table", "pk", "op", "columns", "hlc"}
