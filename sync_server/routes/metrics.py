"""GET/POST /api/v1/health/metrics: list and create health metrics, under the caller's RLS and audited."""
from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request

from protocol.errors import ForbiddenError
from protocol.schema import METRICS, HealthMetric, validate
from sync_server import audit, clinical_reads
from sync_server.auth import Principal
from sync_server.deps import current_principal, db_session, rate_limit
from sync_server.responses import ok
from sync_server.routes.paging import Page

router = APIRouter(prefix="/api/v1/health", tags=["health data"])

_COLUMNS = clinical_reads.KINDS["health_metrics"].columns


@router.get("/metrics", dependencies=[Depends(rate_limit("metrics:list"))])
def list_metrics(
    principal: Principal = Depends(current_principal),
    conn=Depends(db_session),
    page: Page = Depends(),
    metric_type: str | None = Query(None, pattern=r"^[a-zA-Z0-9_]+$", max_length=64),
):
    """A page of the metrics the caller may see (RLS decides), newest first, with the total count."""
    return ok(clinical_reads.list_records(conn, principal, "health_metrics", type_value=metric_type,
                                          **page.filters()))


def _may_write_for(conn, patient: uuid.UUID) -> bool:
    """Whether the caller may record metrics for another patient (a clinic's nurse or admin for its registered
    patients, a doctor for those in their care: app.my_write_scope, migration 0051). RLS checks it again."""
    row = conn.execute("SELECT %s::uuid IN (SELECT app.my_write_scope('health_metrics')) AS ok", (patient,)).fetchone()
    return bool(row["ok"])


def _metric_body_schema() -> dict[str, Any]:
    """The body's JSON schema for the OpenAPI document: the shared HealthMetric record, user_id optional (it defaults
    to the caller). The route validates the body with that same model (protocol.schema.validate)."""
    schema = HealthMetric.model_json_schema()
    schema["required"] = [f for f in schema["required"] if f != "user_id"]
    schema["properties"]["metric_type"]["enum"] = sorted(METRICS)
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@router.post("/metrics", status_code=201, dependencies=[Depends(rate_limit("metrics:create"))],
             openapi_extra=_metric_body_schema())
def create_metric(
    request: Request,
    payload: dict[str, Any] = Body(..., examples=[{"metric_type": "heart_rate", "value": 72}]),
    principal: Principal = Depends(current_principal),
    conn=Depends(db_session),
):
    """Validate a metric exactly as the edge does, bind it to the caller, store it with a server HLC, audit it."""
    if payload.get("user_id") is None:
        payload = {**payload, "user_id": str(principal.user_id)}
    metric: HealthMetric = validate("health_metrics", payload)  # type: ignore[assignment]
    if metric.user_id != principal.user_id and not _may_write_for(conn, metric.user_id):
        raise ForbiddenError("user_id must be the caller's own id or a patient in the caller's care",
                             field="user_id")
    hlc = request.app.state.hlc.now().encode()
    row = conn.execute(
        "INSERT INTO health_metrics (id, user_id, supersedes, metric_type, unit, value, recorded_at, source, notes,"
        " hlc) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING " + _COLUMNS,
        (metric.id, metric.user_id, metric.supersedes, metric.metric_type, metric.unit, metric.value,
         metric.recorded_at, metric.source, metric.notes, hlc),
    ).fetchone()
    audit.record(conn, principal, "create", "health_metrics", row_id=metric.id, subject_id=metric.user_id)
    return ok(row, message="metric stored", status_code=201)
