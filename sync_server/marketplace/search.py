"""Doctor search: filter and rank the directory by specialty match, distance (app.distance_m: earthdistance, or
haversine where the extension is missing), rating, price and next free slot, cached in Redis under
`doctors:search:{specialty}:{location}` for 30 minutes.

A doctor with no location, price or working hours is still found when the query does not filter on it (ranked
after those that have it). Locations in a query are rounded to 0.01° (about 1 km), the same rounding the cache key
uses, so a cached answer is exactly the answer. The cache is a Redis hash per (specialty, location), one field per
remaining parameter set; every search key is deleted when the directory changes (a NOTIFY from a trigger on
`doctors`, migration 0080, heard by the relay). Without Redis, or with it down, searches are simply not cached.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from protocol.errors import ValidationError

logger = logging.getLogger(__name__)
CACHE_TTL_S = 30 * 60
SLOT_MINUTES = 30
HORIZON_DAYS = 14
MAX_RESULTS = 200
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Query:
    """A search: every filter optional."""

    specialty: str | None = None
    near: tuple[float, float] | None = None
    radius_km: float | None = None
    language: str | None = None
    max_price: float | None = None
    available_from: dt.datetime | None = None

    def location(self) -> str:
        return "*" if self.near is None else f"{self.near[0]:.2f},{self.near[1]:.2f}"

    def cache_key(self, prefix: str = "") -> str:
        return f"{prefix}doctors:search:{(self.specialty or '*').lower()}:{self.location()}"

    def cache_field(self) -> str:
        rest = [self.radius_km, self.language, self.max_price,
                None if self.available_from is None else self.available_from.isoformat(timespec="minutes")]
        return hashlib.sha256(json.dumps(rest, default=str).encode()).hexdigest()[:32]


def parse_near(text: str | None) -> tuple[float, float] | None:
    """`lat,lon` in degrees, rounded to 0.01°."""
    if text is None or not text.strip():
        return None
    try:
        lat, lon = (float(p) for p in text.split(","))
    except ValueError:
        raise ValidationError("near must be 'lat,lon' in degrees, e.g. 51.50,-0.12", field="near") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError("near is outside -90..90, -180..180", field="near")
    return round(lat, 2), round(lon, 2)


_SQL = """
SELECT d.id::text AS id, d.user_id::text AS user_id, d.full_name, d.specialty, d.clinic_id::text AS clinic_id,
       d.languages, d.price_min, d.price_max, d.hourly_rate, d.rating, d.latitude, d.longitude, d.working_hours,
       (lower(d.specialty) = lower(%(spec)s::text)) AS exact,
       CASE WHEN %(lat)s::float8 IS NOT NULL AND d.latitude IS NOT NULL
            THEN app.distance_m(%(lat)s, %(lon)s, d.latitude, d.longitude) / 1000 END AS distance_km
  FROM doctors d
 WHERE NOT d.deleted AND d.available
   AND (%(spec)s::text IS NULL OR d.specialty ILIKE %(spec_like)s ESCAPE '\\')
   AND (%(lang)s::text IS NULL OR %(lang)s::text = ANY(d.languages))
   AND (%(price)s::float8 IS NULL OR coalesce(d.price_min, d.hourly_rate) <= %(price)s::float8)
   AND (%(radius)s::float8 IS NULL OR (d.latitude IS NOT NULL
        AND app.distance_m(%(lat)s, %(lon)s, d.latitude, d.longitude) <= %(radius)s::float8))
 LIMIT 2000
"""


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(conn, q: Query, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The ranked doctors for a query (no cache)."""
    if q.radius_km is not None and q.near is None:
        raise ValidationError("radius_km needs near=lat,lon", field="radius_km")
    lat, lon = q.near if q.near else (None, None)
    rows = conn.execute(_SQL, {"spec": q.specialty, "spec_like": _like(q.specialty or ""), "lat": lat, "lon": lon,
                               "lang": q.language.lower() if q.language else None, "price": q.max_price,
                               "radius": None if q.radius_km is None else q.radius_km * 1000}).fetchall()
    start = _ceil_slot(max(q.available_from or now or _utcnow(), now or _utcnow()))
    busy = _busy(conn, [r["id"] for r in rows if r["working_hours"]], start)
    out = []
    for r in rows:
        slot = next_free_slot(r["working_hours"] or {}, busy.get(r["id"], []), start)
        if q.available_from is not None and slot is None:
            continue
        price = r["price_min"] if r["price_min"] is not None else r["hourly_rate"]
        out.append({"id": r["id"], "user_id": r["user_id"], "full_name": r["full_name"], "specialty": r["specialty"],
                    "clinic_id": r["clinic_id"], "languages": list(r["languages"] or []), "price_min": r["price_min"],
                    "price_max": r["price_max"], "rating": r["rating"],
                    "distance_km": None if r["distance_km"] is None else round(float(r["distance_km"]), 3),
                    "next_free_slot": None if slot is None else slot.isoformat(),
                    "match": "exact" if r["exact"] else ("partial" if q.specialty else "any"),
                    "_price": price})
    out.sort(key=_rank)
    for r in out:
        r.pop("_price")
    return out[:MAX_RESULTS]


