"""The doctor search cache in real Redis (keys under a random prefix): `doctors:search:{specialty}:{location}`,
30 minutes, dropped when a doctor's entry changes; answers without Redis and with Redis down; the
doctor_performance view refreshed concurrently."""
from __future__ import annotations

import time
import uuid

import pytest
from fastapi.testclient import TestClient

from sync_server import testing
from sync_server.app import create_app
from sync_server.events.runtime import RealtimeSettings
from sync_server.marketplace import performance
from sync_server.testing import auth
from tests.server.conftest import REDIS_URL
from tests.server.marketplace_world import seed, slot


@pytest.fixture
def cached_app(pg_url, redis_client):
    prefix = f"hs-test-{uuid.uuid4().hex[:8]}:"
    app = create_app(testing.settings_for(pg_url, redis_url=REDIS_URL))
    app.state.realtime_settings = RealtimeSettings(redis_prefix=prefix, relay_tick_s=0.1, jobs_interval_s=3600)
    with TestClient(app) as c:
        yield c, prefix
    for key in redis_client.scan_iter(match=f"{prefix}*"):
        redis_client.delete(key)
    app.state.db.close()


def test_searches_are_cached_and_dropped_when_a_doctor_changes(cached_app, db, redis_client):
    c, prefix = cached_app
    spec = "cache-" + uuid.uuid4().hex[:6]
    world = seed(db, specialty=spec, n_doctors=2, n_patients=1)
    params, h = {"specialty": spec, "near": "51.5,0.0"}, auth(world.patients[0])
    first = c.get("/api/v1/doctors/search", params=params, headers=h).json()["data"]
    second = c.get("/api/v1/doctors/search", params=params, headers=h).json()["data"]
    assert (first["cached"], second["cached"]) == (False, True) and first["items"] == second["items"]
    key = f"{prefix}doctors:search:{spec}:51.50,0.00"
    assert 0 < redis_client.ttl(key) <= 1800
    with db.admin() as conn:
        conn.execute("UPDATE doctors SET rating = 1.0 WHERE id = %s", (world.doctors["d1"]["id"],))
    deadline = time.monotonic() + 10
    while redis_client.exists(key) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not redis_client.exists(key)
    third = c.get("/api/v1/doctors/search", params=params, headers=h).json()["data"]
    assert third["cached"] is False
    assert {i["id"]: i["rating"] for i in third["items"]}[str(world.doctors["d1"]["id"])] == 1.0


def test_searches_answer_without_redis_and_with_redis_down(client, pg_url, db):
    world = seed(db, n_doctors=1, n_patients=1)
    h = auth(world.patients[0])
    for _ in range(2):  # the session app has no Redis
        assert client.get("/api/v1/doctors/search", headers=h).json()["data"]["cached"] is False
    app = create_app(testing.settings_for(pg_url, redis_url="redis://127.0.0.1:9/0"))  # nothing listens there
    app.state.realtime_settings = RealtimeSettings(enabled=False)
    with TestClient(app) as down:
        r = down.get("/api/v1/doctors/search", headers=h)
        assert r.status_code == 200 and r.json()["data"]["cached"] is False
    app.state.db.close()


def test_doctor_performance_counts_bids_wins_and_completions(client, db, pg_url):
    spec = "perf-" + uuid.uuid4().hex[:6]
    world = seed(db, specialty=spec, n_doctors=2, n_patients=1)
    patient = world.patients[0]
    appt = client.post("/api/v1/appointments", json={"description": "x", "specialty": spec},
                       headers=auth(patient)).json()["data"]["id"]
    bids = []
    for name, hours in (("d0", 30), ("d1", 31)):
        start, end = slot(hours)
        bids.append(client.post(f"/api/v1/appointments/{appt}/bids", headers=world.doctor_headers(name),
                                json={"price": 10, "slot_start": start, "slot_end": end}).json()["data"]["id"])
    client.put(f"/api/v1/appointments/{appt}", json={"status": "booked", "bid_id": bids[0]}, headers=auth(patient))
    client.put(f"/api/v1/appointments/{appt}", json={"status": "completed"}, headers=world.doctor_headers("d0"))
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:  # CONCURRENTLY runs outside a transaction block
        performance.refresh(conn)
    rows = {r["doctor_id"]: r for r in client.get("/api/v1/doctors/performance", headers=auth(patient)).json()
            ["data"]["items"] if r["specialty"] == spec}
    d0, d1 = (str(world.doctors[n]["id"]) for n in ("d0", "d1"))
    assert (rows[d0]["bids"], rows[d0]["bids_won"], rows[d0]["win_rate"], rows[d0]["completed_appointments"]) == \
        (1, 1, 1.0, 1)
    assert (rows[d1]["bids"], rows[d1]["bids_won"], rows[d1]["win_rate"], rows[d1]["completed_appointments"]) == \
        (1, 0, 0.0, 0)
    assert rows[d0]["mean_time_to_first_bid_s"] >= 0
