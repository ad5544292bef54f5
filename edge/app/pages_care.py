"""Kiosk screens over what is already recorded: the Health twin (risk panel and projections, clinician and patient
views), Sync (last synced, pending, quarantined with fix / retry / discard) and Consent (texts, versions, grant,
withdraw). Each calls the same library functions as its CLI command."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

from fastapi import APIRouter, Depends, Form, Request

from edge.app.session import Session
from edge.app.web import error_text, patient_of, redirect, render, signed_in
from edge.store import Store
from edge.voice.ws import voice_store
from protocol.errors import HealthSyncError, ValidationError

router = APIRouter(include_in_schema=False)

# Plain-language names of the risks (the patient view).
PLAIN = {"heart": "heart attack or stroke", "diabetes": "type 2 diabetes", "kidney": "kidney disease"}


def chart_series(simulation: dict) -> dict:
    """Per risk: the horizons and one line of percentages per scenario (what the page's uPlot charts draw)."""
    out: dict[str, dict] = {}
    horizons = simulation["horizons"]
    for name, sc in simulation["scenarios"].items():
        for risk, points in (sc.get("risks") or {}).items():
            by_year = {p["years"]: (None if p["probability"] is None else round(100 * p["probability"], 2))
                       for p in points}
            entry = out.setdefault(risk, {"years": horizons, "lines": []})
            entry["lines"].append({"scenario": name, "label": sc["label"],
                                   "values": [by_year.get(y) for y in horizons]})
    return {k: v for k, v in out.items() if any(x is not None for line in v["lines"] for x in line["values"])}


# The yes/no risk-factor answers the equations read (edge.twin.inputs.FACTOR_FIELDS), as the form asks them.
FACTOR_QUESTIONS = [("smoker", "Smokes now"), ("diabetes", "Diagnosed diabetes"),
                    ("bp_treated", "Takes blood-pressure medicine"), ("on_statin", "Takes a statin"),
                    ("physically_active", "Active 30 minutes a day"),
                    ("daily_vegetables", "Eats vegetables or fruit every day"),
                    ("high_glucose_history", "Ever told their blood sugar was high")]


def save_factors(store: Store, patient, form) -> None:
    """Merge the answered questions into a new risk-factor record (as `edge twin factors` does)."""
    from edge.twin.inputs import RISK_FACTORS_EVENT, latest_factors

    answers = {name: form.get(name) == "yes" for name, _ in FACTOR_QUESTIONS if form.get(name) in ("yes", "no")}
    if form.get("race") in ("white", "african_american", "other"):
        answers["race"] = form.get("race")
    if answers:
        store.health_events.add({"user_id": patient, "event_type": RISK_FACTORS_EVENT,
                                 "data": latest_factors(store, patient) | answers})


@router.post("/twin/factors")
async def twin_factors(request: Request, session: Session = Depends(signed_in), store: Store = Depends(voice_store)):
    """Record the risk-factor answers the equations need (the form's questions vary, so it is read whole)."""
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    await run_in_threadpool(save_factors, store, patient_of(session), form)  # the store write: off the loop
    return redirect(request, "/twin", session)


@router.get("/twin")
def twin_page(request: Request, session: Session = Depends(signed_in), store: Store = Depends(voice_store)):
    from edge.twin import report
    from edge.twin.inputs import latest_factors
    from edge.twin.models import read_manifest
    from edge.twin.simulate import simulate
    from edge.twin.twin import assess

    patient = patient_of(session)
    view = request.query_params.get("view") or ("clinician" if session.clinician else "patient")
    if not session.clinician:
        view = "patient"  # a patient sees the plain-language view only
    try:
        a = assess(store, patient)
        sim = simulate(a.inputs)
    except HealthSyncError as exc:
        return render(request, "twin.html", session, error=error_text(exc), view=view, questions=FACTOR_QUESTIONS,
                      factors=latest_factors(store, patient))
    manifest = read_manifest(None)
    results = [{"r": r, "validity": report.validity_notes(r, manifest), "title": report.TITLES.get(r.name, r.name)}
               for r in a.results]
    return render(request, "twin.html", session, view=view, results=results, inputs=a.inputs.to_dict(),
                  sources=report.input_sources(store, patient), simulation=sim, plain=PLAIN,
                  charts=json.dumps(chart_series(sim)), family=a.family, on=dt.date.today().isoformat(),
                  patient_name=store.users.get(patient).full_name, questions=FACTOR_QUESTIONS,
                  factors=latest_factors(store, patient))


# ---------------------------------------------------------------- sync


def _sync_context(store: Store) -> dict:
    from edge import outbox
    from edge.sync_client import status

    return {"status": status(store), "quarantine": outbox.quarantined(store)}


@router.get("/sync")
def sync_page(request: Request, session: Session = Depends(signed_in), store: Store = Depends(voice_store)):
    return render(request, "sync.html", session, **_sync_context(store))


@router.post("/sync/run")
def sync_run(request: Request, session: Session = Depends(signed_in), store: Store = Depends(voice_store)):
    """One sync round now (push then pull), then a clinic device's purge of synced out-of-scope patients."""
    from edge.kiosk import after_sync
    from edge.sync_client import SyncClient
    from edge.token_provider import token_source

    try:
        with SyncClient(store, token_source(store, None)) as client:
            result = client.run().to_dict()
        after_sync(store)
        error = result.get("push_error")
    except HealthSyncError as exc:
        result, error = None, error_text(exc)
    return render(request, "sync.html", session, result=result, error=error, **_sync_context(store))


@router.post("/sync/quarantine")
def sync_quarantine(request: Request, change_id: str = Form(...), action: str = Form(...), fix: str = Form(""),
                    session: Session = Depends(signed_in), store: Store = Depends(voice_store)):
    """Fix (FIELD=VALUE, one per line), retry or discard a change the server rejected (as the CLI does)."""
    from edge import outbox

    try:
        if action == "retry":
            outbox.retry(store, change_id)
            done = "queued again for the next sync"
        elif action == "discard":
            outbox.discard(store, change_id)
            done = "discarded"
        elif action == "fix":
            changes = {}
            for line in filter(None, (ln.strip() for ln in fix.splitlines())):
                field, sep, raw = line.partition("=")
                if not sep or not field.strip():
                    raise ValidationError(f"{line[:40]!r} is not FIELD=VALUE", field="fix")
                try:
                    changes[field.strip()] = json.loads(raw)
                except json.JSONDecodeError:
                    changes[field.strip()] = raw.strip()
            if not changes:
                raise ValidationError("type the correction as FIELD=VALUE", field="fix")
            outbox.fix(store, change_id, changes)
            done = "fixed and queued for the next sync"
        else:
            raise ValidationError(f"unknown action {action[:20]!r}", field="action")
        error = None
    except HealthSyncError as exc:
        done, error = None, error_text(exc)
    return render(request, "sync.html", session, done=done, error=error, **_sync_context(store))


# ---------------------------------------------------------------- consent


def _consent_context(store: Store, session: Session) -> dict:
    from edge import consent
    from protocol import consent as texts

    patient = patient_of(session)
    kinds = []
    for kind in texts.KINDS:
        try:
            state = consent.current(store, patient, kind)
        except HealthSyncError:
            state = None
        kinds.append({"kind": kind, "version": texts.CURRENT[kind], "text": texts.TEXTS[kind][texts.CURRENT[kind]],
                      "versions": sorted(texts.TEXTS[kind]), "state": state})
    return {"kinds": kinds, "history": [consent.to_dict(r) for r in consent.history(store, patient)]}


@router.get("/consent")
def consent_page(request: Request, session: Session = Depends(signed_in), store: Store = Depends(voice_store)):
    return render(request, "consent.html", session, **_consent_context(store, session))


@router.post("/consent")
def consent_change(request: Request, kind: str = Form(...), granted: str = Form(...),
                   session: Session = Depends(signed_in), store: Store = Depends(voice_store)):
    from edge import consent

    try:
        consent.record(store, patient_of(session), kind, granted == "yes")
        done, error = ("granted" if granted == "yes" else "withdrawn"), None
    except HealthSyncError as exc:
        done, error = None, error_text(exc)
    if error is None and kind == "share" and granted != "yes" and session.staff:
        # Sharing withdrawn at this clinic: the kiosk stops showing this patient.
        return redirect(request, "/patients", replace(session, patient_id=None))
    return render(request, "consent.html", session, done=done, error=error, kind=kind,
                  **_consent_context(store, session))
