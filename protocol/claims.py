"""One-time claim codes, as both sides compare them: the kiosk shows a code, the phone sends it back, and the server
matches the SHA-256 digest the kiosk pushed (edge/patients.py issues codes, sync_server/claims.py redeems them)."""
from __future__ import annotations

import hashlib
import re

# Crockford's base32 without I, L, O, U: nothing to misread when a patient types the code from a screen.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 10  # 50 bits; the server also limits attempts, and the code expires


def normal_code(code: str) -> str:
    """The code as compared: upper case, letters and digits only ("abcde-12345" = "ABCDE12345")."""
    return re.sub(r"[^0-9A-Z]", "", (code or "").upper())


def code_digest(code: str) -> str:
    """What the kiosk sends the server for a code (hex SHA-256 of its normal form); the code itself never leaves
    the screen it was shown on."""
    return hashlib.sha256(normal_code(code).encode()).hexdigest()
