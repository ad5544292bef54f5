"""The console's staff pages: sign-in, the doctor's patients, chart and calendar, the staff's queue, the admin's
devices, audit log, analytics, clinic management and bulk import/export (the patient's page is my_care.py).
Each page decodes, calls queries/bulk on the signed-in user's RLS connection, and renders a template."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError

from protocol.envelope import current_request_id
from protocol.errors import ForbiddenError, HealthSyncError, NotFoundError
from sync_server import alerts, audit, tenancy
from sync_server.console import bulk, queries
from sync_server.console import session as sess
from sync_server.console.session import ConsoleUser
from sync_server.marketplace import bids

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
HOME = {"doctor": "/console/patients", "nurse": "/console/queue", "staff": "/console/queue",
        "admin": "/console/devices", "patient": "/console/my-care"}
# Who may open which area (RLS still decides every row; this keeps the menus honest and a patient off staff
# screens, whose lists RLS would show empty to them anyway).
AREAS = {"doctor": {"doctor"}, "staff": {"nurse", "staff", "doctor", "admin"}, "admin": {"admin"},
         "patient": {"patient"}}


class NotAllowed(Exception):
    """The signed-in role has no such screen."""


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def render(request: Request, user: ConsoleUser | None, template: str, status_code: int = 200,
           **ctx: Any) -> HTMLResponse:
    """A page: the template with the user, nav and CSRF token; refreshed session cookies attached; never cached."""
    response = templates.TemplateResponse(request, template, {"user": user, "home": HOME, **ctx},
                                          status_code=status_code)
    for name, value, age in (user.set_cookies if user else []):
        sess.set_cookie(request, response, name, value, age)
    return response


def _db(request: Request, user: ConsoleUser):
    return request.app.state.db.session(user.principal.db_role, user.principal.claims)


def _require(user: ConsoleUser, area: str) -> None:
    if user.role not in AREAS[area]:
        raise NotAllowed(area)


# ------------------------------------------------------------------ sign-in


@router.get("/login")
def login_form(request: Request, error: str | None = None):
    token = sess.new_login_csrf()
    response = render(request, None, "login.html", login_csrf=token, error=error)
    sess.set_cookie(request, response, sess.LOGIN_CSRF_COOKIE, token, 1800)
    return response


@router.post("/login")
async def login(request: Request, email: str = Form("", max_length=320), password: str = Form("", max_length=1024),
                csrf: str = Form("", max_length=200)):
    sess.check_login_csrf(request, csrf)
    answer = await sess.sign_in(request, email.strip(), password)
    if not isinstance(answer, dict):
        message = {"invalid_credentials": "Wrong email or password.",
                   "over_request_rate_limit": "Too many attempts; wait a few minutes and try again."}.get(
            answer, "Sign-in failed; try again.")
        return login_form(request, error=message)
    role = ((answer.get("user") or {}).get("app_metadata") or {}).get("role") or "patient"
    if role not in sess.CONSOLE_ROLES:
        return login_form(request, error="This sign-in has no role the console knows.")
    response = RedirectResponse(HOME.get(role, "/console/"), status_code=303)
    for name, value, age in sess.cookies_for(answer):
        sess.set_cookie(request, response, name, value, age)
    response.delete_cookie(sess.LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, csrf: str = Form(""), user: ConsoleUser = Depends(sess.current_user)):
    sess.check_csrf(request, user, csrf)
    token = request.cookies.get(sess.ACCESS_COOKIE, "")
    async with sess._auth_client(request) as http:  # revoke the refresh token on the auth server too
        await http.post("/auth/v1/logout", params={"scope": "local"}, headers={"Authorization": f"Bearer {token}"})
    response = RedirectResponse("/console/login", status_code=303)
    sess.clear_cookies(response)
    return response


@router.get("/session")
def keep_session(request: Request, user: ConsoleUser = Depends(sess.current_user)):
    """live.js asks here before it reconnects a socket the server closed for an expired token: the dependency
    refreshes the access token (cookies rotated on this answer), so the next handshake carries a valid one."""
    response = Response(status_code=204)
    for name, value, age in user.set_cookies:
        sess.set_cookie(request, response, name, value, age)
    return response


@router.get("/")
@router.get("")
def home(user: ConsoleUser = Depends(sess.current_user)):
    return RedirectResponse(HOME.get(user.role, "/console/login"), status_code=303)


# ------------------------------------------------------------------ doctor


@router.get("/patients")
def patients(request: Request, offset: int = Query(0, ge=0, le=1_000_000),
             user: ConsoleUser = Depends(sess.current_user)):
    _require(user, "staff")
    with _db(request, user) as conn:
        found = queries.my_patients(conn, user.principal, "", offset)
    return render(request, user, "patients.html", found=found, q="")


@router.post("/patients/search")
def search_patients(request: Request, q: str = Form("", max_length=100), csrf: str = Form(""),
                    user: ConsoleUser = Depends(sess.current_user)):
    """A name search is sent in the body (a POST), so no name ever lands in a URL, a log or the history."""
    _require(user, "staff")
    sess.check_csrf(request, user, csrf)
    with _db(request, user) as conn:
        found = queries.my_patients(conn, user.principal, q.strip(), 0)
    return render(request, user, "patients_rows.html", found=found, q=q)


@router.get("/patients/{patient_id}")
def patient_chart(request: Request, patient_id: str, user: ConsoleUser = Depends(sess.current_user)):
    _require(user, "staff")
    patient = _uuid(patient_id)
    with _db(request, user) as conn:
        # Outside the caller's scope and nonexistent answer the same page: no oracle for who exists.
        if patient is None or not queries.in_scope(conn, patient):
            return render(request, user, "not_found.html", status_code=404)
        chart = queries.chart(conn, user.principal, patient)
    label = (chart["profile"] or {}).get("full_name") or "Patient"
    family = queries.family_elements(patient, label, chart["family"])
    return render(request, user, "chart.html", patient_id=patient, chart=chart,
                  series_json=json.dumps(chart["series"]), family_json=json.dumps(family))


@router.get("/appointments")
def appointments(request: Request, user: ConsoleUser = Depends(sess.current_user)):
    _require(user, "doctor")
    with _db(request, user) as conn:
        rows = queries.my_appointments(conn)
    return render(request, user, "calendar.html", weeks=queries.calendar(rows, dt.datetime.now(dt.UTC).date()))


# ------------------------------------------------------------------ clinic staff


@router.get("/queue")
def queue(request: Request, user: ConsoleUser = Depends(sess.current_user)):
    _require(user, "staff")
    with _db(request, user) as conn:
        rows = queries.todays_queue(conn, user.principal)
    template = "queue_rows.html" if request.headers.get("hx-request") else "queue.html"
    return render(request, user, template, rows=rows)


@router.get("/alerts")
def alerts_list(request: Request, user: ConsoleUser = Depends(sess.current_user)):
    """The queue page's alerts list (htmx re-fetches it on each health_alert event)."""
    _require(user, "staff")
    return _alerts(request, user)


