"""Benchmark: what one push and one booking accept cost, measured in ways that do not depend on a queue.

Two measures, both repeatable on a busy machine where bench_load's latencies are not:
- round trips: the app in-process (FastAPI's TestClient, with Redis as bench_load runs it), counting every wait
  psycopg makes on the server (one per round trip; a pipeline's batch counts once) and every statement it sends,
  for a push of 5 readings, a push of 5 readings and a red-flag symptom, and an accept;
- CPU: one uvicorn instance as a separate process, driven closed-loop (16 requests in flight) with the same pushes
  and accepts as bench_load; CPU milliseconds per request of the server process and of the Postgres backends
  serving this run's database (the other databases on the machine are not counted).

Pulls resume from the device's cursor, as the edge does; "verify" is such a pull asking for the checksums (the
edge's every few minutes); "full pull" is a repair's pull from 0 (200 rows).

Run: python bench/bench_push_cost.py [--pushes N] [--accepts N]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import Device, client, note_pulled, pull_request, raw, send, server_key_hex  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: E402

from protocol import changeset  # noqa: E402
from protocol.schema import new_id  # noqa: E402
from sync_server import testing  # noqa: E402
from sync_server.db import Database  # noqa: E402

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def seed_bids(db: Database, devices: list[Device], n: int) -> list[tuple[Device, uuid.UUID, uuid.UUID]]:
    """`n` open requests, each with one bid on its own slot (so every accept books)."""
    base_t = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=2)
    out = []
    with db.admin() as conn:
        clinic = conn.execute("INSERT INTO clinics (name) VALUES ('cost') RETURNING id").fetchone()["id"]
        doctor = conn.execute("INSERT INTO doctors (id, user_id, full_name, specialty, clinic_id, hlc) VALUES "
                              "(gen_random_uuid(), gen_random_uuid(), 'Dr Cost', 'cost', %s, 'b') RETURNING id",
                              (clinic,)).fetchone()["id"]
        for i in range(n):
            dev, appt = devices[i % len(devices)], new_id()
            conn.execute("INSERT INTO appointments (id, patient_id, status, specialty, hlc) VALUES "
                         "(%s, %s, 'requested', 'cost', 'b')", (appt, dev.user))
            start = base_t + dt.timedelta(hours=i)
            bid = conn.execute("INSERT INTO appointment_bids (appointment_id, doctor_id, price, slot_start, "
                               "slot_end) VALUES (%s, %s, 10, %s, %s) RETURNING id",
                               (appt, doctor, start, start + dt.timedelta(minutes=30))).fetchone()["id"]
            out.append((dev, appt, bid))
    return out


def round_trips(url: str, key: X25519PrivateKey, trace: bool = False) -> dict[str, tuple[float, float]]:
    """Round trips and statements per request, the app in-process."""
    import psycopg
    from fastapi.testclient import TestClient

    from sync_server.app import create_app

    counts = {"waits": 0, "statements": 0}
    wait, execute, executemany = psycopg.Connection.wait, psycopg.Cursor.execute, psycopg.Cursor.executemany

    def ours() -> bool:  # the request's work, not the event relay's threads
        return not threading.current_thread().name.startswith("event-")

    def counting_wait(self, *a, **k):
        counts["waits"] += ours()
        return wait(self, *a, **k)

    def counting(method):
        def run(self, query, *a, **k):
            if ours():
                counts["statements"] += 1
                if counts.get("trace"):
                    print("   ", " ".join(str(query).split())[:160])
            return method(self, query, *a, **k)
        return run

    os.environ["HEALTHSYNC_SERVER_KEY"] = server_key_hex(key)
    app = create_app(testing.settings_for(url, redis_url=REDIS_URL))
    pub = changeset.raw_public(key)
    out = {}
    db = Database(url, max_size=2)
    try:
        with TestClient(app) as http:
            devices = [Device(i) for i in range(3)]
            for d in devices:
                r = http.post("/v1/devices", headers={"Authorization": f"Bearer {d.token}"},
                              json={"device_id": d.id, "signing_key": raw(d.signer), "agreement_key": raw(d.agreement)})
                assert r.status_code == 201, r.text
            plan = seed_bids(db, devices, 30)

            def measure(name, requests):
                for k, call in enumerate(requests):
                    if k == 5:  # warm: caches, prepared statements, pool connections
                        counts.update(waits=0, statements=0)
                    counts["trace"] = trace and k == len(requests) - 1
                    if counts["trace"]:
                        print(f"{name}: the statements of one request")
                    r = call()
                    assert r.status_code == 200, r.text
                n = len(requests) - 5
                out[name] = (counts["waits"] / n, counts["statements"] / n)

            psycopg.Connection.wait, psycopg.Cursor.execute, psycopg.Cursor.executemany = (
                counting_wait, counting(execute), counting(executemany))
            try:
                for name, red in (("push, 5 readings", False), ("push, 5 readings + red-flag symptom", True)):
                    measure(name, [lambda d=devices[k % 3], red=red: http.post(
                        "/v1/sync/push", content=d.changeset(pub, red_flag=red)[0],
                        headers={"Authorization": f"Bearer {d.token}",
                                 "Content-Type": "application/octet-stream"}) for k in range(25)])
                measure("accept", [lambda d=d, a=a, b=b: http.put(
                    f"/api/v1/appointments/{a}", json={"status": "booked", "bid_id": str(b)},
                    headers={"Authorization": f"Bearer {d.token}"}) for d, a, b in plan[:25]])
            finally:
                psycopg.Connection.wait, psycopg.Cursor.execute, psycopg.Cursor.executemany = (
                    wait, execute, executemany)
    finally:
        app.state.db.close()
        db.close()
    return out


def backend_cpu(db: Database, url: str) -> dict[int, float]:
    """CPU seconds so far of each client backend on this run's database (not autovacuum's, not this one's)."""
    import psutil

    name = url.rsplit("/", 1)[1]
    with db.admin() as conn:
        pids = [r["pid"] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND "
                                               "backend_type = 'client backend' AND pid <> pg_backend_pid()",
                                               (name,))]
    out = {}
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            out[pid] = t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return out


