"""Kiosk screens for people: sign in (email + password, then PIN unlock), the lock screen, sign out, and Patients
(find, register, check in, today's list, choose the patient being seen)."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from edge import auth_session, patients
from edge.app import session as sessions
from edge.app.session import Session
from edge.app.web import SCREENS, current, error_text, redirect, render, staff_only
from edge.store import Store
from edge.voice.ws import voice_store
from protocol.errors import HealthSyncError, InputError, ValidationError

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(session: Session | None = Depends(current)) -> Response:
    from fastapi.responses import RedirectResponse

    if session is None:
        return RedirectResponse("/sign-in", status_code=303)
    return RedirectResponse("/lock" if session.locked else ("/patients" if session.staff else "/vitals"),
                            status_code=303)


@router.get("/sign-in")
def sign_in_page(request: Request, store: Store = Depends(voice_store)):
    state = auth_session.load(store)
    pin_ready = any(r.get("pin") for r in state["sessions"].values()) and not state["pin_locked"]
    return render(request, "signin.html", None, pin_ready=pin_ready, kiosk=patients.device_clinic(store) is not None)


@router.post("/sign-in")
def sign_in(request: Request, email: str = Form(""), password: str = Form(""), pin: str = Form(""),
            store: Store = Depends(voice_store)):
    """Email + password through the edge's Supabase sign-in; staff may set a PIN for unlocking later."""
    from edge.auth_cli import auth_url_for
    from edge.auth_client import SupabaseAuth

    try:
        if not email.strip():
            raise InputError("type your email", field="email")
        if not password:
            raise InputError("type your password", field="password")
        pin_hash = auth_session.hash_pin(pin) if pin else None  # checked before the password is sent
        url = auth_url_for(store, None)
        with SupabaseAuth(url) as auth:
            tokens = auth.sign_in(email.strip(), password)
        record = auth_session.save_sign_in(store, tokens, url, pin_hash)
    except HealthSyncError as exc:
        return render(request, "signin.html", None, error=error_text(exc), email=email, status_code=400,
                      pin_ready=False, kiosk=patients.device_clinic(store) is not None)
    new = sessions.from_record(record)
    return redirect(request, "/patients" if new.staff else "/vitals", new)


@router.get("/lock")
def lock_page(request: Request, session: Session | None = Depends(current)):
    if session is None:
        return redirect(request, "/sign-in")
    locked = replace(session, locked=True)
    return render(request, "lock.html", locked)


@router.post("/lock")
def lock_now(request: Request, session: Session | None = Depends(current)):
    """The "lock" button (and the idle timer in the page): the screen locks, the sign-in stays."""
    if session is None:
        return redirect(request, "/sign-in")
    return redirect(request, "/lock", replace(session, locked=True))


@router.post("/unlock")
def unlock(request: Request, pin: str = Form(""), password: str = Form(""),
           session: Session | None = Depends(current), store: Store = Depends(voice_store)):
    """PIN unlock of a staff session sealed on this kiosk (whoever's PIN it is takes over the screen); without a
    PIN, the password of the locked user."""
    from edge.auth_client import SupabaseAuth

    if session is None:
        return redirect(request, "/sign-in")
    try:
        if pin:
            record = auth_session.unlock_with_pin(store, pin)
        elif password:
            old = auth_session.load(store)["sessions"][session.user_id]
            with SupabaseAuth(old["auth_url"]) as auth:
                tokens = auth.sign_in(str(old["user"].get("email")), password)
            record = auth_session.save_sign_in(store, tokens, old["auth_url"])
        else:
            raise InputError("type your PIN (or your password)", field="pin")
    except HealthSyncError as exc:
        return render(request, "lock.html", replace(session, locked=True), error=error_text(exc), status_code=400)
    new = sessions.from_record(record)
    if new.user_id == session.user_id:
        new = replace(new, patient_id=session.patient_id)  # the same nurse carries on with the same patient
    return redirect(request, "/patients" if new.staff and not new.patient_id else request.query_params.get(
        "next", "/vitals" if new.patient_id else "/patients"), new)


