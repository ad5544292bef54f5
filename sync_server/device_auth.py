"""Device-bound requests on the server: a pull names and proves its device (protocol.request_auth) against
`sync_devices`, and a revoked device is answered DEVICE_REVOKED with an authenticated order to crypto-shred."""
from __future__ import annotations

import uuid

from fastapi import Request

from protocol.codes import ErrorCode
from protocol.errors import HealthSyncError
from protocol.request_auth import (
    HEADER_DEVICE,
    HEADER_SIGNATURE,
    HEADER_TIME,
    RequestProof,
    RequestProofError,
    check_fresh,
    check_signature,
    shred_instruction,
)


class DeviceRevokedError(HealthSyncError):
    """The device was revoked: its requests are refused, and it is told to destroy its store key."""

    code = ErrorCode.DEVICE_REVOKED
    http_status = 403

    def __init__(self, message: str, shred: dict[str, str]):
        super().__init__(message, hint="the device must destroy its store key (crypto-shred) and re-enroll anew")
        self.shred = shred

    def to_dict(self) -> dict:
        return {**super().to_dict(), "shred": self.shred}


def request_proof(request: Request, body: bytes = b"") -> RequestProof:
    """The device claim of a request: its proof headers and exactly what the signature must cover."""
    h = request.headers
    return RequestProof(h.get(HEADER_DEVICE), h.get(HEADER_TIME), h.get(HEADER_SIGNATURE), request.method,
                        request.url.path, request.scope.get("query_string", b""), body)


def prove_device(conn, user_id: str, proof: RequestProof, server_key) -> str:
    """The id of the caller's device that signed this request; refuses a missing, stale, forged, unknown or
    revoked one (a revoked one only after its signature verified, so only the device itself learns to shred)."""
    if not (proof.device_id and proof.timestamp and proof.signature):
        raise RequestProofError(f"this request must name and prove its device ({HEADER_DEVICE}, {HEADER_TIME}, "
                                f"{HEADER_SIGNATURE})", code="DEVICE_PROOF_MISSING",
                                hint="sync with an enrolled device (healthsync edge sync run)")
    try:
        device_id = str(uuid.UUID(proof.device_id))
    except ValueError:
        raise RequestProofError(f"{HEADER_DEVICE} must be a device id", code="DEVICE_PROOF_MISSING") from None
    check_fresh(proof)
    from psycopg.rows import tuple_row

    from sync_server.sync_service import DEVICE_LOOKUP

    row = conn.cursor(row_factory=tuple_row).execute(
        DEVICE_LOOKUP.format(cols="signing_key, agreement_key, revoked_at"),
        {"device": device_id, "user": user_id}).fetchone()
    if row is None:
        raise RequestProofError(f"device {device_id} is not enrolled for this user", code="DEVICE_UNKNOWN",
                                http_status=403, hint="enroll it: healthsync edge sync enroll")
    check_signature(proof, bytes(row[0]))
    if row[2] is not None:
        raise DeviceRevokedError(f"device {device_id} was revoked",
                                 shred_instruction(server_key, bytes(row[1]), device_id))
    return device_id

