"""Live status of the server's dependencies for /health: Postgres, Redis and the on-device model manifests."""
from __future__ import annotations

import functools
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from sync_server.config import Settings


def check_database(db) -> dict[str, Any]:
    """A real `SELECT 1` plus the applied migration version."""
    from sync_server.migrate import current_version

    started = time.perf_counter()
    try:
        with db.admin(timeout_s=2) as conn:
            conn.execute("SELECT 1")
            version = current_version(conn)
    except Exception as exc:
        return {"status": "down", "error": type(exc).__name__}
    status = "ok" if version else "unmigrated"
    return {"status": status, "migration": version, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def check_redis(redis_url: str | None) -> dict[str, Any]:
    """A real PING, or "not configured" when REDIS_URL is unset."""
    if not redis_url:
        return {"status": "not configured", "rate_limiter": "in-process"}
    import redis

    started = time.perf_counter()
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError as exc:
        return {"status": "down", "error": type(exc).__name__, "rate_limiter": "in-process fallback"}
    finally:
        client.close()
    return {"status": "ok", "rate_limiter": "redis", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


def _sha256(path: Path) -> str:
    stat = path.stat()
    return _sha256_cached(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _sha256_cached(path: str, mtime_ns: int, size: int) -> str:
    # Keyed on the file's identity: /health stays cheap, and a replaced file is hashed again.
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_models(models_dir: Path) -> dict[str, Any]:
    """Whether the model manifests under `models_dir` parse and list files that exist with matching sha256."""
    manifests = sorted(Path(models_dir).rglob("manifest.json")) if Path(models_dir).is_dir() else []
    if not manifests:
        return {"status": "not shipped", "manifests": []}
    found, status = [], "ok"
    for path in manifests:
        entry: dict[str, Any] = {"manifest": str(path.relative_to(models_dir))}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            entry.update(status="unreadable", error=type(exc).__name__)
            status = "degraded"
            found.append(entry)
            continue
        models = data.get("models", []) if isinstance(data, dict) else data
        items = [m for m in (models if isinstance(models, list) else []) if isinstance(m, dict)]
        missing, mismatched = [], []
        for item in items:
            name = item.get("file") or item.get("path")
            if not name:
                continue
            target = path.parent / name
            if not target.is_file():
                missing.append(name)
            elif item.get("sha256") and _sha256(target) != item["sha256"]:
                mismatched.append(name)
        ok = items and not missing and not mismatched
        entry.update(status="ok" if ok else "degraded", models=[m.get("name") for m in items],
                     missing=missing, hash_mismatch=mismatched)
        if not ok:
            status = "degraded"
        found.append(entry)
    return {"status": status, "manifests": found}


def report(settings: Settings, db) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): 503 when the database is down, else 200 with "ok" or "degraded"."""
    database = check_database(db)
    redis_status = check_redis(settings.redis_url)
    models = check_models(settings.models_dir)
    if database["status"] != "ok":
        overall = "down"
    elif redis_status["status"] == "down" or models["status"] == "degraded":
        overall = "degraded"
    else:
        overall = "ok"
    body = {"status": overall, "database": database, "redis": redis_status, "models": models}
    return (503 if overall == "down" else 200), body
