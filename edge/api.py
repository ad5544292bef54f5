"""The edge's local API (HTTP + WebSocket) that the kiosk app talks to; pipelines contribute routers."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from protocol.errors import HealthSyncError


def create_app(*, idle_s: float | None = None) -> FastAPI:
    """Build the local API app with every pipeline's router mounted and the kiosk app at `/`."""
    from edge import app as kiosk_app
    from edge.vision.scan_api import router as scan_router
    from edge.vision.ws import build_router as therapy_router
    from edge.voice.ws import router as voice_router
    from protocol.envelope import failure

    # The API docs come from local assets (edge/app/offline.py), never from a CDN.
    app = FastAPI(title="HealthSync Edge local API", docs_url=None, redoc_url=None)
    app.include_router(voice_router)
    app.include_router(scan_router)
    app.include_router(therapy_router(saver_for=kiosk_app.therapy_saver))

    @app.exception_handler(HealthSyncError)
    async def domain_error(request: Request, exc: HealthSyncError) -> JSONResponse:
        # A domain error raised in a dependency (no session, no patient, no primary user) is an answer with its
        # code, never a 500: the device's state, not the server, is what is wrong.
        return JSONResponse(failure(exc.to_dict()), status_code=exc.http_status if exc.http_status < 500 else 409)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    kiosk_app.mount(app, idle_s)
    return app
