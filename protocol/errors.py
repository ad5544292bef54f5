"""One exception hierarchy for HealthSync; each class carries a stable code from the registry (protocol.codes)."""
from __future__ import annotations

from protocol.codes import ErrorCode


class HealthSyncError(Exception):
    """Root of every error HealthSync raises on purpose; `code` (from protocol.codes) is stable, `hint` says what
    to do."""

    code: ErrorCode = ErrorCode.HEALTHSYNC_ERROR
    http_status = 500
    recoverable = False

    def __init__(self, message: str, *, hint: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.field = field

    def to_dict(self) -> dict:
        """The error as it appears in an API answer or a receipt."""
        out = {"code": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        if self.hint:
            out["hint"] = self.hint
        return out


class ValidationError(HealthSyncError):
    """A record failed validation; `field` names the offending field."""

    code = ErrorCode.VALIDATION_FAILED
    http_status = 422

    def __init__(self, message: str, *, field: str | None = None, errors: list[dict] | None = None):
        super().__init__(message, field=field)
        self.errors = errors or []

    def to_dict(self) -> dict:
        out = super().to_dict()
        if self.errors:
            out["errors"] = self.errors
        return out


class NotFoundError(HealthSyncError):
    """The requested record does not exist (or is not visible to the caller)."""

    code = ErrorCode.NOT_FOUND
    http_status = 404


class StoreLockedError(HealthSyncError):
    """The encrypted store could not be unlocked: no key given, or the key/passphrase is wrong."""

    code = ErrorCode.STORE_LOCKED
    http_status = 401


class StoreCorruptError(HealthSyncError):
    """The store file is not a HealthSync store, or its data failed an integrity check."""

    code = ErrorCode.STORE_CORRUPT


class SchemaVersionError(HealthSyncError):
    """The store or changeset was written by a newer version than this code understands."""

    code = ErrorCode.SCHEMA_TOO_NEW
    http_status = 409


class AuthError(HealthSyncError):
    """Authentication failed: missing, malformed, expired or wrongly signed token."""

    code = ErrorCode.AUTH_FAILED
    http_status = 401


class DuplicateError(ValidationError):
    """A record with this id (or unique key) already exists for the caller."""

    code = ErrorCode.DUPLICATE
    http_status = 409


class IllegalTransitionError(HealthSyncError):
    """An appointment cannot move to the status asked for, by this role."""

    code = ErrorCode.ILLEGAL_TRANSITION
    http_status = 409


class ConflictError(HealthSyncError):
    """The write lost a race or conflicts with the current state (already booked, slot taken, stale status)."""

    code = ErrorCode.ALREADY_BOOKED
    http_status = 409

    def __init__(self, message: str, *, code: ErrorCode = ErrorCode.ALREADY_BOOKED, hint: str | None = None,
                 field: str | None = None):
        super().__init__(message, hint=hint, field=field)
        self.code = ErrorCode(code)  # one of the registry's conflict codes; an unknown one raises


class DeviceExistsError(HealthSyncError):
    """A device id is already enrolled with other keys, or was revoked."""

    code = ErrorCode.DEVICE_EXISTS
    http_status = 409


class RemoteError(HealthSyncError):
    """An error the server answered with, carrying the server's registered code and HTTP status (translated at
    the client's boundary; a code this version does not know yet is kept as the server sent it)."""

    def __init__(self, message: str, *, remote_code: str, http_status: int, hint: str | None = None,
                 detail: dict | None = None, server_time: str | None = None):
        super().__init__(message, hint=hint)
        self.remote_code = remote_code
        self.http_status = http_status
        self.detail = detail or {}  # the server's whole error object (a revocation carries its shred order)
        self.server_time = server_time  # the answer's timestamp: the server's clock

    @property
    def code(self) -> str:  # type: ignore[override]
        return self.remote_code


class RemoteAuthError(RemoteError, AuthError):
    """The server refused the credentials (HTTP 401): sign in again."""


class ForbiddenError(HealthSyncError):
    """The caller is authenticated but may not do this."""

    code = ErrorCode.FORBIDDEN
    http_status = 403


class RateLimitedError(HealthSyncError):
    """Too many requests for this user and endpoint."""

    code = ErrorCode.RATE_LIMITED
    http_status = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message, hint=f"retry after {retry_after} s")
        self.retry_after = retry_after


class ChangesetError(HealthSyncError):
    """A changeset could not be opened: bad bytes, bad signature, tampered, replayed or unsupported."""

    code = ErrorCode.CHANGESET_INVALID
    http_status = 400

    def __init__(self, message: str, *, code: ErrorCode | str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        if code:
            self.code = ErrorCode(code)  # one of the registry's changeset/device codes; an unknown one raises


class MissingDependencyError(HealthSyncError):
    """An optional feature needs an extra that is not installed."""

    code = ErrorCode.MISSING_DEPENDENCY

    def __init__(self, package: str, extra: str):
        super().__init__(
            f"{package} is not installed", hint=f"install the extra: pip install 'healthsync[{extra}]'"
        )


class InputError(HealthSyncError):
    """Input media or data (audio, image, video, file) is unreadable or outside the supported limits."""

    code = ErrorCode.BAD_INPUT
    http_status = 400


class ModelError(HealthSyncError):
    """An on-device model is missing, refused (hash mismatch) or failed to run."""

    code = ErrorCode.MODEL_ERROR
