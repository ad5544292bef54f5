"""The local API the app shares: uploads as multipart (and raw), documented in OpenAPI; the two-step scan; the
service worker made from asset hashes; the docs page from local files; domain errors never a 5xx."""
from __future__ import annotations

import re
import uuid

import pytest

from edge.app import offline
from tests.app.conftest import sign_in_as
from tests.app.test_pages import register


def test_openapi_documents_multipart_and_raw_uploads(client):
    spec = client.get("/openapi.json").json()
    for path in ("/v1/voice/analyze", "/v1/scan"):
        content = spec["paths"][path]["post"]["requestBody"]["content"]
        assert content["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary", path
        assert "application/octet-stream" in content, path


def test_docs_page_loads_only_local_assets(client):
    html = client.get("/docs").text
    assert "/static/vendor/swagger-ui-bundle.js" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from a CDN


@pytest.mark.parametrize("how", ["multipart", "raw"])
def test_a_bad_upload_is_a_400_with_a_reason_either_way(client, kiosk_store, how):
    sign_in_as(client, kiosk_store)
    register(client)
    kwargs = {"files": {"file": ("x.wav", b"not audio at all", "audio/wav")}} if how == "multipart" else \
        {"content": b"not audio at all"}
    r = client.post("/v1/voice/analyze", **kwargs)
    assert r.status_code == 400 and r.json()["error"]["code"] == "BAD_INPUT"
    empty = client.post("/v1/scan", files={"other": ("a.txt", b"x", "text/plain")})
    assert empty.status_code == 400 and "field `file`" in empty.json()["error"]["message"]


def test_scan_reads_without_storing_and_confirm_stores_what_was_confirmed(client, kiosk_store):
    sign_in_as(client, kiosk_store)
    pid = uuid.UUID(register(client))
    confirmed = {"image_sha256": "ab" * 32, "collected_on": "2026-01-11",
                 "labs": [{"analyte": "total_cholesterol", "value": "5.2", "unit": "mmol/L", "label": "Cholesterol"}],
                 "medications": [{"name": "metformin", "strength": "500", "unit": "mg", "frequency": "BID"}]}
    r = client.post("/v1/scan/confirm", json=confirmed)
    assert r.status_code == 201, r.text
    [chol] = kiosk_store.health_metrics.list(owner=pid, metric_type="total_cholesterol")
    assert abs(chol.value - 5.2 * 38.67) < 1e-6 and chol.source == "scan"
    assert chol.recorded_at.date().isoformat() == "2026-01-11"  # the report's own date
    assert [m.name for m in kiosk_store.medications.list(owner=pid)] == ["metformin"]
    again = client.post("/v1/scan/confirm", json=confirmed)
    assert again.json()["data"]["repeat_of"] is not None  # the same scan is not stored twice
    bad = client.post("/v1/scan/confirm", json={"labs": [{"analyte": "total_cholesterol", "value": "5",
                                                          "unit": "furlongs"}]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "labs.0.value"


def test_api_without_a_chosen_patient_says_so(client, kiosk_store):
    sign_in_as(client, kiosk_store)
    r = client.post("/v1/scan/confirm", json={"labs": [], "medications": []})
    assert r.status_code == 400 and "choose a patient" in r.json()["error"]["message"]


def test_the_service_worker_is_versioned_by_the_asset_hashes(client, monkeypatch):
    first = client.get("/sw.js")
    assert first.headers["cache-control"] == "no-cache"
    assets = offline.asset_hashes()
    assert "/static/app.js" in assets and "/static/vendor/htmx.min.js" in assets
    assert "axe.min.js" not in first.text  # the test-only file is not cached for the kiosk
    version = re.search(r'hs-shell-([0-9a-f]+)', first.text).group(1)
    monkeypatch.setattr(offline, "asset_hashes", lambda: {**assets, "/static/app.js": "0" * 64})
    changed = re.search(r'hs-shell-([0-9a-f]+)', client.get("/sw.js").text).group(1)
    assert changed != version  # one changed asset: a new worker and cache


def test_the_offline_shell_holds_no_patient_data(client, kiosk_store):
    sign_in_as(client, kiosk_store)
    register(client)
    shell = client.get("/offline").text
    assert "Ada" not in shell and "restarting" in shell
