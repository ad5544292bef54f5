"""The sync service: enrollment, revocation, push and pull over a database session, free of any HTTP framework."""
from __future__ import annotations

import time
import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from protocol.changeset import Header, open_changeset, raw_public, read_header
from protocol.errors import ChangesetError, DeviceExistsError, ForbiddenError, HealthSyncError, NotFoundError
from protocol.merge import gc_paused
from protocol.receipts import Receipt
from protocol.schema import SCHEMA_VERSION, TABLES
from sync_server import reconcile


def _forbidden(message: str, code: str) -> ChangesetError:
    err = ChangesetError(message, code=code)
    err.http_status = 403
    return err


def server_public_key(server_key: X25519PrivateKey) -> str:
    """The server's public key as hex, as devices pin it."""
    return raw_public(server_key).hex()


def enroll(conn, user_id: str, device_id: str, signing_key: bytes, agreement_key: bytes, name: str | None,
           server_key: X25519PrivateKey, format_version: int = 2, clinic_id: str | None = None) -> dict[str, Any]:
    """Register a device's public keys for the caller; enrolling the same keys again is a no-op. With `clinic_id`
    the device is that clinic's kiosk, which only an admin or nurse of the clinic may enroll."""
    if len(signing_key) != 32 or len(agreement_key) != 32:
        raise HealthSyncError("device public keys must be 32 bytes each (Ed25519, X25519)")
    device_id = str(uuid.UUID(device_id))
    if clinic_id is not None:
        return _enroll_clinic_device(conn, user_id, device_id, signing_key, agreement_key, name, server_key,
                                     format_version, str(uuid.UUID(clinic_id)))
    # Device ids are per user (0017): only the caller's own devices are looked at, so another user's id is free.
    row = conn.execute("SELECT signing_key, revoked_at FROM sync_devices WHERE id = %s AND user_id = %s",
                       (device_id, user_id)).fetchone()
    if row is None:
        conn.execute("INSERT INTO sync_devices (id, user_id, signing_key, agreement_key, name, format_version) "
                     "VALUES (%s, %s, %s, %s, %s, %s)",
                     (device_id, user_id, signing_key, agreement_key, name, format_version))
    else:
        row = tuple(row.values()) if isinstance(row, dict) else row
        if bytes(row[0]) != signing_key or row[1] is not None:
            raise DeviceExistsError(f"device {device_id} is already enrolled with other keys or revoked",
                                    hint="a revoked device must be re-initialised with a new store")
    return {"device_id": device_id, "user_id": user_id, "server_public_key": server_public_key(server_key)}


def _enroll_clinic_device(conn, user_id: str, device_id: str, signing_key: bytes, agreement_key: bytes,
                          name: str | None, server_key: X25519PrivateKey, format_version: int,
                          clinic_id: str) -> dict[str, Any]:
    allowed = conn.execute("SELECT %s::uuid IN (SELECT app.my_clinics('{nurse,admin}')) AS ok",
                           (clinic_id,)).fetchone()
    if not (allowed["ok"] if isinstance(allowed, dict) else allowed[0]):
        raise ForbiddenError(f"only an admin or a nurse of clinic {clinic_id} may enroll a kiosk for it",
                             hint="sign in as an admin or nurse of that clinic (healthsync server staff add)")
    row = conn.execute("SELECT signing_key, revoked_at, clinic_id FROM sync_devices WHERE id = %s AND kind = 'clinic'",
                       (device_id,)).fetchone()
    if row is None:
        conn.execute("INSERT INTO sync_devices (id, user_id, signing_key, agreement_key, name, format_version, kind, "
                     "clinic_id) VALUES (%s, %s, %s, %s, %s, %s, 'clinic', %s)",
                     (device_id, user_id, signing_key, agreement_key, name, format_version, clinic_id))
    else:
        row = tuple(row.values()) if isinstance(row, dict) else row
        if bytes(row[0]) != signing_key or row[1] is not None or str(row[2]) != clinic_id:
            raise DeviceExistsError(f"device {device_id} is already enrolled with other keys or revoked",
                                    hint="a revoked device must be re-initialised with a new store")
    return {"device_id": device_id, "user_id": user_id, "kind": "clinic", "clinic_id": clinic_id,
            "server_public_key": server_public_key(server_key)}


