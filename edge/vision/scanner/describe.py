"""Optional hosted image description (BLIP-2 through the Hugging Face inference API), consent-gated."""
from __future__ import annotations

import os
from dataclasses import dataclass

HF_MODEL = "Salesforce/blip2-opt-2.7b"
HF_URL = "https://api-inference.huggingface.co/models/{model}"


@dataclass
class Description:
    """The hosted caption, or why there is none (`skipped_reason`)."""

    text: str | None
    skipped_reason: str | None = None
    model: str = HF_MODEL


def describe(image: bytes, *, consent: bool, token: str | None = None, client=None,
             model: str = HF_MODEL, timeout: float = 20.0) -> Description:
    """Caption the image with a hosted model, only with a token and the user's image_ai_consent; never raises
    for network trouble (the scan's offline results stand on their own)."""
    import httpx

    token = token if token is not None else os.environ.get("HF_TOKEN")
    if not consent:
        return Description(None, "the user has not consented to sending images to a hosted AI (image_ai_consent)")
    if not token:
        return Description(None, "no HF_TOKEN configured: hosted image description is off (offline mode)")
    own = client is None
    client = client or httpx.Client(timeout=timeout)
    try:
        resp = client.post(HF_URL.format(model=model), content=image,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"})
        if resp.status_code != 200:
            # HF answers errors as {"error": "...", "estimated_time": …}; the token is never echoed.
            detail = resp.json().get("error", "") if resp.headers.get("content-type", "").startswith(
                "application/json") else ""
            return Description(None, f"hosted description unavailable (HTTP {resp.status_code}) {detail}".strip())
        body = resp.json()
        # Image-to-text models answer [{"generated_text": "…"}].
        if isinstance(body, list) and body and isinstance(body[0], dict) and "generated_text" in body[0]:
            return Description(str(body[0]["generated_text"]).strip(), None, model)
        return Description(None, "hosted description returned an unexpected answer")
    except httpx.HTTPError as exc:
        return Description(None, f"hosted description unreachable ({type(exc).__name__})")
    finally:
        if own:
            client.close()
