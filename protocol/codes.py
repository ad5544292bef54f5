"""The registry of stable error codes: the one definition of every code on the wire, with its sentence.

Codes appear in API error answers, receipts and CLI errors. A code, once published, keeps its meaning for ever: add
new codes, never rename or reuse one. `docs/errors.md` is generated from this enum (`python -m protocol.codes`) and
tests/test_error_codes.py fails when the two disagree or when code anywhere uses a code that is not listed here.
"""
from __future__ import annotations

import sys
from enum import StrEnum


class ErrorCode(StrEnum):
    """A stable error code; `.sentence` says what it means and what to do about it."""

    sentence: str

    def __new__(cls, value: str, sentence: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.sentence = sentence
        return member

    # ---- general
    HEALTHSYNC_ERROR = "HEALTHSYNC_ERROR", "An unclassified HealthSync error; the message says what failed."
    INTERNAL_ERROR = "INTERNAL_ERROR", "The server failed unexpectedly; nothing was changed. Retry, then report it."
    VALIDATION_FAILED = "VALIDATION_FAILED", "A record or request failed validation; `field` names what to correct."
    NOT_FOUND = "NOT_FOUND", "The record or route does not exist, or the caller may not see it."
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED", "The route exists but not for this HTTP method."
    BAD_INPUT = "BAD_INPUT", "Input media or data is unreadable or outside the supported limits."
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE", "The request body is larger than the server accepts; send less at once."
    RATE_LIMITED = "RATE_LIMITED", "Too many requests for this user and endpoint; retry after the given seconds."
    MISSING_DEPENDENCY = "MISSING_DEPENDENCY", "An optional feature needs an extra that is not installed."
    MODEL_ERROR = "MODEL_ERROR", "An on-device model is missing, refused (hash mismatch) or failed to run."
    DUPLICATE = "DUPLICATE", "A record with this id already exists for the caller."
    # ---- auth
    AUTH_FAILED = "AUTH_FAILED", "Authentication failed; sign in again."
    AUTH_MISSING = "AUTH_MISSING", "No bearer token was sent; sign in or pass a token."
    AUTH_EXPIRED = "AUTH_EXPIRED", "The access token has expired; refresh it or sign in again."
    AUTH_BAD_SIGNATURE = "AUTH_BAD_SIGNATURE", "The token's signature does not verify with the configured key."
    AUTH_INVALID = "AUTH_INVALID", "The token is malformed or lacks a required claim."
    AUTH_UNAVAILABLE = "AUTH_UNAVAILABLE", "The auth server could not be reached; the session is kept, try again later."
    PIN_LOCKED = "PIN_LOCKED", "Too many wrong PINs on this device; sign in with your password to set a new PIN."
    FORBIDDEN = "FORBIDDEN", "The caller is signed in but may not do this."
    CLAIM_UNLINKABLE = "CLAIM_UNLINKABLE", ("A claim code cannot move this sign-in to the patient's record on this "
                                            "server (external auth); sign up with the email the clinic registered.")
    # ---- edge store
    STORE_LOCKED = "STORE_LOCKED", "The encrypted store could not be unlocked: no key, or a wrong key or passphrase."
    STORE_CORRUPT = "STORE_CORRUPT", "The file is not a HealthSync store, or its data failed an integrity check."
    SCHEMA_TOO_NEW = "SCHEMA_TOO_NEW", "The store was written by a newer HealthSync; upgrade this software."
    STORE_SHREDDED = "STORE_SHREDDED", "The store's key was destroyed after revocation; its data cannot be read."
    BACKUP_FAILED = "BACKUP_FAILED", "Litestream backup or restore failed; the message gives its output."
    WEAK_PASSPHRASE = "WEAK_PASSPHRASE", "A new store passphrase is too short or too easy to guess; choose another."
    # ---- server operations
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE", "Postgres could not be reached or started."
    MIGRATION_FAILED = "MIGRATION_FAILED", "A server migration failed or an applied migration file was edited."
    SYNC_UNAVAILABLE = "SYNC_UNAVAILABLE", "The sync server could not be reached; changes stay queued on the device."
    # ---- changesets and devices
    CHANGESET_INVALID = "CHANGESET_INVALID", "The changeset could not be opened."
    CHANGESET_MALFORMED = "CHANGESET_MALFORMED", "The changeset's bytes are not a valid envelope, header or body."
    CHANGESET_TOO_LARGE = "CHANGESET_TOO_LARGE", "The changeset (or what it inflates to) exceeds the limits."
    CHANGESET_EMPTY = "CHANGESET_EMPTY", "A changeset needs at least one change."
    CHANGESET_TAMPERED = "CHANGESET_TAMPERED", "The changeset failed its integrity check (altered or misaddressed)."
    CHANGESET_BAD_SIGNATURE = "CHANGESET_BAD_SIGNATURE", "The signature does not match the device's registered key."
    CHANGESET_FORMAT_TOO_NEW = "CHANGESET_FORMAT_TOO_NEW", "The changeset format is newer than the server; upgrade it."
    CHANGESET_SCHEMA_TOO_NEW = "CHANGESET_SCHEMA_TOO_NEW", "The record schema is newer than the server; upgrade it."
    CHANGESET_WRONG_USER = "CHANGESET_WRONG_USER", "The changeset belongs to another user than the token's."
    DEVICE_UNKNOWN = "DEVICE_UNKNOWN", "The device is not enrolled for this user; enroll it first."
    DEVICE_REVOKED = "DEVICE_REVOKED", "The device was revoked; it may not sync and must destroy its store key."
    DEVICE_EXISTS = "DEVICE_EXISTS", "A device with this id is already enrolled with other keys."
    DEVICE_PROOF_INVALID = "DEVICE_PROOF_INVALID", "The request's device proof is not valid."
    DEVICE_PROOF_MISSING = "DEVICE_PROOF_MISSING", "The request does not name and prove its device; sign it."
    DEVICE_PROOF_STALE = "DEVICE_PROOF_STALE", "The device proof's time is outside the window; fix the clock."
    DEVICE_BAD_SIGNATURE = "DEVICE_BAD_SIGNATURE", "The device proof does not verify with the device's key."
    # ---- per-change receipts
    SYNC_REJECTED_RLS = "SYNC_REJECTED_RLS", "Row-level security refused the row for the caller."
    SYNC_REJECTED_DB = "SYNC_REJECTED_DB", "The database refused the row (a constraint); the reason names it."
    CLOCK_SKEW = "CLOCK_SKEW", "The change is stamped too far ahead of the server's clock; fix the device clock."
    UNKNOWN_TABLE = "UNKNOWN_TABLE", "The table is not part of the sync schema."
    UNKNOWN_COLUMN = "UNKNOWN_COLUMN", "The table has no such column."
    READ_ONLY_TABLE = "READ_ONLY_TABLE", "The table is owned by the server and read-only on devices."
    APPEND_ONLY = "APPEND_ONLY", "Observations are never changed; send a correction (a new row) instead."
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION", "The appointment cannot move to that status (for this role)."
    # ---- marketplace and real time (issue 11)
    ALREADY_BOOKED = "ALREADY_BOOKED", ("The request is already booked (or no longer open); nothing changed. Reload "
                                        "it to see the booking.")
    SLOT_TAKEN = "SLOT_TAKEN", "The doctor is already booked for an overlapping time; choose another bid or slot."
    STALE_STATUS = "STALE_STATUS", ("The appointment's status changed since you read it (compare-and-swap failed); "
                                    "reload and retry.")
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED", ("This Idempotency-Key was used for a different request; "
                                                        "use a new key for a new request.")
    EVENTS_PRUNED = "EVENTS_PRUNED", ("The resume point is older than the event log keeps; reload the state, then "
                                      "resume from the seq given.")
    CHANGE_TOO_LARGE = "CHANGE_TOO_LARGE", ("The server refused the change as too large even alone; it is quarantined "
                                            "on the device: shorten it (quarantine fix) or discard it.")


def markdown() -> str:
    """The reference list of codes, as docs/errors.md holds it."""
    lines = ["# Error codes", "",
             "Generated from `protocol/codes.py` by `python -m protocol.codes > docs/errors.md`; do not edit by hand.",
             "A code keeps its meaning for ever: codes are added, never renamed or reused.", "",
             "| code | meaning |", "|---|---|"]
    lines += [f"| `{code.value}` | {code.sentence} |" for code in ErrorCode]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
