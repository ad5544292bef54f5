"""The marketplace's REST routes: doctor search, care requests, bids, booking and later transitions. Each decodes,
calls sync_server.marketplace and encodes; every POST and PUT honours Idempotency-Key."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from protocol.errors import ValidationError
from sync_server import audit
from sync_server.auth import Principal
from sync_server.deps import current_principal, db_session, in_transaction, rate_limit
from sync_server.marketplace import bids, booking, idempotency, performance, requests, search
from sync_server.responses import ok

router = APIRouter(tags=["marketplace"])
IdempotencyKey = Header(None, alias=idempotency.HEADER, max_length=idempotency.MAX_KEY,
                        description="Retrying with the same key returns the first answer; the work is done once.")
Urgency = Literal["self_care", "soon", "urgent", "emergency"]


def _window(value: dt.datetime | None, field: str) -> dt.datetime | None:
    """A time within a day back and a year ahead (so no arithmetic on it can overflow)."""
    if value is None:
        return None
    value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    now = dt.datetime.now(dt.UTC)
    if not now - dt.timedelta(days=1) <= value <= now + dt.timedelta(days=366):
        raise ValidationError(f"{field} must be within a day back and a year ahead", field=field)
    return value


def _search_cache(request: Request) -> search.SearchCache:
    cache = getattr(request.app.state, "search_cache", None)
    if cache is None:
        from sync_server.events.runtime import settings_of

        cache = request.app.state.search_cache = search.SearchCache(request.app.state.settings.redis_url,
                                                                     settings_of(request.app).redis_prefix)
    return cache


@router.get("/api/v1/doctors/search", dependencies=[Depends(rate_limit("doctors:search"))])
def search_doctors(
    request: Request,
    conn=Depends(db_session),
    specialty: str | None = Query(None, min_length=1, max_length=100),
    near: str | None = Query(None, max_length=64, description="lat,lon in degrees (rounded to 0.01°)"),
    radius_km: float | None = Query(None, gt=0, le=20000, allow_inf_nan=False),
    language: str | None = Query(None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$"),
    max_price: float | None = Query(None, ge=0, le=10_000_000, allow_inf_nan=False),
    available_from: dt.datetime | None = Query(None, description="only doctors with a free slot from then on"),
):
    """Doctors ranked by specialty match, distance, rating, price and next free slot (cached 30 min)."""
    q = search.Query(specialty.strip() if specialty else None, search.parse_near(near), radius_km, language,
                     max_price, _window(available_from, "available_from"))
    result, cached = search.cached_search(conn, _search_cache(request), q)
    return ok({"items": result, "total": len(result), "cached": cached})


@router.get("/api/v1/doctors/performance", dependencies=[Depends(rate_limit("doctors:performance"))])
def doctor_performance(conn=Depends(db_session), doctor_id: uuid.UUID | None = Query(None),
                       limit: int = Query(100, ge=1, le=500)):
    """The doctor_performance view (refreshed on a schedule): ratings, completions, bids, win rate, time to bid."""
    return ok({"items": performance.read(conn, doctor_id, limit)})


class CareRequest(BaseModel):
    """A care request: for the caller, or (clinic staff) for patient_id; from a symptom record or free text."""

    model_config = ConfigDict(extra="forbid")
    patient_id: uuid.UUID | None = None
    symptom_id: uuid.UUID | None = None
    description: str | None = Field(None, min_length=1, max_length=2000)
    specialty: str | None = Field(None, min_length=1, max_length=100)
    urgency: Urgency | None = None


class BidBody(BaseModel):
    """A doctor's offer: price and slot."""

    model_config = ConfigDict(extra="forbid")
    price: float = Field(ge=0, le=1_000_000, allow_inf_nan=False)
    slot_start: dt.datetime
    slot_end: dt.datetime
    note: str | None = Field(None, max_length=1000)


