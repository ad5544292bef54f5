"""Claim codes on the server: a kiosk files the digest of the code it showed a patient, and the patient's phone,
signed in with a new account, redeems the code to take the record over (migration 0072, docs/clinic.md).

The server keeps HMAC-SHA256(claim key, digest) only, with the claim key derived from its X25519 secret (all
instances share it), so the table cannot be brute-forced back into codes. Redeeming runs as service_role in one
transaction: the code is marked used, and the new sign-in user (the embedded auth's `auth.users` row) takes the
patient's id, which the kiosk minted to be the id of the patient's future sign-in. Unknown, used and expired codes
all get the same NOT_FOUND answer.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from protocol.changeset import raw_private
from protocol.claims import code_digest
from protocol.codes import ErrorCode
from protocol.errors import ForbiddenError, HealthSyncError, NotFoundError, ValidationError

MAX_TTL = dt.timedelta(days=30)  # a kiosk may not file a code that lives longer than this
# Where a sign-in that already holds something shows up: such a user is not fresh, and is never re-keyed.
_HOLDINGS = ("SELECT 1 FROM users WHERE id = %(u)s", "SELECT 1 FROM sync_devices WHERE user_id = %(u)s",
             "SELECT 1 FROM clinic_staff WHERE user_id = %(u)s", "SELECT 1 FROM registrations WHERE user_id = %(u)s",
             "SELECT 1 FROM doctors WHERE user_id = %(u)s")


class ClaimUnlinkableError(HealthSyncError):
    """The sign-in cannot take the patient's id here (the sign-in users live in an external Supabase project)."""

    code = ErrorCode.CLAIM_UNLINKABLE
    http_status = 409


def claim_key(server_key: X25519PrivateKey) -> bytes:
    """The HMAC key for claim digests, derived from the server's secret key (HKDF-SHA256)."""
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"healthsync:patient-claim-v1").derive(raw_private(server_key))


def _mac(key: bytes, digest_hex: str) -> str:
    return hmac.new(key, bytes.fromhex(digest_hex), hashlib.sha256).hexdigest()


def file_claim(conn, key: bytes, staff_id: uuid.UUID, clinic_id: uuid.UUID, patient_id: uuid.UUID,
               digest_hex: str, expires_at: dt.datetime) -> dict[str, Any]:
    """Under the staff member's own RLS (0072): keep a code's MAC for a patient registered at their clinic. Filing
    the same code again changes nothing (the kiosk retries until it hears back)."""
    now = dt.datetime.now(dt.UTC)
    if expires_at.tzinfo is None:
        raise ValidationError("expires_at needs a time zone", field="expires_at")
    if not now < expires_at <= now + MAX_TTL:
        raise ValidationError(f"expires_at must be in the future and within {MAX_TTL.days} days",
                              field="expires_at")
    conn.execute("INSERT INTO patient_claims (clinic_id, code_mac, patient_id, expires_at, created_by) "
                 "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                 (clinic_id, _mac(key, digest_hex), patient_id, expires_at, staff_id))
    return {"clinic_id": str(clinic_id), "patient_id": str(patient_id), "expires_at": expires_at.isoformat()}


def redeem(conn, key: bytes, user_id: uuid.UUID, code: str, *, can_link: bool) -> uuid.UUID:
    """As service_role: mark the code used and make `user_id` (a fresh patient sign-in) the patient the code was
    issued for; returns the patient's id, which is the sign-in's id from now on. `can_link` says whether the
    sign-in users are ours to re-key (the embedded auth service)."""
    row = conn.execute("SELECT clinic_id, patient_id, used_at IS NULL AND expires_at > now() AS usable "
                       "FROM patient_claims WHERE code_mac = %s FOR UPDATE",
                       (_mac(key, code_digest(code)),)).fetchone()
    if row is None or not row["usable"]:
        # One answer for unknown, used and expired: a guesser learns nothing.
        raise NotFoundError("this claim code is not valid (unknown, used or expired)",
                            hint="ask the clinic for a new code")
    patient = row["patient_id"]
    if patient != user_id:
        _link(conn, user_id, patient, can_link)
    conn.execute("UPDATE patient_claims SET used_at = now(), used_by = %s WHERE code_mac = %s",
                 (patient, _mac(key, code_digest(code))))
    return patient


def _link(conn, user_id: uuid.UUID, patient: uuid.UUID, can_link: bool) -> None:
    """Give the fresh sign-in the patient's id: its sessions end (the caller gets a new one for the new id)."""
    if not can_link:
        raise ClaimUnlinkableError("this server's sign-in users live in the Supabase project, so a code cannot "
                                   "move a sign-in to the patient's record here",
                                   hint="ask the clinic to register the patient's email, then sign up with it")
    if conn.execute("SELECT 1 FROM auth.users WHERE id = %s", (patient,)).fetchone():
        raise ForbiddenError("this record already belongs to another sign-in",
                             hint="sign in with the account that claimed it, or ask the clinic")
    if any(conn.execute(sql, {"u": user_id}).fetchone() for sql in _HOLDINGS):
        raise ForbiddenError("this sign-in already has records, devices or a clinic role; a claim code links a "
                             "new patient sign-in only", hint="create a new sign-in for the patient")
    conn.execute("DELETE FROM auth.sessions WHERE user_id = %s", (user_id,))
    moved = conn.execute("UPDATE auth.users SET id = %s, updated_at = now(), raw_app_meta_data = "
                         "(raw_app_meta_data - 'clinic_id') || '{\"role\": \"patient\"}' WHERE id = %s",
                         (patient, user_id))
    if moved.rowcount != 1:
        raise ClaimUnlinkableError("the signed-in user is not one of this server's sign-in users",
                                   hint="sign in through this server's auth service, then claim")


def registered_patient_for(conn, email: str) -> uuid.UUID | None:
    """The email path (as service_role): the one patient a clinic registered with this email, actively registered
    and not yet anyone's sign-in; a sign-in user created for that email takes the patient's id. None when there is
    no such patient, or more than one (then a claim code decides)."""
    rows = conn.execute(
        "SELECT u.id FROM users u WHERE lower(u.email) = %s AND NOT u.deleted "
        "AND EXISTS (SELECT 1 FROM registrations r WHERE r.user_id = u.id AND r.status = 'active' AND NOT r.deleted) "
        "AND NOT EXISTS (SELECT 1 FROM auth.users a WHERE a.id = u.id) LIMIT 2", (email.strip().lower(),)).fetchall()
    return rows[0]["id"] if len(rows) == 1 else None
