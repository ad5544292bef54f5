"""Online assessment through the real groq client over an httpx.MockTransport speaking Groq's wire format:
consent gating, structured-output request, merge rules, and fallback on every failure."""
import json

import httpx
import pytest

from edge.voice import llm
from edge.voice.triage import triage

GROQ_URL = "https://api.groq.com/openai/v1/chat/completions"


def completion(content: str) -> dict:
    """A chat.completion body as Groq returns it."""
    return {
        "id": "chatcmpl-3f1c", "object": "chat.completion", "created": 1764000000, "model": llm.DEFAULT_MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "logprobs": None,
                     "finish_reason": "stop"}],
        "usage": {"queue_time": 0.01, "prompt_tokens": 180, "prompt_time": 0.01, "completion_tokens": 90,
                  "completion_time": 0.09, "total_time": 0.1},
        "system_fingerprint": "fp_e1a2", "x_groq": {"id": "req_01"},
    }


ANSWER = {"summary": "Three days of fever and cough.", "symptoms": ["fever", "cough"], "urgency": "soon",
          "specialty": "pulmonology", "red_flags": [], "advice": "See a GP within a few days."}


class Recorder:
    """A MockTransport handler that answers with a fixed response and keeps the requests."""

    def __init__(self, respond):
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)


def client(handler) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.fixture
def groq_key(monkeypatch):
    monkeypatch.setenv(llm.ENV_KEY, "gsk_test_not_a_real_key")


def test_structured_request_and_merge(groq_key):
    rec = Recorder(lambda r: httpx.Response(200, json=completion(json.dumps(ANSWER))))
    text = "I have had a fever and a cough for three days."
    result = llm.choose_assessor(True, http_client=client(rec)).assess(text, triage(text))

    (req,) = rec.requests
    assert str(req.url) == GROQ_URL
    assert req.headers["authorization"] == "Bearer gsk_test_not_a_real_key"
    assert req.extensions["timeout"]["read"] == llm.DEFAULT_TIMEOUT_S
    body = json.loads(req.content)
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert set(body["response_format"]["json_schema"]["schema"]["required"]) == set(ANSWER)
    assert text in body["messages"][-1]["content"]
    assert result.llm["status"] == "ok" and result.llm["summary"] == ANSWER["summary"]
    assert result.specialty == "pulmonology"
    assert result.urgency == "soon"


def test_llm_cannot_lower_urgency_or_drop_rule_red_flags(groq_key):
    calm = dict(ANSWER, urgency="self_care", specialty="dermatology", red_flags=[])
    rec = Recorder(lambda r: httpx.Response(200, json=completion(json.dumps(calm))))
    text = "I have crushing chest pain and I am short of breath."
    result = llm.choose_assessor(True, http_client=client(rec)).assess(text, triage(text))
    assert result.urgency == "emergency"
    assert [f.id for f in result.red_flags] == ["cardiac_chest_pain"]
    assert result.specialty == "emergency medicine"


def test_llm_can_raise_a_concern(groq_key):
    worried = dict(ANSWER, urgency="emergency", red_flags=["possible sepsis"])
    rec = Recorder(lambda r: httpx.Response(200, json=completion(json.dumps(worried))))
    text = "I have a fever and feel very tired."
    result = llm.choose_assessor(True, http_client=client(rec)).assess(text, triage(text))
    assert result.urgency == "emergency"
    assert [(f.id, f.title) for f in result.red_flags] == [("llm_concern", "possible sepsis")]


def _raise_timeout(request):
    raise httpx.ReadTimeout("timed out", request=request)


def _raise_connect(request):
    raise httpx.ConnectError("no route to host", request=request)