def revoke(conn, device_id: str) -> dict[str, Any]:
    """Revoke one of the caller's devices: its changesets are refused from now on."""
    rows = conn.execute("UPDATE sync_devices SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL "
                        "RETURNING id", (str(uuid.UUID(device_id)),)).fetchall()
    if not rows:
        raise NotFoundError(f"no active device {device_id} for this user")
    return {"device_id": device_id, "revoked": True}


# The caller's own device, or a clinic device (kiosk) of a clinic where the caller is staff (RLS, 0051, shows those
# to the clinic's staff only): whichever staff member is signed in on a kiosk pushes through it.
DEVICE_LOOKUP = ("SELECT {cols} FROM sync_devices WHERE id = %(device)s AND (user_id = %(user)s OR kind = 'clinic') "
                 "ORDER BY (user_id = %(user)s) DESC LIMIT 1")


def _device_key(conn, header: Header) -> bytes:
    row = conn.execute(DEVICE_LOOKUP.format(cols="signing_key, revoked_at"),
                       {"device": header.device_id, "user": header.user_id}).fetchone()
    if row is None:
        raise _forbidden(f"device {header.device_id} is not enrolled for this user", "DEVICE_UNKNOWN")
    row = tuple(row.values()) if isinstance(row, dict) else row
    if row[1] is not None:
        raise _forbidden(f"device {header.device_id} was revoked", "DEVICE_REVOKED")
    return bytes(row[0])


def server_time_ms() -> int:
    """The server's wall clock, sent with every push and pull answer: devices stamp their changes by it."""
    return int(time.time() * 1000)


def push(conn, data: bytes, caller: reconcile.Caller, server_key: X25519PrivateKey,
         *, doc_outbox: bool = False, max_skew_s: int = reconcile.DEFAULT_MAX_SKEW_S,
         touched: dict[str, set[str]] | None = None) -> dict[str, Any]:
    """Open a changeset pushed by the caller and merge it; answers the receipts and the server's time (`touched`:
    reconcile.ingest's owners of accepted changes per table)."""
    header = read_header(data)[0]
    if header.schema_version > SCHEMA_VERSION:
        raise ChangesetError(f"changeset written with record schema v{header.schema_version}; this server knows "
                             f"v{SCHEMA_VERSION}", code="CHANGESET_SCHEMA_TOO_NEW",
                             hint="upgrade the server before the devices")
    if header.user_id != caller.user_id:
        raise _forbidden("changeset belongs to another user than the token's", "CHANGESET_WRONG_USER")
    with gc_paused():
        cs = open_changeset(data, server_key, lambda h: _device_key(conn, h))
        caller.device_id = header.device_id
        receipts = reconcile.ingest(conn, cs, caller, doc_outbox=doc_outbox, max_skew_s=max_skew_s,
                                   touched=touched)
    if cs.upgraded_from:
        # Apps on the v1 format know no `superseded`: to them a change that lost its merge is settled, a duplicate.
        receipts = [Receipt(r.change_id, "duplicate") if r.status == "superseded" else r for r in receipts]
    counts: dict[str, int] = {}
    for r in receipts:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {"changeset_id": header.changeset_id, "upgraded_from": cs.upgraded_from, "counts": counts,
            "receipts": [r.to_wire() for r in receipts], "server_time_ms": server_time_ms()}


def pull(conn, cursor: int, limit: int, tables: list[str] | None = None, principal=None,
         device_id: str | None = None, *, with_checksums: bool = True) -> dict[str, Any]:
    """A page of changes visible to the caller since `cursor`; reads of patient data are audited per subject (and
    the proven device that read them)."""
    page = reconcile.pull(conn, cursor, limit, tables, with_checksums=with_checksums)
    page["server_time_ms"] = server_time_ms()
    if principal is not None and page["changes"]:
        from sync_server import audit

        seen: dict[tuple[str, str | None], int] = {}
        for c in page["changes"]:
            owner = TABLES[c["table"]].owner
            key = (c["table"], c["doc"].get(owner) if owner else None)
            seen[key] = seen.get(key, 0) + 1
        for (table, subject), n in sorted(seen.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
            if subject is not None:  # the doctor directory is not patient data
                audit.record(conn, principal, "sync_pull", table, subject_id=subject, device_id=device_id,
                             detail={"rows": n})
    return page