def _rank(r: dict[str, Any]) -> tuple:
    """Match first, then distance, rating (higher first), price, next free slot; unknowns after knowns."""
    dist, rating, price, slot = r["distance_km"], r["rating"], r["_price"], r["next_free_slot"]
    return (r["match"] != "exact", dist is None, dist or 0.0, rating is None, -(rating or 0.0),
            price is None, price or 0.0, slot is None, slot or "", r["id"])


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ceil_slot(t: dt.datetime) -> dt.datetime:
    t = t if t.tzinfo else t.replace(tzinfo=dt.UTC)
    t = t.astimezone(dt.UTC).replace(second=0, microsecond=0)
    extra = t.minute % SLOT_MINUTES
    return t + dt.timedelta(minutes=SLOT_MINUTES - extra) if extra else t


def _busy(conn, ids: list[str], since: dt.datetime) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
    out: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
    if ids:
        for r in conn.execute("SELECT doctor_id::text AS d, starts, ends FROM app.doctor_busy(%s::uuid[], %s)",
                              (ids, since)).fetchall():
            out.setdefault(r["d"], []).append((r["starts"], r["ends"]))
    return out


def _hours(spec: Any) -> list[tuple[int, int]]:
    """["09:00-17:00", …] as minute ranges; malformed entries are ignored (the directory is operator data)."""
    out = []
    for item in spec if isinstance(spec, list) else []:
        try:
            a, b = str(item).split("-")
            (h1, m1), (h2, m2) = (map(int, a.split(":")), map(int, b.split(":")))
        except ValueError:
            continue
        if 0 <= h1 * 60 + m1 < h2 * 60 + m2 <= 24 * 60:
            out.append((h1 * 60 + m1, h2 * 60 + m2))
    return out


def next_free_slot(hours: dict[str, Any], busy: list[tuple[dt.datetime, dt.datetime]],
                   start: dt.datetime) -> dt.datetime | None:
    """The first SLOT_MINUTES slot at or after `start`, inside the weekly working hours (UTC, e.g.
    {"mon": ["09:00-17:00"]}) and overlapping no busy interval; None within HORIZON_DAYS or without hours."""
    if not isinstance(hours, dict) or not hours:
        return None
    step = dt.timedelta(minutes=SLOT_MINUTES)
    day0 = start.replace(hour=0, minute=0)
    for d in range(HORIZON_DAYS + 1):
        day = day0 + dt.timedelta(days=d)
        for lo, hi in sorted(_hours(hours.get(DAYS[day.weekday()]))):
            t = day + dt.timedelta(minutes=lo)
            end = day + dt.timedelta(minutes=hi)
            if t < start:
                t = start
            while t + step <= end:
                clash = next((b for b in busy if b[0] < t + step and b[1] > t), None)
                if clash is None:
                    return t
                t = max(t + step, _ceil_slot(clash[1]))
    return None


class SearchCache:
    """The Redis side of the search (a protocol of two calls; absent Redis: no cache)."""

    def __init__(self, redis_url: str | None, prefix: str = ""):
        self.prefix = prefix
        self._client = None
        if redis_url:
            from sync_server.events.runtime import redis_client

            self._client = redis_client(redis_url)

    def get(self, q: Query) -> list[dict[str, Any]] | None:
        if self._client is None:
            return None
        try:
            raw = self._client.hget(q.cache_key(self.prefix), q.cache_field())
        except Exception as exc:  # redis.RedisError and socket errors: answer from Postgres
            logger.warning("doctor search cache unavailable (%s)", type(exc).__name__)
            return None
        return None if raw is None else json.loads(raw)

    def put(self, q: Query, result: list[dict[str, Any]]) -> None:
        if self._client is None:
            return
        key = q.cache_key(self.prefix)
        try:
            pipe = self._client.pipeline()
            pipe.hset(key, q.cache_field(), json.dumps(result, default=str))
            pipe.expire(key, CACHE_TTL_S)
            pipe.execute()
        except Exception as exc:
            logger.warning("doctor search cache unavailable (%s)", type(exc).__name__)

    def invalidate(self) -> int:
        """Delete every cached search (the directory changed)."""
        if self._client is None:
            return 0
        n = 0
        for key in self._client.scan_iter(match=f"{self.prefix}doctors:search:*", count=500):
            n += self._client.delete(key)
        return n


def cached_search(conn, cache: SearchCache, q: Query) -> tuple[list[dict[str, Any]], bool]:
    """The answer and whether it came from the cache."""
    found = cache.get(q)
    if found is not None:
        return found, True
    result = search(conn, q)
    cache.put(q, result)
    return result, False
