"""Stage 4b, online assessment: with the user's consent and a GROQ_API_KEY, an LLM gives a structured (JSON-schema)
assessment; any failure falls back to the offline rules, and the rules' red flags always stand."""
from __future__ import annotations

import copy
import json
import logging
import os
from typing import Literal, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field

from edge.voice.triage import RedFlag, TriageResult

log = logging.getLogger(__name__)

ENV_KEY = "GROQ_API_KEY"
ENV_MODEL = "HEALTHSYNC_GROQ_MODEL"
DEFAULT_MODEL = "openai/gpt-oss-20b"  # supports strict json_schema structured outputs on Groq
DEFAULT_TIMEOUT_S = 8.0
URGENCY_RANK = {"self_care": 0, "soon": 1, "urgent": 2, "emergency": 3}

SYSTEM_PROMPT = (
    "You are a cautious triage assistant for a clinic kiosk. From the patient's own words, give a structured "
    "assessment. Never diagnose; list red flags that need emergency care; when unsure, choose the more urgent level."
)


class LLMAssessment(BaseModel):
    """The structured answer the LLM must give (also the JSON schema sent to it)."""

    model_config = ConfigDict(extra="forbid")
    summary: str = Field(max_length=2000)
    symptoms: list[str] = Field(max_length=50)
    urgency: Literal["self_care", "soon", "urgent", "emergency"]
    specialty: str = Field(max_length=100)
    red_flags: list[str] = Field(max_length=20)
    advice: str = Field(max_length=2000)


def response_format() -> dict:
    """Groq's `response_format` for strict structured output of an LLMAssessment."""
    schema = LLMAssessment.model_json_schema()
    for prop in schema["properties"].values():  # strict mode accepts no length keywords
        prop.pop("maxLength", None)
        prop.pop("maxItems", None)
        prop.pop("title", None)
    schema.pop("title", None)
    return {"type": "json_schema", "json_schema": {"name": "triage_assessment", "schema": schema, "strict": True}}


class Assessor(Protocol):
    """Something that turns a transcript and the offline triage into the final triage."""

    name: str

    def assess(self, transcript: str, offline: TriageResult) -> TriageResult:
        """The final triage for this transcript."""
        ...


class OfflineAssessor:
    """The offline rules alone (no consent, no key, or no network)."""

    name = "offline-rules"

    def __init__(self, reason: str = "offline"):
        self.reason = reason

    def assess(self, transcript: str, offline: TriageResult) -> TriageResult:
        """The offline result, noting why no LLM was asked."""
        result = copy.deepcopy(offline)
        result.llm = {"status": "not_used", "reason": self.reason}
        return result


class GroqAssessor:
    """Asks a Groq-hosted LLM for a structured assessment; falls back to the offline result on any failure."""

    name = "groq"

    def __init__(self, api_key: str, model: str | None = None, timeout: float = DEFAULT_TIMEOUT_S,
                 http_client: httpx.Client | None = None):
        try:
            import groq
        except ImportError:  # the offline result still stands; say why the LLM was skipped
            self._client = None
        else:
            self._client = groq.Groq(api_key=api_key, timeout=timeout, max_retries=0, http_client=http_client)
        self.model = model or os.environ.get(ENV_MODEL) or DEFAULT_MODEL

    def assess(self, transcript: str, offline: TriageResult) -> TriageResult:
        """Merge the LLM's assessment into the offline one (never lowering urgency nor dropping a red flag)."""
        if self._client is None:
            return OfflineAssessor("groq package not installed").assess(transcript, offline)
        try:
            answer = self._ask(transcript)
        except Exception as exc:  # every failure mode of a remote call ends the same way: the offline result
            # The exception type only: messages may echo the request, which holds PHI.
            log.warning("LLM assessment failed (%s); using the offline rules", type(exc).__name__)
            result = copy.deepcopy(offline)
            result.llm = {"status": "fallback", "model": self.model, "reason": type(exc).__name__}
            return result
        return merge(offline, answer, self.model)

    def _ask(self, transcript: str) -> LLMAssessment:
        # Only the patient's words go out: no name, id, or device detail.
        completion = self._client.chat.completions.create(
            model=self.model,
            messages=[{"role": "system", "content": SYSTEM_PROMPT},
                      {"role": "user", "content": f"Patient says: {transcript}"}],
            response_format=response_format(),
            temperature=0,
        )
        content = completion.choices[0].message.content
        if not content:
            raise ValueError("empty answer")
        return LLMAssessment.model_validate(json.loads(content))


def merge(offline: TriageResult, answer: LLMAssessment, model: str) -> TriageResult:
    """The offline triage enriched by the LLM: urgency is the higher of the two, rule red flags all kept."""
    result = copy.deepcopy(offline)
    if URGENCY_RANK[answer.urgency] > URGENCY_RANK[result.urgency]:
        result.urgency = answer.urgency
    known = {f.title.lower() for f in result.red_flags}
    for flag in answer.red_flags:
        if flag.strip() and flag.lower() not in known:
            result.red_flags.append(RedFlag("llm_concern", flag.strip()[:200], answer.advice[:500], [], model))
    if result.red_flags and result.urgency != "emergency":
        result.urgency = "emergency"
    if not offline.red_flags and answer.specialty.strip():
        result.specialty = answer.specialty.strip()
    result.llm = {"status": "ok", "model": model, "summary": answer.summary, "symptoms": answer.symptoms,
                  "urgency": answer.urgency, "specialty": answer.specialty, "advice": answer.advice}
    return result


def choose_assessor(llm_consent: bool, *, http_client: httpx.Client | None = None) -> Assessor:
    """Groq when the user consented and GROQ_API_KEY is set; otherwise the offline rules."""
    if not llm_consent:
        return OfflineAssessor("no llm_consent from the user")
    key = os.environ.get(ENV_KEY)
    if not key:
        return OfflineAssessor("GROQ_API_KEY not set")
    return GroqAssessor(key, http_client=http_client)