def _alerts(request: Request, user: ConsoleUser, error: str | None = None) -> HTMLResponse:
    with _db(request, user) as conn:
        rows = queries.open_alerts(conn, user.principal)
    return render(request, user, "alerts_rows.html", alerts=rows, error=error)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(request: Request, alert_id: str, csrf: str = Form(""), user: ConsoleUser = Depends(sess.current_user)):
    """The same rule as POST /api/v1/alerts/{id}/acknowledge (sync_server.alerts, under the user's RLS)."""
    _require(user, "staff")
    sess.check_csrf(request, user, csrf)
    alert = _uuid(alert_id)
    if alert is None:
        return _alerts(request, user, "No such alert.")
    try:
        with _db(request, user) as conn:
            row = alerts.acknowledge(conn, alert)
            audit.record(conn, user.principal, "update", "health_alerts", row_id=alert, subject_id=row["patient_id"],
                         detail={"view": "console:alerts"})
    except HealthSyncError as exc:
        return _alerts(request, user, f"Not acknowledged: {exc.message}")
    return _alerts(request, user)


@router.get("/requests")
def care_requests(request: Request, user: ConsoleUser = Depends(sess.current_user)):
    """Care requests open for bids: a doctor's to bid on, the clinic's with every bid (live on appointment events)."""
    _require(user, "staff")
    return _requests(request, user)


def _requests(request: Request, user: ConsoleUser, error: str | None = None,
              notice: str | None = None) -> HTMLResponse:
    with _db(request, user) as conn:
        rows = queries.open_requests(conn, user.principal)
    template = "requests_rows.html" if request.headers.get("hx-request") else "requests.html"
    return render(request, user, template, requests=rows, error=error, notice=notice)


