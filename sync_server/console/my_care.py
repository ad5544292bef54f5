"""The patient's side of the marketplace in the console, /console/my-care: my open care requests with their bids
arriving live (appointment_bid / appointment_update on /v1/ws), Accept on a bid, my booked appointments, and a
form to ask for care. Accepting and asking run the very code of PUT and POST /api/v1/appointments
(sync_server.marketplace) under the patient's own RLS, with an Idempotency-Key rendered into each form, so a
double click books once and shows the first answer."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Form, Header, Request
from fastapi.responses import HTMLResponse

from protocol.codes import ErrorCode
from protocol.errors import HealthSyncError
from sync_server import audit
from sync_server.console import queries
from sync_server.console import session as sess
from sync_server.console.pages import _db, _require, _uuid, render
from sync_server.console.session import ConsoleUser
from sync_server.marketplace import booking, idempotency, requests

router = APIRouter(prefix="/console", include_in_schema=False)
IdempotencyKey = Header(None, alias=idempotency.HEADER, max_length=idempotency.MAX_KEY)
# What a patient is told when an accept loses (the API's 409 codes), and what to do about it.
REFUSALS = {
    ErrorCode.ALREADY_BOOKED: "Not booked: this request is already booked (perhaps from another device or by your "
                              "clinic). Your appointments below show the booking.",
    ErrorCode.SLOT_TAKEN: "Not booked: that doctor's slot was just taken by another booking. Choose another bid, "
                          "or wait for the doctor to offer a new time.",
}


def _new_key() -> str:
    """A fresh Idempotency-Key for one form as rendered: its retries and double clicks share it."""
    return f"console-{uuid.uuid4()}"


def _page(request: Request, user: ConsoleUser, *, notice: str | None = None, error: str | None = None,
          status_code: int = 200) -> HTMLResponse:
    with _db(request, user) as conn:
        care = queries.my_care(conn, user.principal)
    partial = bool(request.headers.get("hx-request"))
    # htmx swaps only 2xx answers, so a refusal it asked for is a 200 page that says so.
    return render(request, user, "my_care_rows.html" if partial else "my_care.html",
                  status_code=200 if partial else status_code,
                  partial=partial, notice=notice, error=error, new_key=_new_key, **care)


@router.get("/my-care")
def my_care(request: Request, user: ConsoleUser = Depends(sess.current_user)):
    _require(user, "patient")
    return _page(request, user)


def _envelope_message(answer: dict[str, Any]) -> tuple[str | None, str]:
    error = answer.get("error") or {}
    return error.get("code"), error.get("message") or answer.get("message") or ""


def _run_once(request: Request, user: ConsoleUser, key: str | None, method: str, body: dict[str, Any],
              act: Callable[[Any], tuple[int, Any, str]]) -> tuple[int, dict[str, Any]]:
    """Run `act` in the patient's own transaction, once per Idempotency-Key (a retry or a double click gets the
    first answer, as the API's): the status and the answer's envelope."""
    try:
        with _db(request, user) as conn:
            if key:
                status, answer, _ = idempotency.answer(conn, user.principal.user_id, key, method, request.url.path,
                                                       body, lambda: act(conn))
                return status, answer
            status, row, _ = act(conn)
            return status, {"data": row}
    except HealthSyncError as exc:
        return exc.http_status, {"error": exc.to_dict()}


@router.post("/my-care/{appointment_id}/accept")
def accept(request: Request, appointment_id: str, bid_id: str = Form("", max_length=64), csrf: str = Form(""),
           idempotency_key: str | None = IdempotencyKey, user: ConsoleUser = Depends(sess.current_user)):
    """Accept a bid: booking.transition(…, "booked", bid_id), the PUT /api/v1/appointments/{id} rule."""
    _require(user, "patient")
    sess.check_csrf(request, user, csrf)
    appointment, bid = _uuid(appointment_id), _uuid(bid_id)
    if appointment is None or bid is None:
        return _page(request, user, error="Not booked: no such request or bid.", status_code=422)
    hlc = request.app.state.hlc.now().encode()

    def act(conn) -> tuple[int, Any, str]:
        row = booking.transition(conn, appointment, "booked", hlc, bid_id=bid)
        audit.record(conn, user.principal, "update", "appointments", row_id=appointment, subject_id=row["patient_id"],
                     detail={"status": "booked", "view": "console:my-care"})
        return 200, row, "appointment booked"

    status, answer = _run_once(request, user, idempotency_key, "PUT", {"status": "booked", "bid_id": str(bid)}, act)
    if status == 200:
        return _page(request, user, notice="Booked. The doctor has been told; the appointment is below.")
    code, message = _envelope_message(answer)
    return _page(request, user, error=REFUSALS.get(code, f"Not booked: {message}"), status_code=status)


@router.post("/my-care/request")
def ask_for_care(request: Request, description: str = Form("", max_length=2000),
                 specialty: str = Form("", max_length=100), csrf: str = Form(""),
                 idempotency_key: str | None = IdempotencyKey, user: ConsoleUser = Depends(sess.current_user)):
    """Open a care request for myself: requests.open_request, the POST /api/v1/appointments rule (matching,
    notifying the matched doctors)."""
    _require(user, "patient")
    sess.check_csrf(request, user, csrf)
    if not description.strip():
        return _page(request, user, error="Describe what is wrong, in a few words.", status_code=422)
    settings = request.app.state.settings
    hlc = request.app.state.hlc.now().encode()

    def act(conn) -> tuple[int, Any, str]:
        row = requests.open_request(conn, user.principal.user_id, hlc, description=description.strip(),
                                    specialty=specialty.strip() or None, groq_api_key=settings.groq_api_key,
                                    http_client=getattr(request.app.state, "groq_http_client", None))
        audit.record(conn, user.principal, "create", "appointments", row_id=row["id"], subject_id=row["patient_id"],
                     detail={"view": "console:my-care"})
        return 201, row, "care request opened"

    body = {"description": description.strip(), "specialty": specialty.strip() or None}
    status, answer = _run_once(request, user, idempotency_key, "POST", body, act)
    if status == 201:
        return _page(request, user, notice="Request sent. Doctors who match it can now offer you a time; their "
                                           "bids appear here as they come.")
    return _page(request, user, error=f"Not sent: {_envelope_message(answer)[1]}", status_code=status)
