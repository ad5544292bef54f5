"""Password hashing (Argon2id, PHC strings) and the strength policy for sign-in passwords and PINs."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from protocol.errors import ValidationError

MIN_LENGTH = 10
MIN_SCORE = 3  # zxcvbn's "safely unguessable: moderate protection from offline slow-hash scenario"


@dataclass(frozen=True)
class HashParams:
    """Argon2id cost. Default: OWASP's password-storage minimum (19 MiB, 2 passes, 1 lane), affordable per sign-in
    on a shared server; the store's key derivation (edge/keys.py) uses the heavier RFC 9106 option."""

    memory_kib: int = 19 * 1024
    iterations: int = 2
    lanes: int = 1


def hash_secret(secret: str, params: HashParams = HashParams()) -> str:
    """An Argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash) for a password or PIN."""
    kdf = Argon2id(salt=secrets.token_bytes(16), length=32, iterations=params.iterations, lanes=params.lanes,
                   memory_cost=params.memory_kib)
    return kdf.derive_phc_encoded(secret.encode("utf-8"))


def verify_secret(secret: str, encoded: str) -> bool:
    """Whether `secret` matches the PHC string (constant time; a malformed string simply does not match)."""
    try:
        Argon2id.verify_phc_encoded(secret.encode("utf-8"), encoded)
    except (InvalidKey, ValueError, TypeError):
        return False
    return True


# Verified against when the email is unknown, so a wrong email costs the same time as a wrong password.
_DUMMY_HASH: str | None = None


def verify_or_burn(secret: str, encoded: str | None) -> bool:
    """verify_secret, or the same work against a dummy hash when there is no user (no user-enumeration timing)."""
    global _DUMMY_HASH
    if encoded is None:
        _DUMMY_HASH = _DUMMY_HASH or hash_secret(secrets.token_hex(16))
        verify_secret(secret, _DUMMY_HASH)
        return False
    return verify_secret(secret, encoded)


def check_password_strength(password: str, *, user_inputs: list[str] = ()) -> None:
    """Refuse a guessable password: shorter than MIN_LENGTH, or below zxcvbn score MIN_SCORE (which weighs common
    passwords, dictionary words, keyboard patterns, dates, repeats, and the user's own email and name)."""
    from zxcvbn import zxcvbn

    if len(password) < MIN_LENGTH:
        raise _weak(f"the password is shorter than {MIN_LENGTH} characters")
    result = zxcvbn(password[:100], user_inputs=[u for u in user_inputs if u])
    if result["score"] < MIN_SCORE:
        advice = (result.get("feedback") or {}).get("warning") or "it is easy to guess"
        raise _weak(f"the password is too weak: {advice.rstrip('.')}")


def _weak(message: str) -> ValidationError:
    err = ValidationError(message, field="password")
    err.hint = "use a longer passphrase, e.g. four unrelated words"
    return err