class AppointmentMove(BaseModel):
    """A status change: `booked` with the accepted bid_id, or a later status (from `expected_status`, optional)."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["booked", "confirmed", "checked_in", "completed", "cancelled", "no_show", "expired"]
    bid_id: uuid.UUID | None = None
    expected_status: Literal["requested", "confirmed", "booked", "checked_in"] | None = None


def _hlc(request: Request) -> str:
    return request.app.state.hlc.now().encode()


@router.post("/api/v1/appointments", status_code=201, dependencies=[Depends(rate_limit("appointments:create"))])
def create_request(request: Request, body: CareRequest, principal: Principal = Depends(current_principal),
                   conn=Depends(db_session), idempotency_key: str | None = IdempotencyKey):
    """Open a care request; the matched doctors are notified (appointment_update) and may bid."""

    def act() -> tuple[int, Any, str]:
        row = requests.open_request(conn, principal.user_id, _hlc(request), patient_id=body.patient_id,
                                    symptom_id=body.symptom_id, description=body.description,
                                    specialty=body.specialty, urgency=body.urgency,
                                    groq_api_key=request.app.state.settings.groq_api_key,
                                    http_client=getattr(request.app.state, "groq_http_client", None))
        audit.record(conn, principal, "create", "appointments", row_id=row["id"], subject_id=row["patient_id"])
        return 201, row, "care request opened"

    return idempotency.run(conn, principal.user_id, idempotency_key, "POST", request.url.path,
                           body.model_dump(mode="json"), act)


@router.get("/api/v1/appointments/{appointment_id}", dependencies=[Depends(rate_limit("appointments:read"))])
def read_appointment(appointment_id: uuid.UUID, principal: Principal = Depends(current_principal),
                     conn=Depends(db_session)):
    """An appointment or request the caller may read, with the bids they may read."""
    row = booking.get(conn, appointment_id)
    audit.record(conn, principal, "read", "appointments", row_id=appointment_id, subject_id=row["patient_id"])
    return ok(row)


@router.post("/api/v1/appointments/{appointment_id}/bids", status_code=201,
             dependencies=[Depends(rate_limit("appointments:bid"))])
def create_bid(request: Request, appointment_id: uuid.UUID, body: BidBody,
               principal: Principal = Depends(current_principal), conn=Depends(db_session),
               idempotency_key: str | None = IdempotencyKey):
    """A matched doctor's bid; the patient sees it live (appointment_bid). Others: 403."""

    def act() -> tuple[int, Any, str]:
        bid = bids.place(conn, appointment_id, price=body.price, slot_start=body.slot_start, slot_end=body.slot_end,
                         note=body.note)
        audit.record(conn, principal, "create", "appointment_bids", row_id=bid["id"])
        return 201, bid, "bid placed"

    return idempotency.run(conn, principal.user_id, idempotency_key, "POST", request.url.path,
                           body.model_dump(mode="json"), act)


@router.put("/api/v1/appointments/{appointment_id}")
async def update_appointment(request: Request, appointment_id: uuid.UUID, body: AppointmentMove,
                             principal: Principal = Depends(current_principal),
                             idempotency_key: str | None = IdempotencyKey):
    """Book (`{"status": "booked", "bid_id"}`) or move an appointment; compare-and-swap, 409 when it lost a race.
    The booking storm's route: rate limit, transaction and work in one thread hop (`in_transaction`)."""

    def work(conn):
        def act() -> tuple[int, Any, str]:
            row = booking.transition(conn, appointment_id, body.status, _hlc(request), bid_id=body.bid_id,
                                     expected=body.expected_status)
            audit.record(conn, principal, "update", "appointments", row_id=appointment_id,
                         subject_id=row["patient_id"], detail={"status": body.status})
            return 200, row, f"appointment {body.status}"

        return idempotency.run(conn, principal.user_id, idempotency_key, "PUT", request.url.path,
                               body.model_dump(mode="json"), act)

    return await in_transaction(request, principal, "appointments:update", work)
