"""POST /v1/devices (enroll a device's public keys with a user JWT), POST /v1/devices/{id}/revoke and
POST /v1/devices/{id}/report (the device's own sync health, for the console)."""
from __future__ import annotations

import datetime as dt
import json
import uuid

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from protocol.changeset import FORMAT_VERSION, SUPPORTED_FORMATS
from protocol.errors import ForbiddenError
from sync_server import sync_service
from sync_server.auth import Principal
from sync_server.deps import current_principal, db_session, rate_limit
from sync_server.device_auth import prove_device, request_proof
from sync_server.responses import ok
from sync_server.routes.sync import _server_key

router = APIRouter(prefix="/v1/devices", tags=["devices"])
_HEX32 = r"^[0-9a-fA-F]{64}$"


class EnrollRequest(BaseModel):
    """A device's identity and public keys (hex), as `healthsync edge sync enroll` sends them."""

    model_config = ConfigDict(extra="forbid")

    device_id: uuid.UUID
    signing_key: str = Field(pattern=_HEX32, description="Ed25519 public key, 64 hex characters.")
    agreement_key: str = Field(pattern=_HEX32, description="X25519 public key, 64 hex characters.")
    # No control characters: Postgres text cannot hold NUL (a fuzzed name with one was a 500).
    name: str | None = Field(None, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
    format_version: int = Field(FORMAT_VERSION, ge=min(SUPPORTED_FORMATS), le=max(SUPPORTED_FORMATS),
                                description="The changeset format the device writes.")
    clinic_id: uuid.UUID | None = Field(None, description="Enroll as this clinic's kiosk (a clinic device); only "
                                                          "an admin or nurse of the clinic may. Absent: personal.")


@router.post("", status_code=201, dependencies=[Depends(rate_limit("devices:enroll"))])
def enroll(request: Request, payload: EnrollRequest, principal: Principal = Depends(current_principal),
           conn=Depends(db_session)):
    """Register this device's Ed25519 and X25519 public keys for the signed-in user."""
    out = sync_service.enroll(conn, str(principal.user_id), str(payload.device_id),
                              bytes.fromhex(payload.signing_key), bytes.fromhex(payload.agreement_key),
                              payload.name, _server_key(request), payload.format_version,
                              str(payload.clinic_id) if payload.clinic_id else None)
    return ok(out, message="device enrolled", status_code=201)


@router.post("/{device_id}/revoke", dependencies=[Depends(rate_limit("devices:revoke"))])
def revoke(device_id: uuid.UUID, conn=Depends(db_session)):
    """Revoke one of the caller's devices."""
    return ok(sync_service.revoke(conn, str(device_id)), message="device revoked")


class QuarantinedItem(BaseModel):
    """One quarantined change as the device holds it: the table and the server's reason (code and sentence, which
    name columns, never values)."""

    model_config = ConfigDict(extra="ignore")

    table: str = Field(max_length=64, pattern=r"^[a-z_]+$")
    code: str = Field(max_length=64, pattern=r"^[A-Z0-9_]+$")
    reason: str = Field("", max_length=300)


class DeviceReport(BaseModel):
    """What only the device knows about its sync; `healthsync edge sync run` sends it after every round."""

    model_config = ConfigDict(extra="forbid")

    app_version: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9._+-]*$")
    schema_version: int | None = Field(None, ge=0, le=1_000_000)
    pending: int = Field(0, ge=0, le=100_000_000)
    quarantined: int = Field(0, ge=0, le=100_000_000)
    quarantine: list[QuarantinedItem] = Field(default_factory=list, max_length=50)
    last_error: str | None = Field(None, max_length=500, pattern=r"^[^\x00]*$")
    last_push_at: dt.datetime | None = None
    last_pull_at: dt.datetime | None = None


async def _raw_body(request: Request) -> bytes:
    return await request.body()  # read once by the body-limit middleware; the device's signature covers it


@router.post("/{device_id}/report", dependencies=[Depends(rate_limit("devices:report"))])
def report(request: Request, device_id: uuid.UUID, payload: DeviceReport, body: bytes = Depends(_raw_body),
           principal: Principal = Depends(current_principal), conn=Depends(db_session)):
    """Store the device's latest sync health (one row per device, replaced). The request must be signed by that
    very device (protocol.request_auth), so nobody reports for a device they do not hold."""
    proven = prove_device(conn, str(principal.user_id), request_proof(request, body), _server_key(request))
    if proven != str(device_id):
        raise ForbiddenError("a device reports only for itself", field="device_id")
    conn.execute(
        "INSERT INTO device_reports (owner_id, device_id, user_id, clinic_id, reported_at, app_version, "
        "schema_version, pending, quarantined, quarantine, last_error, last_push_at, last_pull_at) "
        "SELECT d.user_id, d.id, %(user)s, d.clinic_id, now(), %(app)s, %(schema)s, %(pending)s, %(quarantined)s, "
        "%(items)s::jsonb, %(error)s, %(push)s, %(pull)s FROM sync_devices d WHERE d.id = %(device)s "
        "AND (d.user_id = %(user)s OR d.kind = 'clinic') ORDER BY (d.user_id = %(user)s) DESC LIMIT 1 "
        "ON CONFLICT (owner_id, device_id) DO UPDATE SET user_id = EXCLUDED.user_id, "
        "reported_at = EXCLUDED.reported_at, app_version = EXCLUDED.app_version, "
        "schema_version = EXCLUDED.schema_version, pending = EXCLUDED.pending, "
        "quarantined = EXCLUDED.quarantined, quarantine = EXCLUDED.quarantine, last_error = EXCLUDED.last_error, "
        "last_push_at = EXCLUDED.last_push_at, last_pull_at = EXCLUDED.last_pull_at",
        {"user": principal.user_id, "app": payload.app_version, "schema": payload.schema_version,
         "pending": payload.pending, "quarantined": payload.quarantined,
         "items": json.dumps([i.model_dump() for i in payload.quarantine]), "error": payload.last_error,
         "push": payload.last_push_at, "pull": payload.last_pull_at, "device": str(device_id)})
    return ok({"device_id": str(device_id)}, message="report stored")