def cpu_of(procs) -> float:
    return sum(p.cpu_times().user + p.cpu_times().system for p in procs)


async def cpu_costs(url: str, key: X25519PrivateKey, n_push: int, n_accept: int) -> dict[str, tuple]:
    """CPU ms per request of one served instance and of its Postgres backends, closed loop, 16 in flight."""
    import psutil

    prefix = f"hs-cost-{uuid.uuid4().hex[:8]}:"
    env = {"REDIS_URL": REDIS_URL, "HEALTHSYNC_REDIS_PREFIX": prefix, "HEALTHSYNC_SERVER_KEY": server_key_hex(key),
           "DB_POOL_MAX_SIZE": "16", "HEALTHSYNC_RELAY_TICK_S": "0.1"}
    db = Database(url, max_size=2)
    pub = changeset.raw_public(key)
    out = {}
    try:
        with testing.served(url, Path(tempfile.mkdtemp(prefix="hs-cost-")), **env) as base:
            server = [p for p in psutil.Process().children(recursive=True) if "uvicorn" in " ".join(p.cmdline())]
            devices = [Device(i) for i in range(200)]
            async with client(16) as http:
                for d in devices:
                    code, body = await send(http, "POST", f"{base}/v1/devices",
                                            headers={"Authorization": f"Bearer {d.token}"},
                                            json={"device_id": d.id, "signing_key": raw(d.signer),
                                                  "agreement_key": raw(d.agreement)})
                    assert code == 201, body
                pushes = [(d, d.changeset(pub, red_flag=k % 5 == 0)[0])
                          for k, d in enumerate(devices[k % len(devices)] for k in range(n_push))]

                async def drive(name, calls):
                    queue = list(calls)
                    await asyncio.gather(*(queue.pop()() for _ in range(min(32, len(queue)))))  # warm
                    s0, p0, t0 = cpu_of(server), backend_cpu(db, url), time.perf_counter()
                    n = len(queue)

                    async def worker():
                        while queue:
                            code, body = await queue.pop()()
                            assert code == 200, body

                    await asyncio.gather(*(worker() for _ in range(16)))
                    wall = time.perf_counter() - t0
                    s1, p1 = cpu_of(server), backend_cpu(db, url)
                    pg = sum(t - p0.get(pid, 0.0) for pid, t in p1.items())  # a backend that ended is not counted
                    out[name] = (n, n / wall, 1000 * (s1 - s0) / n, 1000 * pg / n)

                await drive("push", [lambda d=d, blob=blob: send(
                    http, "POST", f"{base}/v1/sync/push", data=blob,
                    headers={"Authorization": f"Bearer {d.token}", "Content-Type": "application/octet-stream"})
                    for d, blob in pushes])

                async def pull(d, full, verify=False):
                    path, headers = pull_request(d, full=full, verify=verify)
                    answer = await send(http, "GET", base + path, headers=headers)
                    note_pulled(d, answer)
                    return answer

                # A device resumes from its cursor (the edge's sync client keeps it: after its first pull, new rows
                # only) and asks for checksums only when it verifies (every few minutes); a repair pulls from 0,
                # here a full page of 200 rows, without checksums.
                await drive("pull", [lambda d=devices[k % len(devices)]: pull(d, False) for k in range(n_push // 3)])
                await drive("verify", [lambda d=devices[k % len(devices)]: pull(d, False, True)
                                       for k in range(n_push // 6)])
                await drive("full pull", [lambda d=devices[k % len(devices)]: pull(d, True)
                                          for k in range(n_push // 6)])
                plan = seed_bids(db, devices, n_accept)  # after the pulls, which would read these requests too
                await drive("accept", [lambda d=d, a=a, b=b: send(
                    http, "PUT", f"{base}/api/v1/appointments/{a}", json={"status": "booked", "bid_id": str(b)},
                    headers={"Authorization": f"Bearer {d.token}"}) for d, a, b in plan])
    finally:
        db.close()
        import redis

        rclient = redis.Redis.from_url(REDIS_URL)
        for k in rclient.scan_iter(match=f"{prefix}*"):
            rclient.delete(k)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pushes", type=int, default=3000)
    ap.add_argument("--accepts", type=int, default=2000)
    ap.add_argument("--skip-cpu", action="store_true", help="round trips only")
    ap.add_argument("--trace", action="store_true", help="print the statements of one request of each kind")
    args = ap.parse_args()
    import sync_server

    print(f"sync_server from {Path(sync_server.__file__).parent}")
    base = testing.base_url()
    key = X25519PrivateKey.generate()
    url = testing.migrated_database(base, prefix="hs_bench_cost")
    try:
        for name, (waits, statements) in round_trips(url, key, args.trace).items():
            print(f"{name:<40} round trips {waits:5.1f}   statements {statements:5.1f}")
        if not args.skip_cpu:
            for name, (n, rate, server_ms, pg_ms) in asyncio.run(cpu_costs(url, key, args.pushes,
                                                                           args.accepts)).items():
                print(f"{name:<9} n={n:<6} {rate:6.0f}/s closed loop   CPU per request: server {server_ms:5.2f} ms, "
                      f"Postgres {pg_ms:5.2f} ms, together {server_ms + pg_ms:5.2f} ms")
    finally:
        testing.drop_database(base, url)


if __name__ == "__main__":
    main()
