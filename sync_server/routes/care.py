"""POST /api/v1/break-glass: staff open a patient outside their care scope for a stated reason (time-limited,
audited and flagged)."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from sync_server import audit, tenancy
from sync_server.auth import Principal
from sync_server.deps import current_principal, db_session, rate_limit
from sync_server.responses import ok

router = APIRouter(prefix="/api/v1", tags=["care"])


class BreakGlassRequest(BaseModel):
    """Whom to open, and why (kept in the grant and the audit log)."""

    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID
    reason: str = Field(min_length=10, max_length=1000, description="Why the patient must be opened now.")


@router.post("/break-glass", status_code=201, dependencies=[Depends(rate_limit("care:break-glass"))])
def break_glass(payload: BreakGlassRequest, principal: Principal = Depends(current_principal),
                conn=Depends(db_session)):
    """Open a patient outside the caller's scope for app.settings break_glass_minutes (default 60), read-only."""
    grant = tenancy.open_break_glass(conn, principal.user_id, payload.patient_id, payload.reason)
    audit.record(conn, principal, "break_glass_open", "break_glass", row_id=uuid.UUID(grant["id"]),
                 subject_id=payload.patient_id, detail={"reason": payload.reason.strip()}, break_glass=True)
    return ok(grant, message="break-glass access opened; it is audited", status_code=201)