@pytest.mark.parametrize("respond, reason", [
    (_raise_timeout, "APITimeoutError"),
    (_raise_connect, "APIConnectionError"),
    (lambda r: httpx.Response(500, json={"error": {"message": "boom", "type": "internal_error"}}),
     "InternalServerError"),
    (lambda r: httpx.Response(429, json={"error": {"message": "rate limited", "type": "rate_limit"}}),
     "RateLimitError"),
    (lambda r: httpx.Response(200, json=completion("this is not json")), "JSONDecodeError"),
    (lambda r: httpx.Response(200, json=completion(json.dumps(dict(ANSWER, urgency="whenever")))),
     "ValidationError"),
    (lambda r: httpx.Response(200, json=completion(json.dumps({"summary": "x"}))), "ValidationError"),
    (lambda r: httpx.Response(200, json=completion("")), "ValueError"),
])
def test_any_failure_falls_back_to_the_offline_rules(groq_key, respond, reason, caplog):
    text = "My face is drooping and I have a headache for two days."
    offline = triage(text)
    result = llm.choose_assessor(True, http_client=client(Recorder(respond))).assess(text, offline)
    assert result.llm == {"status": "fallback", "model": llm.DEFAULT_MODEL, "reason": reason}
    assert [f.id for f in result.red_flags] == ["stroke_fast"]
    assert (result.urgency, result.symptoms, result.duration_days) == ("emergency", offline.symptoms, 2)
    assert "drooping" not in caplog.text  # no PHI in logs


def test_no_consent_sends_nothing(groq_key):
    rec = Recorder(lambda r: httpx.Response(200, json=completion(json.dumps(ANSWER))))
    text = "I have a fever."
    result = llm.choose_assessor(False, http_client=client(rec)).assess(text, triage(text))
    assert rec.requests == []
    assert result.llm == {"status": "not_used", "reason": "no llm_consent from the user"}


def test_no_key_sends_nothing(monkeypatch):
    monkeypatch.delenv(llm.ENV_KEY, raising=False)
    rec = Recorder(lambda r: httpx.Response(200, json=completion(json.dumps(ANSWER))))
    assessor = llm.choose_assessor(True, http_client=client(rec))
    assert assessor.name == "offline-rules"
    assessor.assess("I have a fever.", triage("I have a fever."))
    assert rec.requests == []


@pytest.mark.parametrize("text", [
    "It feels like an elephant is sitting on my chest and I'm sweating buckets.",
    "My wife's face has dropped on one side and she can't smile properly.",
    "I've been vomiting blood since last night.",
    "I don't want to be here anymore, I've been thinking about ending it.",
])
def test_a_calm_llm_never_lowers_a_rule_red_flag(groq_key, text):
    """The rules found a red flag; an LLM answering "self-care, no red flags" changes neither."""
    calm = dict(ANSWER, urgency="self_care", red_flags=[], specialty="general practice")
    rec = Recorder(lambda r: httpx.Response(200, json=completion(json.dumps(calm))))
    offline = triage(text)
    assert offline.red_flags  # the rules' own finding
    result = llm.choose_assessor(True, http_client=client(rec)).assess(text, offline)
    assert result.urgency == "emergency"
    assert [f.id for f in result.red_flags] == [f.id for f in offline.red_flags]
    assert result.advice == offline.advice


def test_llm_may_raise_urgency_without_a_red_flag(groq_key):
    sooner = dict(ANSWER, urgency="urgent")
    rec = Recorder(lambda r: httpx.Response(200, json=completion(json.dumps(sooner))))
    text = "I've got a tickly cough."
    offline = triage(text)
    assert offline.urgency == "self_care"
    result = llm.choose_assessor(True, http_client=client(rec)).assess(text, offline)
    assert result.urgency == "urgent" and result.red_flags == []


def test_llm_answer_with_an_unknown_level_falls_back(groq_key):
    rec = Recorder(lambda r: httpx.Response(200, json=completion(json.dumps(dict(ANSWER, urgency="routine")))))
    text = "I have a fever."
    result = llm.choose_assessor(True, http_client=client(rec)).assess(text, triage(text))
    assert result.llm["status"] == "fallback" and result.llm["reason"] == "ValidationError"