class BidForm(BaseModel):
    """The bid form's fields (the start is UTC, as the form says)."""

    price: float = Field(ge=0, le=1_000_000, allow_inf_nan=False)
    slot_start: dt.datetime
    minutes: int = Field(30, ge=5, le=720)
    note: str = Field("", max_length=1000)


@router.post("/requests/{appointment_id}/bid")
def bid(request: Request, appointment_id: str, csrf: str = Form(""), price: str = Form("", max_length=32),
        slot_start: str = Form("", max_length=40), minutes: str = Form("30", max_length=8),
        note: str = Form("", max_length=1000), user: ConsoleUser = Depends(sess.current_user)):
    """A doctor's bid, by the marketplace's rule (bids.place: matched or of the specialty, still open). A bad field
    is shown on the page (a plain 422 would leave htmx showing nothing)."""
    _require(user, "doctor")
    sess.check_csrf(request, user, csrf)
    appointment = _uuid(appointment_id)
    try:
        form = BidForm(price=price, slot_start=slot_start, minutes=minutes, note=note)
    except PydanticValidationError:
        return _requests(request, user, error="Bid not placed: give a price (0 or more), a start time (UTC) and "
                                              "the minutes (5 to 720).")
    start = form.slot_start if form.slot_start.tzinfo else form.slot_start.replace(tzinfo=dt.UTC)
    try:
        with _db(request, user) as conn:
            if appointment is None:
                raise NotFoundError("no such request")
            placed = bids.place(conn, appointment, price=form.price, slot_start=start,
                                slot_end=start + dt.timedelta(minutes=form.minutes), note=form.note or None)
            audit.record(conn, user.principal, "create", "appointment_bids", row_id=placed["id"])
    except HealthSyncError as exc:
        return _requests(request, user, error=f"Bid not placed: {exc.message}")
    return _requests(request, user, notice="Bid placed.")


# ------------------------------------------------------------------ admin


@router.get("/devices")
def devices(request: Request, quiet_minutes: int | None = Query(None, ge=1, le=525_600),
            user: ConsoleUser = Depends(sess.current_user)):
    _require(user, "admin")
    with _db(request, user) as conn:
        threshold = quiet_minutes or queries.quiet_minutes(conn)
        health = queries.devices(conn, threshold)
    template = "devices_rows.html" if request.headers.get("hx-request") else "devices.html"
    return render(request, user, template, threshold=threshold, **health)


@router.get("/audit")
def audit_view(request: Request, patient: str = Query("", max_length=64), staff: str = Query("", max_length=64),
               device: str = Query("", max_length=64), break_glass: bool = Query(False),
               user: ConsoleUser = Depends(sess.current_user)):
    _require(user, "admin")
    filters = {"patient": _uuid(patient), "staff": _uuid(staff), "device": _uuid(device)}
    bad = [k for k, v in (("patient", patient), ("staff", staff), ("device", device)) if v and filters[k] is None]
    with _db(request, user) as conn:
        rows = [] if bad else queries.audit_log(conn, break_glass_only=break_glass, **filters)
    return render(request, user, "audit.html", rows=rows, bad=bad, patient=patient, staff=staff, device=device,
                  break_glass=break_glass)


@router.get("/analytics")
def analytics(request: Request, user: ConsoleUser = Depends(sess.current_user)):
    _require(user, "admin")
    with _db(request, user) as conn:
        volumes = queries.metric_volumes(conn)
        funnel = queries.appointment_funnel(conn)
        performance = queries.doctor_performance(conn)
    volume_json = json.dumps({"x": [v["day"].timestamp() for v in volumes], "y": [v["n"] for v in volumes]})
    return render(request, user, "analytics.html", volumes=volumes, volume_json=volume_json, funnel=funnel,
                  performance=performance)


@router.get("/manage")
def manage(request: Request, notice: str | None = None, error: str | None = None,
           user: ConsoleUser = Depends(sess.current_user)):
    _require(user, "admin")
    with _db(request, user) as conn:
        view = queries.clinic_admin_view(conn)
    return render(request, user, "manage.html", notice=notice, error=error, **view)


