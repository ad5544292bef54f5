"""The edge's local API mounts every pipeline's routes."""
from __future__ import annotations

from fastapi.testclient import TestClient

from edge.api import create_app


def test_local_api_serves_health_and_pipeline_routes():
    with TestClient(create_app()) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert "/v1/voice/analyze" in client.get("/openapi.json").json()["paths"]
        with client.websocket_connect("/v1/therapy/ws") as ws:
            ws.send_json({"type": "start", "exercise": "moonwalk"})
            answer = ws.receive_json()
        assert answer["type"] == "error" and "moonwalk" in str(answer)
