"""Server settings, read once from the environment into a frozen dataclass."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from protocol.errors import InputError

_DEFAULT_MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


def default_home() -> Path:
    """The server's data directory when none is configured: $HEALTHSYNC_HOME (where earlier versions kept the
    embedded Postgres and the key file), else ~/.healthsync. Read from the environment, not from the edge."""
    return Path(os.environ.get("HEALTHSYNC_HOME") or Path.home() / ".healthsync")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"{name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise InputError(f"{name} must be positive, got {value}")
    return value


def _opt(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name) or None


@dataclass(frozen=True)
class Settings:
    """Everything the server is configured with; `repr` hides secrets so settings can be logged."""

    database_url: str | None = None
    redis_url: str | None = None
    jwt_secret: str | None = field(default=None, repr=False)
    jwks_url: str | None = None
    jwt_audience: str = "authenticated"
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1_048_576
    rate_limit_requests: int = 120
    rate_limit_window_s: int = 60
    mongodb_uri: str | None = field(default=None, repr=False)
    groq_api_key: str | None = field(default=None, repr=False)
    models_dir: Path = _DEFAULT_MODELS_DIR
    pool_max_size: int = 10
    data_dir: Path | None = None
    max_skew_s: int = 300  # a change stamped further ahead of the server's clock is refused (CLOCK_SKEW)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from environment variables (see docs/server.md for the list)."""
        env = os.environ if env is None else env
        origins = tuple(o.strip() for o in (env.get("CORS_ORIGINS") or "").split(",") if o.strip())
        data_dir = _opt(env, "HEALTHSYNC_SERVER_DATA")
        return cls(
            database_url=_opt(env, "DATABASE_URL"),
            redis_url=_opt(env, "REDIS_URL"),
            jwt_secret=_opt(env, "SUPABASE_JWT_SECRET"),
            jwks_url=_opt(env, "SUPABASE_JWKS_URL"),
            jwt_audience=env.get("SUPABASE_JWT_AUDIENCE") or "authenticated",
            cors_origins=origins,
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 1_048_576),
            rate_limit_requests=_int(env, "RATE_LIMIT_REQUESTS", 120),
            rate_limit_window_s=_int(env, "RATE_LIMIT_WINDOW_S", 60),
            mongodb_uri=_opt(env, "MONGODB_URI"),
            groq_api_key=_opt(env, "GROQ_API_KEY"),
            models_dir=Path(env.get("HEALTHSYNC_MODELS_DIR") or _DEFAULT_MODELS_DIR),
            pool_max_size=_int(env, "DB_POOL_MAX_SIZE", 10),
            data_dir=Path(data_dir) if data_dir else None,
            max_skew_s=_int(env, "HEALTHSYNC_MAX_SKEW_S", 300),
        )
