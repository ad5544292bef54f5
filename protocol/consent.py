"""The consent texts a patient is shown, by kind and version: a consent record names the version it agreed to."""
from __future__ import annotations

from protocol.errors import ValidationError

KINDS = ("audio", "llm", "image_ai", "share")

# kind → version → the text shown. A changed text is a new version; old versions stay (records name them).
TEXTS: dict[str, dict[str, str]] = {
    "audio": {
        "audio-1": "Keep my voice recordings, encrypted on this device, so they can be analysed again later. "
                   "I can withdraw this at any time; recordings kept until then stay encrypted.",
    },
    "llm": {
        "llm-1": "Send the words of my symptom description (not my voice, name or record) to a hosted language "
                 "model for a second assessment. I can withdraw this at any time.",
    },
    "image_ai": {
        "image_ai-1": "Send photos I scan (prescriptions, lab reports) to a hosted image model to describe them. "
                      "I can withdraw this at any time.",
    },
    "share": {
        "share-1": "Share my health records with this clinic's staff for my care. I can withdraw this at any "
                   "time; the clinic then loses access and its devices delete their copies.",
    },
}

# The version shown today, per kind.
CURRENT: dict[str, str] = {kind: max(versions) for kind, versions in TEXTS.items()}


def text(kind: str, version: str | None = None) -> tuple[str, str]:
    """(version, text) of a kind's consent: the current one unless a known version is named."""
    if kind not in TEXTS:
        raise ValidationError(f"unknown consent kind {kind!r} (known: {', '.join(KINDS)})", field="kind")
    version = version or CURRENT[kind]
    if version not in TEXTS[kind]:
        raise ValidationError(f"unknown {kind} consent text version {version!r} (known: "
                              f"{', '.join(sorted(TEXTS[kind]))})", field="text_version")
    return version, TEXTS[kind][version]