@router.post("/sign-out")
def sign_out(request: Request, session: Session | None = Depends(current), store: Store = Depends(voice_store)):
    """End the sign-in: revoked on the auth server when reachable, erased from the store either way."""
    from edge.auth_client import SupabaseAuth

    if session is not None:
        record = auth_session.load(store)["sessions"].get(session.user_id)
        if record:
            try:
                with SupabaseAuth(record["auth_url"]) as auth:
                    auth.sign_out(record["access_token"])
            except HealthSyncError:
                pass  # offline: the local session is erased anyway; the server's expires on its own
            auth_session.remove(store, session.user_id)
    return redirect(request, "/sign-in", clear=True)


# ---------------------------------------------------------------- patients


def _today(store: Store) -> dict:
    try:
        return patients.today(store, recent=10)
    except HealthSyncError:
        return {"checked_in_today": [], "recent": []}


@router.get("/patients")
def patients_page(request: Request, session: Session = Depends(staff_only), store: Store = Depends(voice_store)):
    return render(request, "patients.html", session, today=_today(store),
                  choose=bool(request.query_params.get("choose")))


@router.post("/patients/find")
def patients_find(request: Request, query: str = Form(""), session: Session = Depends(staff_only),
                  store: Store = Depends(voice_store)):
    """Search by name, date of birth or record number (a POST: the search words never go in a URL)."""
    try:
        found, error = patients.find(store, query), None
    except HealthSyncError as exc:
        found, error = [], error_text(exc)
    return render(request, "_patient_results.html", session, found=found, error=error, query=query)


@router.post("/patients/register")
def patients_register(request: Request, full_name: str = Form(""), date_of_birth: str = Form(""),
                      sex: str = Form(""), mrn: str = Form(""), session: Session = Depends(staff_only),
                      store: Store = Depends(voice_store)):
    try:
        if not full_name.strip():
            raise ValidationError("type the patient's full name", field="full_name")
        try:
            dob = dt.date.fromisoformat(date_of_birth)
        except ValueError:
            raise ValidationError("choose the date of birth", field="date_of_birth") from None
        if sex not in ("female", "male"):
            raise ValidationError("choose female or male (sex at birth, used by the risk equations)", field="sex")
        made = patients.register(store, name=full_name.strip(), dob=dob, sex=sex, mrn=mrn.strip() or None)
    except HealthSyncError as exc:
        return render(request, "patients.html", session, today=_today(store), register_error=error_text(exc),
                      form={"full_name": full_name, "date_of_birth": date_of_birth, "sex": sex, "mrn": mrn},
                      status_code=400)
    chosen = replace(session, patient_id=made["id"])
    return render(request, "patients.html", chosen, today=_today(store), registered=made)


def _patient_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InputError("choose a patient from the list", field="patient_id") from None


@router.post("/patients/check-in")
def patients_check_in(request: Request, patient_id: str = Form(""), session: Session = Depends(staff_only),
                      store: Store = Depends(voice_store)):
    try:
        patients.check_in(store, _patient_id(patient_id))
    except HealthSyncError as exc:
        return render(request, "patients.html", session, today=_today(store), error=error_text(exc), status_code=400)
    return redirect(request, "/patients", replace(session, patient_id=patient_id))


@router.post("/patients/open")
def patients_open(request: Request, patient_id: str = Form(""), to: str = Form("/vitals"),
                  session: Session = Depends(staff_only), store: Store = Depends(voice_store)):
    """Make this the patient being seen (kept in the signed session cookie, never in a URL)."""
    try:
        patients.require_patient(store, _patient_id(patient_id))
    except HealthSyncError as exc:
        return render(request, "patients.html", session, today=_today(store), error=error_text(exc), status_code=400)
    allowed = {p for p, _, _ in SCREENS}
    return redirect(request, to if to in allowed else "/vitals", replace(session, patient_id=patient_id))
