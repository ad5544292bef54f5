"""One exception hierarchy for HealthSync, with stable error codes that travel on the wire."""
from __future__ import annotations


class HealthSyncError(Exception):
    """Root of every error HealthSync raises on purpose; `code` is stable, `hint` says what to do."""

    code = "HEALTHSYNC_ERROR"
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

    code = "VALIDATION_FAILED"
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

    code = "NOT_FOUND"
    http_status = 404


class StoreLockedError(HealthSyncError):
    """The encrypted store could not be unlocked: no key given, or the key/passphrase is wrong."""

    code = "STORE_LOCKED"
    http_status = 401


class StoreCorruptError(HealthSyncError):
    """The store file is not a HealthSync store, or its data failed an integrity check."""

    code = "STORE_CORRUPT"


class SchemaVersionError(HealthSyncError):
    """The store or changeset was written by a newer version than this code understands."""

    code = "SCHEMA_TOO_NEW"
    http_status = 409


class AuthError(HealthSyncError):
    """Authentication failed: missing, malformed, expired or wrongly signed token."""

    code = "AUTH_FAILED"
    http_status = 401


class ForbiddenError(HealthSyncError):
    """The caller is authenticated but may not do this."""

    code = "FORBIDDEN"
    http_status = 403


class RateLimitedError(HealthSyncError):
    """Too many requests for this user and endpoint."""

    code = "RATE_LIMITED"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message, hint=f"retry after {retry_after} s")
        self.retry_after = retry_after


class ChangesetError(HealthSyncError):
    """A changeset could not be opened: bad bytes, bad signature, tampered, replayed or unsupported."""

    code = "CHANGESET_INVALID"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        if code:
            self.code = code


class MissingDependencyError(HealthSyncError):
    """An optional feature needs an extra that is not installed."""

    code = "MISSING_DEPENDENCY"

    def __init__(self, package: str, extra: str):
        super().__init__(
            f"{package} is not installed", hint=f"install the extra: pip install 'healthsync[{extra}]'"
        )


class InputError(HealthSyncError):
    """Input media or data (audio, image, video, file) is unreadable or outside the supported limits."""

    code = "BAD_INPUT"
    http_status = 400


class ModelError(HealthSyncError):
    """An on-device model is missing, refused (hash mismatch) or failed to run."""

    code = "MODEL_ERROR"
