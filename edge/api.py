"""The edge's local API (HTTP + WebSocket) that the kiosk UI talks to; pipelines contribute routers."""
from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    """Build the local API app with every pipeline's router mounted."""
    app = FastAPI(title="HealthSync Edge local API")

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    return app
