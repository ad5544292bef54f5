"""POST /v1/devices (enroll a device's public keys with a user JWT) and POST /v1/devices/{id}/revoke."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from protocol.changeset import FORMAT_VERSION, SUPPORTED_FORMATS
from sync_server import sync_service
from sync_server.auth import Principal
from sync_server.deps import current_principal, db_session, rate_limit
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
