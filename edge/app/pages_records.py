"""Kiosk screens that record: Vitals (typed readings, validated by the shared schema; correct or delete),
Speak a symptom, Scan and Therapy. The last three are pages over the local API's own routes (voice WebSocket,
`/v1/scan`, therapy WebSocket), which read the patient from the same session cookie."""
from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Depends, Form, Request

from edge.app.session import Session
from edge.app.web import error_text, patient_of, render, signed_in, staff_only
from edge.store import Store
from edge.voice.ws import voice_store
from protocol import metric_input
from protocol.errors import HealthSyncError, ValidationError

router = APIRouter(include_in_schema=False)

# The readings a nurse takes, in the form's order: (metric type, label, the units to choose from). Typed names
# (SpO2, HbA1c, BP) are read by protocol.metric_input, as at the CLI.
VITALS_FORM = [
    ("blood_pressure", "Blood pressure", ["mmHg", "kPa"]),
    ("heart_rate", "Heart rate", ["bpm"]),
    ("oxygen_saturation", "Oxygen saturation (SpO2)", ["%"]),
    ("body_temperature", "Temperature", ["C", "F"]),
    ("respiratory_rate", "Breathing rate", ["breaths/min"]),
    ("weight", "Weight", ["kg", "lb"]),
    ("height", "Height", ["cm", "in"]),
    ("blood_glucose", "Blood glucose", ["mg/dL", "mmol/L"]),
    ("glycated_hemoglobin", "HbA1c", ["%"]),
    ("pain_level", "Pain (0-10)", ["score"]),
    ("systolic_bp", "Systolic only", ["mmHg", "kPa"]),
    ("diastolic_bp", "Diastolic only", ["mmHg", "kPa"]),
]


def nurse_message(exc: ValidationError, metric_type: str) -> str:
    """The schema's message in a nurse's words: the reading named by its label, not by its column."""
    first = (exc.errors or [{"message": exc.message}])[0]["message"]
    text = first.replace(f" for {metric_type}", "").replace("physiological range ", "range we accept: ")
    return f"{metric_input.label(metric_type)}: {text}. Check the reading and the unit."


def _recent(store: Store, patient: uuid.UUID) -> list:
    return store.health_metrics.list(owner=patient, limit=30)


def vitals_context(store: Store, patient: uuid.UUID, **extra) -> dict:
    return {"form": VITALS_FORM, "rows": _recent(store, patient), "label": metric_input.label, **extra}


@router.get("/vitals")
def vitals_page(request: Request, session: Session = Depends(signed_in), store: Store = Depends(voice_store)):
    return render(request, "vitals.html", session, **vitals_context(store, patient_of(session)))


@router.post("/vitals")
def vitals_add(request: Request, metric: str = Form(...), value: str = Form(""), unit: str = Form(""),
               notes: str = Form(""), correcting: str = Form(""), session: Session = Depends(signed_in),
               store: Store = Depends(voice_store)):
    """One reading (two for a blood pressure): added, or a correction that supersedes the reading named."""
    patient = patient_of(session)
    try:
        if not value.strip():
            raise ValidationError(f"{metric_input.label(metric_input.metric_type(metric))}: type a value",
                                  field="value")
        readings = metric_input.parse(metric, value, unit or None)
        if correcting:
            _own_reading(store, patient, correcting)
        with store.transaction():  # both halves of a blood pressure, or neither
            for r in readings:
                data = {"metric_type": r.metric_type, "value": r.value, "unit": r.unit, "notes": notes or None,
                        "source": "manual"}
                try:
                    if correcting and len(readings) == 1:
                        store.health_metrics.correct(uuid.UUID(correcting), **data)
                    else:
                        store.health_metrics.add({"user_id": patient, **data})
                except ValidationError as exc:
                    raise ValidationError(nurse_message(exc, r.metric_type), field=exc.field) from None
    except HealthSyncError as exc:
        error = error_text(exc)
        return render(request, "_vitals.html", session, status_code=422, **vitals_context(
            store, patient, error=error, metric=metric, value=value, unit=unit, notes=notes))
    return render(request, "_vitals.html", session, **vitals_context(
        store, patient, saved=f"{metric_input.label(readings[0].metric_type)} recorded"
        if len(readings) == 1 else "Blood pressure recorded"))


def _own_reading(store: Store, patient: uuid.UUID, metric_id: str):
    """The patient's reading by id; another patient's (or none) is refused."""
    try:
        row = store.health_metrics.get(uuid.UUID(metric_id))
    except ValueError:
        raise ValidationError("no such reading", field="metric_id") from None
    if str(row.user_id) != str(patient):
        raise ValidationError("that reading belongs to another patient", field="metric_id")
    return row


@router.post("/vitals/delete")
def vitals_delete(request: Request, metric_id: str = Form(...), session: Session = Depends(signed_in),
                  store: Store = Depends(voice_store)):
    """Delete a reading entered in error (a tombstone that syncs; the row's history stays on the server)."""
    patient = patient_of(session)
    try:
        row = _own_reading(store, patient, metric_id)
        store.health_metrics.delete(row.id)
        saved, error = f"{metric_input.label(row.metric_type)} reading deleted", None
    except HealthSyncError as exc:
        saved, error = None, error_text(exc)
    return render(request, "_vitals.html", session, **vitals_context(store, patient, saved=saved, error=error))


@router.get("/voice")
def voice_page(request: Request, session: Session = Depends(signed_in)):
    patient_of(session)
    return render(request, "voice.html", session)


@router.post("/voice/correct")
def voice_correct(request: Request, symptom_id: str = Form(...), text: str = Form(...),
                  session: Session = Depends(signed_in), store: Store = Depends(voice_store)):
    """The nurse's corrected transcript: triaged again and stored as a correction of the spoken record."""
    from edge.voice.triage import triage

    patient = patient_of(session)
    try:
        old = store.symptoms.get(uuid.UUID(symptom_id))
        if str(old.user_id) != str(patient):
            raise ValidationError("that record belongs to another patient", field="symptom_id")
        result = triage(text.strip())
        new = store.symptoms.correct(old.id, description=text.strip(), triage=result.to_dict(),
                                     recorded_at=old.recorded_at)
        out, error = {"id": str(new.id), "triage": result.to_dict()}, None
    except (HealthSyncError, ValueError) as exc:
        out, error = None, {"message": getattr(exc, "message", "no such record"), "field": "text"}
    return render(request, "_voice_corrected.html", session, corrected=out, error=error)


@router.get("/scan")
def scan_page(request: Request, session: Session = Depends(staff_only)):
    patient_of(session)
    return render(request, "scan.html", session, today=dt.date.today().isoformat())


@router.get("/therapy")
def therapy_page(request: Request, session: Session = Depends(signed_in), store: Store = Depends(voice_store)):
    from edge.vision.therapy import exercises, gamification

    patient = patient_of(session)
    return render(request, "therapy.html", session, exercises=list(exercises.LIBRARY.values()),
                  progress=gamification.load_progress(store, patient))
