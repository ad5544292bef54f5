"""Hosted image description: only with a token and consent; the real httpx client against HF's wire format."""
from __future__ import annotations

import json

import httpx

from edge.vision.scanner.describe import HF_MODEL, describe


def mock(handler):
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_skipped_without_consent_and_nothing_is_sent():
    def handler(request):  # pragma: no cover - must not be called
        raise AssertionError("no request may leave without consent")

    d = describe(b"jpeg", consent=False, token="hf_x", client=mock(handler))
    assert d.text is None and "consented" in d.skipped_reason


def test_skipped_offline_without_a_token(monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    d = describe(b"jpeg", consent=True)
    assert d.text is None and "HF_TOKEN" in d.skipped_reason


def test_caption_from_the_inference_api():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"], seen["auth"], seen["body"] = str(request.url), request.headers["authorization"], request.content
        return httpx.Response(200, json=[{"generated_text": "a pill bottle with a white label "}])

    d = describe(b"\xff\xd8jpegbytes", consent=True, token="hf_secret", client=mock(handler))
    assert d.text == "a pill bottle with a white label" and d.skipped_reason is None and d.model == HF_MODEL
    assert seen == {"url": f"https://api-inference.huggingface.co/models/{HF_MODEL}",
                    "auth": "Bearer hf_secret", "body": b"\xff\xd8jpegbytes"}


def test_model_loading_answer_is_a_stated_skip_without_the_token():
    def handler(request):
        return httpx.Response(503, json={"error": "Model Salesforce/blip2-opt-2.7b is currently loading",
                                         "estimated_time": 20.0})

    d = describe(b"x", consent=True, token="hf_secret", client=mock(handler))
    assert d.text is None and "503" in d.skipped_reason and "loading" in d.skipped_reason
    assert "hf_secret" not in json.dumps(d.__dict__)


def test_network_failure_is_a_stated_skip():
    def handler(request):
        raise httpx.ConnectError("offline", request=request)

    d = describe(b"x", consent=True, token="hf_secret", client=mock(handler))
    assert d.text is None and "unreachable" in d.skipped_reason