@router.post("/manage/clinics")
def create_clinic(request: Request, csrf: str = Form(""), name: str = Form("", max_length=400),
                  first_admin: str = Form("", max_length=64), user: ConsoleUser = Depends(sess.current_user)):
    """A platform admin creates a clinic with its first admin (default: themselves). The database decides
    (0092's app.create_clinic refuses anyone without the claim, whatever this page shows) and audits it."""
    _require(user, "admin")
    sess.check_csrf(request, user, csrf)
    admin = _uuid(first_admin.strip()) if first_admin.strip() else user.principal.user_id
    if admin is None:
        return manage(request, error="The first admin is a user id (UUID), or empty for yourself.", user=user)
    try:
        with _db(request, user) as conn:
            clinic = tenancy.create_clinic_as_platform_admin(conn, name, admin, current_request_id())
    except ForbiddenError:
        return manage(request, error="Not created: only a platform admin may create a clinic.", user=user)
    except HealthSyncError as exc:
        return manage(request, error=f"Not created: {exc.message}", user=user)
    return manage(request, notice=f"Clinic {clinic['name']} created.", user=user)


@router.post("/manage/staff")
def add_staff(request: Request, csrf: str = Form(""), clinic_id: str = Form(""), user_id: str = Form(""),
              role: str = Form(""), user: ConsoleUser = Depends(sess.current_user)):
    _require(user, "admin")
    sess.check_csrf(request, user, csrf)
    clinic, member = _uuid(clinic_id), _uuid(user_id)
    if clinic is None or member is None or role not in ("nurse", "doctor", "admin"):
        return manage(request, error="Give a clinic, a user id (UUID) and a role.", user=user)
    try:
        with _db(request, user) as conn:  # RLS: only an admin of that clinic may add its staff
            tenancy.add_staff(conn, clinic, member, role)
    except HealthSyncError as exc:
        return manage(request, error=f"Not added: {exc.message}", user=user)
    return manage(request, notice=f"Staff member added as {role}.", user=user)


@router.post("/manage/staff/remove")
def remove_staff(request: Request, csrf: str = Form(""), clinic_id: str = Form(""), user_id: str = Form(""),
                 user: ConsoleUser = Depends(sess.current_user)):
    _require(user, "admin")
    sess.check_csrf(request, user, csrf)
    clinic, member = _uuid(clinic_id), _uuid(user_id)
    with _db(request, user) as conn:
        n = conn.execute("DELETE FROM clinic_staff WHERE clinic_id = %s AND user_id = %s AND user_id <> auth.uid()",
                         (clinic, member)).rowcount if clinic and member else 0
    return manage(request, notice="Staff member removed." if n else None,
                  error=None if n else "Nothing removed (you cannot remove yourself).", user=user)


@router.get("/import")
def import_form(request: Request, user: ConsoleUser = Depends(sess.current_user)):
    _require(user, "admin")
    with _db(request, user) as conn:
        clinics = queries.clinic_admin_view(conn)["clinics"]
    return render(request, user, "import.html", clinics=clinics, report=None, columns=bulk.COLUMNS)


@router.post("/import")
async def import_upload(request: Request, file: UploadFile, csrf: str = Form(""), kind: str = Form("patients"),
                        clinic_id: str = Form(""), good_only: bool = Form(False),
                        user: ConsoleUser = Depends(sess.current_user)):
    _require(user, "admin")
    sess.check_csrf(request, user, csrf)
    data = await file.read()
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_import, request, user, kind, _uuid(clinic_id), data, good_only)


def _import(request: Request, user: ConsoleUser, kind: str, clinic: uuid.UUID | None, data: bytes,
            good_only: bool) -> HTMLResponse:
    with _db(request, user) as conn:
        clinics = queries.clinic_admin_view(conn)["clinics"]
        report = None
        if kind in bulk.COLUMNS and clinic in {c["id"] for c in clinics}:
            report = bulk.import_csv(conn, user.principal, kind, clinic, data, good_only=good_only,
                                     hlc=request.app.state.hlc)
    error = None if report else "Choose what to import and one of your clinics."
    return render(request, user, "import.html", clinics=clinics, report=report, columns=bulk.COLUMNS, error=error,
                  status_code=200 if report and (report.applied or not report.errors) else 422)


@router.get("/export/{kind}.csv")
def export(request: Request, kind: str, user: ConsoleUser = Depends(sess.current_user)):
    _require(user, "admin")
    if kind not in bulk.COLUMNS:
        return render(request, user, "not_found.html", status_code=404)
    with _db(request, user) as conn:
        text = bulk.export_csv(conn, user.principal, kind)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{kind}.csv"', "Cache-Control": "no-store"})
