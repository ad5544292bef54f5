"""Supabase-style JWT verification (HS256 project secret, or JWKS), the caller's Principal, and dev token minting."""
from __future__ import annotations

import collections
import functools
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from protocol.codes import ErrorCode
from protocol.errors import AuthError

ROLES = ("patient", "nurse", "doctor", "staff", "admin")  # protocol.appointments.ROLES
ASYMMETRIC_ALGS = ["RS256", "ES256", "EdDSA"]


class TokenMissingError(AuthError):
    """No bearer token was sent."""

    code = ErrorCode.AUTH_MISSING


class TokenExpiredError(AuthError):
    """The token's exp is in the past."""

    code = ErrorCode.AUTH_EXPIRED


class TokenSignatureError(AuthError):
    """The token was not signed by our project's key."""

    code = ErrorCode.AUTH_BAD_SIGNATURE


class TokenInvalidError(AuthError):
    """The token is malformed or its claims (aud, sub, exp) are wrong."""

    code = ErrorCode.AUTH_INVALID


@dataclass(frozen=True)
class Principal:
    """Who is calling: user id, application role, the Postgres role to run as and the verified claims."""

    user_id: uuid.UUID | None
    role: str
    db_role: str
    claims: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin" or self.db_role == "service_role"

    @classmethod
    def anonymous(cls) -> Principal:
        """The caller without a token (Supabase's `anon`)."""
        return cls(None, "anon", "anon", {"role": "anon"})


@functools.lru_cache(maxsize=8)
def _jwks_client(url: str):
    import jwt

    # cache_keys: fetch the key set once and reuse it; a new kid triggers one refetch.
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)


LEEWAY_S = 10  # clock skew allowed on exp
VERIFIED_CACHE_SIZE = 10_000
VERIFIED_CACHE_S = 300  # a verified token is checked afresh at least this often (a JWKS key may have been removed)


class TokenVerifier:
    """Verifies bearer tokens against the project secret (HS256) and/or a JWKS URL.

    Verified tokens are remembered by their exact text for a few minutes: a device sends the same token with every
    request for an hour, and decoding it and checking its signature again was about 8 % of a small push's server
    CPU (py-spy). A hit is the same bytes, so the same signature and claims; its expiry is checked on every hit,
    with the same leeway, and failures are never remembered."""

    def __init__(self, secret: str | None, jwks_url: str | None = None, audience: str = "authenticated"):
        self.secret = secret
        self.jwks_url = jwks_url
        self.audience = audience
        self._verified: collections.OrderedDict[str, tuple[Principal, float]] = collections.OrderedDict()
        self._lock = threading.Lock()  # a JWKS verifier runs on worker threads

    def verify(self, token: str | None) -> Principal:
        """The Principal for a token, or an AuthError subclass saying exactly what is wrong."""
        if not token:
            raise TokenMissingError("no bearer token", hint="send 'Authorization: Bearer <Supabase access token>'")
        now = time.time()
        with self._lock:
            hit = self._verified.get(token)
            if hit is not None and now < hit[1]:
                self._verified.move_to_end(token)
                return hit[0]
        principal = self._check(token)
        exp = principal.claims["exp"]
        with self._lock:
            self._verified[token] = (principal, min(float(exp) + LEEWAY_S, now + VERIFIED_CACHE_S))
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return principal

    def _check(self, token: str) -> Principal:
        """Decode and verify the token (signature, audience, required claims, expiry)."""
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenInvalidError("malformed token") from None
        alg = header.get("alg")
        try:
            if alg == "HS256":
                if not self.secret:
                    raise TokenInvalidError("HS256 tokens are not accepted: SUPABASE_JWT_SECRET is not set")
                key: Any = self.secret
            elif alg in ASYMMETRIC_ALGS and self.jwks_url:
                try:
                    key = _jwks_client(self.jwks_url).get_signing_key_from_jwt(token).key
                except jwt.PyJWKClientError as exc:
                    raise TokenSignatureError(f"no matching signing key in the JWKS ({type(exc).__name__})") from None
            else:
                raise TokenInvalidError(f"token algorithm {alg!r} is not accepted")
            claims = jwt.decode(
                token, key, algorithms=[alg], audience=self.audience,
                options={"require": ["exp", "sub", "aud"]}, leeway=LEEWAY_S,
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpiredError("token has expired", hint="sign in again to get a fresh token") from None
        except jwt.InvalidSignatureError:
            raise TokenSignatureError("token signature is invalid") from None
        except jwt.InvalidAudienceError:
            raise TokenInvalidError(f"token audience is not {self.audience!r}") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenInvalidError(f"token lacks the {exc.claim!r} claim") from None
        except jwt.PyJWTError as exc:
            raise TokenInvalidError(f"token rejected ({type(exc).__name__})") from None
        return principal_from_claims(claims)


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Map verified Supabase claims to a Principal (app role from app_metadata.role, default patient)."""
    try:
        user_id = uuid.UUID(str(claims["sub"]))
    except (KeyError, ValueError):
        raise TokenInvalidError("token 'sub' is not a user id") from None
    if claims.get("role") == "service_role":
        return Principal(user_id, "admin", "service_role", claims)
    if claims.get("role", "authenticated") != "authenticated":
        raise TokenInvalidError(f"token role {claims.get('role')!r} is not accepted")
    app_metadata = claims.get("app_metadata") or {}
    if not isinstance(app_metadata, dict):
        raise TokenInvalidError("token 'app_metadata' is not an object")
    app_role = app_metadata.get("role") or "patient"
    if not isinstance(app_role, str) or app_role not in ROLES:
        raise TokenInvalidError(f"app_metadata.role {str(app_role)[:32]!r} is not one of {', '.join(ROLES)}")
    return Principal(user_id, app_role, "authenticated", claims)


def mint_token(
    secret: str, user_id: uuid.UUID | str, role: str = "patient", ttl_s: int = 3600,
    *, email: str | None = None, now: float | None = None, clinic_id: uuid.UUID | str | None = None,
    session_id: uuid.UUID | str | None = None, full_name: str | None = None, issuer: str = "healthsync-dev",
    platform_admin: bool = False,
) -> str:
    """A Supabase-shaped HS256 access token (the embedded auth service's, and for development, tests, the demo)."""
    import jwt

    if role not in ROLES:
        raise TokenInvalidError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if not secret:
        raise TokenInvalidError("no JWT secret configured", hint="set SUPABASE_JWT_SECRET")
    issued = int(now if now is not None else time.time())
    app_metadata: dict[str, Any] = {"provider": "email", "providers": ["email"], "role": role}
    if clinic_id is not None:
        app_metadata["clinic_id"] = str(uuid.UUID(str(clinic_id)))
    if platform_admin:  # as Supabase does, the token carries what app_metadata holds (0092 reads this one)
        app_metadata["platform_admin"] = True
    claims = {
        "sub": str(uuid.UUID(str(user_id))),
        "aud": "authenticated",
        "role": "authenticated",
        "iat": issued,
        "exp": issued + ttl_s,
        "iss": issuer,
        "session_id": str(session_id or uuid.uuid4()),
        "app_metadata": app_metadata,
        "user_metadata": {"full_name": full_name} if full_name else {},
    }
    if email:
        claims["email"] = email
    return jwt.encode(claims, secret, algorithm="HS256")
