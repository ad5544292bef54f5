"""POST /v1/patients/claims (a kiosk files the digest of a claim code it showed) and POST /v1/patients/claim (the
patient's phone redeems the code and gets a session for the patient's id). The rules are in sync_server/claims.py."""
from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from protocol.errors import ForbiddenError, RateLimitedError
from sync_server import audit, claims
from sync_server.auth import Principal
from sync_server.auth_service import SERVICE_CLAIMS, token_answer
from sync_server.auth_users import open_session
from sync_server.deps import client_ip, current_principal, db_session, rate_limit
from sync_server.responses import ok
from sync_server.routes.sync import _server_key

router = APIRouter(prefix="/v1/patients", tags=["patients"])


class FileClaim(BaseModel):
    """A claim code's digest for a patient registered at the kiosk's clinic (never the code itself)."""

    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID
    clinic_id: uuid.UUID
    code_digest: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256 of the code's normal form "
                                                                    "(protocol.claims.code_digest).")
    expires_at: dt.datetime


class RedeemClaim(BaseModel):
    """The code the kiosk showed, as the patient typed it."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40)


def _claim_key(request: Request) -> bytes:
    return claims.claim_key(_server_key(request))


@router.post("/claims", status_code=201, dependencies=[Depends(rate_limit("patients:claims"))])
def file_claim(request: Request, payload: FileClaim, principal: Principal = Depends(current_principal),
               conn=Depends(db_session)):
    """File a claim code's digest (staff of the clinic, for a patient actively registered there)."""
    out = claims.file_claim(conn, _claim_key(request), principal.user_id, payload.clinic_id, payload.patient_id,
                            payload.code_digest, payload.expires_at)
    audit.record(conn, principal, "claim_filed", "patient_claims", subject_id=payload.patient_id)
    return ok(out, message="claim code filed", status_code=201)


def _limit(request: Request, who: str) -> None:
    """Few attempts per window, per sign-in and per address: 50-bit codes must stay out of a guesser's reach."""
    auth = request.app.state.auth_settings
    decision = request.app.state.limiter.hit(f"patients:claim:{who}", auth.claim_attempts, auth.rate_window_s)
    if not decision.allowed:
        raise RateLimitedError(f"too many claim attempts: {auth.claim_attempts} per {auth.rate_window_s} s",
                               retry_after=decision.retry_after_s)


@router.post("/claim")
async def redeem_claim(request: Request, payload: RedeemClaim, principal: Principal = Depends(current_principal)):
    """Take over the record a kiosk registered: the code is used once, the caller's new sign-in becomes the
    patient, and the answer carries a fresh session (Supabase's JSON) for the patient's id."""
    _limit(request, f"user:{principal.user_id}")
    _limit(request, f"ip:{client_ip(request)}")
    if principal.role != "patient" or principal.db_role != "authenticated":
        raise ForbiddenError("only a patient's own sign-in may claim a record", hint="sign in as the patient")

    def work():
        with request.app.state.db.session("service_role", SERVICE_CLAIMS) as conn:
            patient = claims.redeem(conn, _claim_key(request), principal.user_id, payload.code,
                                    can_link=request.app.state.embedded_auth)
            audit.record(conn, Principal(patient, "patient", "authenticated"), "claim", "patient_claims",
                         subject_id=patient, detail={"linked_from": str(principal.user_id)})
            issued = open_session(conn, patient) if request.app.state.embedded_auth else None
        return patient, issued

    patient, issued = await run_in_threadpool(work)
    session = token_answer(request, issued) if issued is not None else None
    return ok({"patient_id": str(patient), "user_id": str(patient), "session": session},
              message="record claimed: enroll this device and sync to receive it")
