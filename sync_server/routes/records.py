"""GET /api/v1/health/{symptoms,therapy-sessions,predictions,medications}: the clinicians' reads (issue 11 item 6),
under the caller's RLS and audited like metrics (one query: sync_server.clinical_reads)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from sync_server import clinical_reads
from sync_server.auth import Principal
from sync_server.deps import current_principal, db_session, rate_limit
from sync_server.predictions_cache import for_app as predictions_cache
from sync_server.predictions_cache import list_predictions as list_cached_predictions
from sync_server.responses import ok
from sync_server.routes.paging import Page

router = APIRouter(prefix="/api/v1/health", tags=["health data"])
_TYPE = {"pattern": r"^[a-zA-Z0-9_ .-]+$", "max_length": 100}


@router.get("/symptoms", dependencies=[Depends(rate_limit("symptoms:list"))])
def list_symptoms(principal: Principal = Depends(current_principal), conn=Depends(db_session),
                  page: Page = Depends()):
    """Symptom records (description, severity, transcript and voice markers, triage), newest first."""
    return ok(clinical_reads.list_records(conn, principal, "symptoms", **page.filters()))


@router.get("/therapy-sessions", dependencies=[Depends(rate_limit("therapy:list"))])
def list_therapy_sessions(principal: Principal = Depends(current_principal), conn=Depends(db_session),
                          page: Page = Depends(), exercise: str | None = Query(None, **_TYPE)):
    """Therapy sessions (exercise, reps, score, pain before/after), newest first."""
    return ok(clinical_reads.list_records(conn, principal, "therapy_sessions", type_value=exercise,
                                          **page.filters()))


@router.get("/predictions", dependencies=[Depends(rate_limit("predictions:list"))])
def list_predictions(request: Request, principal: Principal = Depends(current_principal), conn=Depends(db_session),
                     page: Page = Depends(), disease: str | None = Query(None, **_TYPE)):
    """Risk predictions (disease, probability, model and version, inputs hash), newest first; one patient's pages
    come from the Redis cache when it holds them (sync_server.predictions_cache)."""
    return ok(list_cached_predictions(conn, predictions_cache(request.app), principal, type_value=disease,
                                      **page.filters()))


@router.get("/medications", dependencies=[Depends(rate_limit("medications:list"))])
def list_medications(principal: Principal = Depends(current_principal), conn=Depends(db_session),
                     page: Page = Depends()):
    """Medications read from prescription scans, newest first."""
    return ok(clinical_reads.list_records(conn, principal, "medications", **page.filters()))
