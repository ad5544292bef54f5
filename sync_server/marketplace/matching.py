"""Which specialty and urgency a care request needs: what the request says, else the symptom's on-device triage,
then (with GROQ_API_KEY and the patient's LLM consent) Groq's refinement of the specialty, as a JSON-schema answer
under a timeout, falling back to the rules on any failure. Only the patient's own words go to Groq.

The rule that matters clinically holds either way: urgency is never lowered by the LLM, and a request the triage
calls an emergency keeps the triage's specialty.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from protocol.errors import NotFoundError

logger = logging.getLogger(__name__)
URGENCY_RANK = {"self_care": 0, "soon": 1, "urgent": 2, "emergency": 3}
DEFAULT_MODEL = "openai/gpt-oss-20b"  # supports strict json_schema structured outputs on Groq
TIMEOUT_S = 5.0
SYSTEM_PROMPT = ("You route a patient's request to a medical specialty for a clinic's booking system. From the "
                 "patient's own words, name the one specialty they should see and how urgent it is. Never diagnose; "
                 "when unsure, choose general practice and the more urgent level.")


class Refinement(BaseModel):
    """Groq's answer (also the JSON schema sent with the request)."""

    model_config = ConfigDict(extra="forbid")
    specialty: str = Field(max_length=100)
    urgency: Literal["self_care", "soon", "urgent", "emergency"]
    rationale: str = Field(max_length=500)


def response_format() -> dict[str, Any]:
    schema = Refinement.model_json_schema()
    for prop in schema["properties"].values():  # strict mode takes no length keywords
        prop.pop("maxLength", None)
        prop.pop("title", None)
    schema.pop("title", None)
    return {"type": "json_schema", "json_schema": {"name": "care_request_routing", "schema": schema, "strict": True}}


@dataclass
class Match:
    """The request's specialty and urgency and where they came from."""

    specialty: str
    urgency: str
    description: str
    source: str  # request | triage | rules
    llm: dict[str, Any] = field(default_factory=lambda: {"status": "not_used"})


def _symptom(conn, symptom_id, patient_id) -> dict[str, Any]:
    row = conn.execute("SELECT description, triage FROM symptoms WHERE id = %s AND user_id = %s AND NOT deleted",
                       (symptom_id, patient_id)).fetchone()
    if row is None:
        raise NotFoundError(f"no symptom {symptom_id} of this patient that you may read", hint="check symptom_id")
    return row


def llm_consented(conn, patient_id) -> bool:
    """The patient's LLM consent in force: the latest `consents` record of kind llm, else the profile flag."""
    row = conn.execute("SELECT granted FROM consents WHERE user_id = %s AND kind = 'llm' AND NOT deleted "
                       "ORDER BY recorded_at DESC, id DESC LIMIT 1", (patient_id,)).fetchone()
    if row is not None:
        return bool(row["granted"])
    row = conn.execute("SELECT llm_consent FROM users WHERE id = %s", (patient_id,)).fetchone()
    return bool(row and row["llm_consent"])


def rules(conn, patient_id, *, symptom_id=None, description: str | None = None, specialty: str | None = None,
          urgency: str | None = None) -> Match:
    """The rules' answer: the request's own fields, else the symptom's triage, else general practice / soon."""
    triage: dict[str, Any] = {}
    if symptom_id is not None:
        sym = _symptom(conn, symptom_id, patient_id)
        triage = sym["triage"] if isinstance(sym["triage"], dict) else {}
        description = description or sym["description"]
    spec = specialty or (triage.get("specialty") if isinstance(triage.get("specialty"), str) else None)
    urg = urgency or (triage.get("urgency") if triage.get("urgency") in URGENCY_RANK else None)
    source = "request" if specialty else ("triage" if spec else "rules")
    return Match((spec or "general practice")[:100], urg or "soon", (description or "")[:2000], source)


def refine(match: Match, api_key: str | None, consented: bool, *, http_client=None) -> Match:
    """Groq's refinement when allowed; the rules' match (noting why) otherwise or on any failure."""
    if not api_key:
        match.llm = {"status": "not_used", "reason": "GROQ_API_KEY not set"}
        return match
    if not consented:
        match.llm = {"status": "not_used", "reason": "no llm consent from the patient"}
        return match
    if match.source == "request":
        match.llm = {"status": "not_used", "reason": "the request named its specialty"}
        return match
    model = os.environ.get("HEALTHSYNC_GROQ_MODEL") or DEFAULT_MODEL
    try:
        answer = _ask(api_key, model, match.description, http_client)
    except Exception as exc:  # every failure of a remote call ends the same way: the rules; log the type only (PHI)
        logger.warning("Groq refinement failed (%s); using the rules", type(exc).__name__)
        match.llm = {"status": "fallback", "model": model, "reason": type(exc).__name__}
        return match
    if URGENCY_RANK[answer.urgency] > URGENCY_RANK[match.urgency]:
        match.urgency = answer.urgency
    if match.urgency != "emergency" and answer.specialty.strip():
        match.specialty = answer.specialty.strip().lower()[:100]
    match.llm = {"status": "ok", "model": model, "specialty": answer.specialty, "urgency": answer.urgency}
    return match


def _ask(api_key: str, model: str, description: str, http_client) -> Refinement:
    import groq

    # base_url: GROQ_BASE_URL when set (the groq client's own variable), else Groq's API.
    timeout = float(os.environ.get("HEALTHSYNC_GROQ_TIMEOUT_S") or TIMEOUT_S)
    client = groq.Groq(api_key=api_key, timeout=timeout, max_retries=0, http_client=http_client)
    completion = client.chat.completions.create(
        model=model, temperature=0, response_format=response_format(),
        messages=[{"role": "system", "content": SYSTEM_PROMPT},
                  {"role": "user", "content": f"Patient says: {description}"}])
    content = completion.choices[0].message.content
    if not content:
        raise ValueError("empty answer")
    return Refinement.model_validate(json.loads(content))
