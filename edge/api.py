"""The edge's local API (HTTP + WebSocket) that the kiosk UI talks to; pipelines contribute routers."""
from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    """Build the local API app with every pipeline's router mounted."""
    from edge.vision.ws import router as therapy_router
    from edge.voice.ws import router as voice_router

    app = FastAPI(title="HealthSync Edge local API")
    app.include_router(voice_router)
    app.include_router(therapy_router)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    return app
