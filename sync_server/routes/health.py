"""GET /health: the live state of Postgres, Redis and the model manifests (never a constant)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from protocol.envelope import envelope
from sync_server import health
from sync_server.deps import rate_limit

router = APIRouter(tags=["health"])


@router.get("/health", dependencies=[Depends(rate_limit("health", anonymous=True))])
async def get_health(request: Request):
    """Report each dependency's status; 503 (success false, same data) when the database is unusable."""
    status, body = await run_in_threadpool(health.report, request.app.state.settings, request.app.state.db)
    return JSONResponse(envelope(body, success=status == 200, message=f"server is {body['status']}"),
                        status_code=status)
