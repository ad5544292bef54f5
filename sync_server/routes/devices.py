"""POST /v1/devices (enroll a device's public keys with a user JWT) and POST /v1/devices/{id}/revoke."""
from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Request

from protocol.errors import ValidationError
from sync_server import sync_service
from sync_server.auth import Principal
from sync_server.deps import current_principal, db_session, rate_limit
from sync_server.responses import ok
from sync_server.routes.sync import _server_key

router = APIRouter(prefix="/v1/devices", tags=["devices"])


def _hex32(payload: dict, name: str) -> bytes:
    try:
        raw = bytes.fromhex(str(payload[name]))
    except (KeyError, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValidationError(f"{name} must be 64 hex characters", field=name)
    return raw


@router.post("", status_code=201, dependencies=[Depends(rate_limit("devices:enroll"))])
def enroll(request: Request, payload: dict = Body(...), principal: Principal = Depends(current_principal),
           conn=Depends(db_session)):
    """Register this device's Ed25519 and X25519 public keys for the signed-in user."""
    out = sync_service.enroll(conn, str(principal.user_id), str(payload.get("device_id")),
                              _hex32(payload, "signing_key"), _hex32(payload, "agreement_key"),
                              payload.get("name"), _server_key(request), int(payload.get("format_version", 2)))
    return ok(out, message="device enrolled", status_code=201)


@router.post("/{device_id}/revoke", dependencies=[Depends(rate_limit("devices:revoke"))])
def revoke(device_id: str, conn=Depends(db_session)):
    """Revoke one of the caller's devices."""
    return ok(sync_service.revoke(conn, device_id), message="device revoked")
