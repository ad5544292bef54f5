"""Passphrase policy for new store keys: refuse guessable passphrases before they protect PHI.

The threat is offline guessing against a lost or stolen device's store (Argon2id, 64 MiB, 3 passes). zxcvbn
(Dropbox's estimator) counts the guesses an attacker's dictionaries, keyboard walks, l33t, repeats, dates and the
user's own name and email would need; NIST SP 800-63B 5.1.1.2 asks for exactly this (a check against common and
guessable values, no composition rules). Score 4 means at least 10^10 guesses, zxcvbn's band for "strong
protection from an offline slow-hash scenario"; with Argon2id's cost that is years of GPU time, where score 3
(10^8) is hours.
"""
from __future__ import annotations

from collections.abc import Iterable

from protocol.codes import ErrorCode
from protocol.errors import ValidationError

MIN_LENGTH = 12
MIN_SCORE = 4  # zxcvbn 0-4


class WeakPassphraseError(ValidationError):
    """A new passphrase is too short or too guessable to protect the store."""

    code = ErrorCode.WEAK_PASSPHRASE


def check_strength(passphrase: str, user_inputs: Iterable[str | None] = ()) -> None:
    """Raise WeakPassphraseError unless the passphrase has MIN_LENGTH characters and a zxcvbn score of MIN_SCORE;
    `user_inputs` (name, email) count as guessable words."""
    hint = "use four or more unrelated words, or a password manager's generated passphrase"
    if len(passphrase) < MIN_LENGTH:
        raise _weak(f"the passphrase has {len(passphrase)} characters; at least {MIN_LENGTH} are needed", hint)
    from zxcvbn import zxcvbn

    words = [w for value in user_inputs if value for w in (value, *value.replace("@", " ").replace(".", " ").split())]
    verdict = zxcvbn(passphrase[:100], user_inputs=words)  # zxcvbn's cost grows with length; 100 is plenty
    if verdict["score"] < MIN_SCORE:
        feedback = verdict["feedback"]
        why = feedback.get("warning") or "it would fall to a dictionary attack"
        more = " ".join(feedback.get("suggestions") or [])
        raise _weak(f"the passphrase is too easy to guess (about 10^{verdict['guesses_log10']:.0f} guesses): "
                    f"{why.rstrip('.')}", f"{more} {hint}".strip())


def _weak(message: str, hint: str) -> WeakPassphraseError:
    err = WeakPassphraseError(message, field="passphrase")
    err.hint = hint
    return err
