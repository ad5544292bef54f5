"""The predictions read cache: pages of one patient's `/api/v1/health/predictions` kept in Redis under
`health:predictions:{user_id}` for an hour, sealed with AES-GCM, dropped when a push changes that patient's
predictions.

The caller's right to read the patient is asked of Postgres (app.in_scope, the read policy's scope as one test)
before any cached value is used; a caller out of scope gets what RLS answers them (an empty page), never the cache.
A hit is audited exactly like a read from the table. The key is a Redis hash: one field per parameter set (disease,
window, page) plus `gen`, a random generation token bound into every sealed value (AES-GCM associated data). An
invalidation deletes the hash; a reader that read the table before a push committed and stores its page after the
invalidation stored it under a generation that no longer exists, so nobody is served it. The whole hash expires an
hour after its generation was made, so no answer is older than an hour. Without Redis, or with it down, reads go to
the database.
"""
from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterable
from typing import Any

from pydantic_core import to_jsonable_python

from sync_server import clinical_reads
from sync_server.auth import Principal

logger = logging.getLogger(__name__)
CACHE_TTL_S = 60 * 60
TABLE = "predictions"
_GEN = "gen"
_KDF_INFO = b"healthsync-predictions-cache-v1"


def cache_key(user_id: uuid.UUID | str, prefix: str = "") -> str:
    """The Redis key of a patient's cached predictions."""
    return f"{prefix}health:predictions:{user_id}"


def _field(filters: dict[str, Any]) -> str:
    return json.dumps({k: filters[k] for k in sorted(filters) if k != "user_id"}, default=str, sort_keys=True)


class PredictionsCache:
    """Sealed pages of one patient's predictions in Redis (absent Redis: no cache)."""

    def __init__(self, redis_url: str | None, prefix: str = "", secret: bytes = b""):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        self.prefix = prefix
        self._client = None
        if redis_url:
            from sync_server.events.runtime import redis_client

            # A key of its own, derived from the server's secret: every instance derives the same one, and a Redis
            # dump or a snooped connection shows only ciphertext.
            self._aead = AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(secret))
            self._client = redis_client(redis_url)

    @property
    def enabled(self) -> bool:
        return self._client is not None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _aad(self, key: str, field: str, gen: bytes) -> bytes:
        return b"|".join((key.encode(), field.encode(), gen))

    def get(self, user_id: uuid.UUID, filters: dict[str, Any]) -> tuple[dict | None, bytes | None]:
        """The cached page (or None) and the generation to store a freshly read page under (None: Redis down)."""
        key, field = cache_key(user_id, self.prefix), _field(filters)
        try:
            pipe = self._client.pipeline(transaction=False)
            pipe.hsetnx(key, _GEN, os.urandom(16).hex())
            pipe.expire(key, CACHE_TTL_S, nx=True)  # an hour from the generation's birth, not from each write
            pipe.hmget(key, _GEN, field)
            gen, blob = pipe.execute()[2]
        except Exception as exc:  # redis.RedisError and socket errors: answer from Postgres
            logger.warning("predictions cache unavailable (%s)", type(exc).__name__)
            return None, None
        if gen is None:
            return None, None  # deleted between the calls: do not store under a generation nobody holds
        if blob is None:
            return None, gen
        try:
            plain = self._aead.decrypt(blob[:12], blob[12:], self._aad(key, field, gen))
        except Exception:  # InvalidTag: stored under an older generation (or not by us): a miss
            return None, gen
        return json.loads(plain), gen

    def put(self, user_id: uuid.UUID, filters: dict[str, Any], gen: bytes, page: dict) -> None:
        key, field = cache_key(user_id, self.prefix), _field(filters)
        nonce = os.urandom(12)
        blob = nonce + self._aead.encrypt(nonce, json.dumps(page).encode(), self._aad(key, field, gen))
        try:
            pipe = self._client.pipeline(transaction=False)
            pipe.hset(key, field, blob)
            pipe.expire(key, CACHE_TTL_S, nx=True)
            pipe.execute()
        except Exception as exc:
            logger.warning("predictions cache unavailable (%s)", type(exc).__name__)

    def invalidate(self, user_ids: Iterable[uuid.UUID | str]) -> None:
        """Drop the cached predictions of these patients (after the transaction that changed them committed)."""
        keys = [cache_key(u, self.prefix) for u in user_ids]
        if not keys or self._client is None:
            return
        try:
            self._client.delete(*keys)
        except Exception as exc:
            # The entries then live out their hour: said in the README's threat model.
            logger.warning("predictions cache invalidation failed (%s)", type(exc).__name__)


def for_app(app) -> PredictionsCache:
    """The app's predictions cache (its Redis, keys under the deployment's prefix), made on first use."""
    cache = getattr(app.state, "predictions_cache", None)
    if cache is None:
        from sync_server.events.runtime import settings_of
        from sync_server.sync_keys import server_key_for

        settings = app.state.settings
        secret = server_key_for(settings).private_bytes_raw() if settings.redis_url else b""
        cache = app.state.predictions_cache = PredictionsCache(settings.redis_url, settings_of(app).redis_prefix,
                                                               secret)
    return cache


def _patient(principal: Principal, user_id: uuid.UUID | None) -> uuid.UUID | None:
    """Whose predictions a read asks for: the named patient, or a patient's own; None for a clinician's read across
    patients (not cached: no one patient's push could invalidate it)."""
    if user_id is not None:
        return user_id
    return principal.user_id if principal.role == "patient" else None


def may_read(conn, principal: Principal, patient: uuid.UUID) -> bool:
    """Whether RLS lets the caller read this patient's rows: app.in_scope (migration 0051) is the read policy's
    scope (own rows, the caller's clinics' registered patients, a doctor's patients in care, break-glass) as one
    test; a policy is per patient, so in scope means every one of the patient's predictions is visible. One's own
    rows need no query (the policy's first clause)."""
    if patient == principal.user_id:
        return True
    row = conn.execute("SELECT app.in_scope(%s) AS ok", (patient,)).fetchone()
    return bool(row["ok"])


def list_predictions(conn, cache: PredictionsCache, principal: Principal, **filters: Any) -> dict[str, Any]:
    """A page of predictions as clinical_reads.list_records answers it, from the cache when it holds it."""
    patient = _patient(principal, filters.get("user_id"))
    if patient is None or not cache.enabled or not may_read(conn, principal, patient):
        return clinical_reads.list_records(conn, principal, TABLE, **filters)
    filters = {**filters, "user_id": patient}
    page, gen = cache.get(patient, filters)
    if page is not None:
        clinical_reads.audit_read(conn, principal, TABLE, page["items"])
        return page
    page = to_jsonable_python(clinical_reads.list_records(conn, principal, TABLE, **filters))
    if gen is not None:
        cache.put(patient, filters, gen, page)
    return page
