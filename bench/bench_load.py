"""Benchmark: simulated devices against two server instances (separate uvicorn processes, one Postgres, one Redis).

Open-model arrivals (Poisson, so slow answers cannot hide load) of pushes and pulls (from each device's cursor; a
device asks for checksums, "verify", as often as the edge's sync client does), WebSocket subscribers receiving
the health alerts their pushes raise, then a booking storm (two competing accepts per request, one of them for a
slot that overlaps another booking of the same doctor). Prints p50/p95/p99 per endpoint, event delivery latency,
error rates, server CPU and memory, lost events (every subscriber's events against the log), lost writes
(every acknowledged change against the database), accepts/s and double bookings, each beside its target.
Every loop is bounded in count and time.

Run: python bench/bench_load.py [--quick]   (DATABASE_URL, else the local Postgres; REDIS_URL, else local Redis)
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: E402

from edge.sync_client import SyncOptions  # noqa: E402
from protocol import changeset  # noqa: E402
from protocol.changeset import Change  # noqa: E402
from protocol.request_auth import sign_request  # noqa: E402
from protocol.schema import new_id  # noqa: E402
from sync_server import testing  # noqa: E402
from sync_server.db import Database  # noqa: E402

TARGETS = {"push_p99_ms": 500, "event_p99_ms": 250, "accepts_per_s": 500}
RED_FLAG = {"urgency": "emergency", "specialty": "cardiology",
            "red_flags": [{"id": "cardiac_chest_pain", "title": "Chest pain that may be cardiac"}]}


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def server_key_hex(key: X25519PrivateKey) -> str:
    """The server's private agreement key as HEALTHSYNC_SERVER_KEY takes it."""
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption()).hex()


def raw(key) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


class Device:
    """A simulated device: a patient, their keys, and the changes it has had acknowledged."""

    def __init__(self, i: int):
        self.user = str(uuid.uuid4())
        self.id = str(uuid.uuid4())
        self.signer = Ed25519PrivateKey.generate()
        self.agreement = X25519PrivateKey.generate()
        self.token = testing.token(self.user, ttl_s=7200)
        self.counter = 0
        self.acked: set[str] = set()  # ids of rows the server acknowledged
        # Where its next pull resumes, as the edge's sync client keeps it (edge/sync_client.py saves each page's
        # cursor): a pull from 0 is a repair, which re-reads everything the device may see.
        self.cursor = 0
        # When it last verified its copy (asked for checksums), on perf_counter's clock: set by the load phase.
        self.verified_at = float("-inf")
        self.alerts: dict[str, float] = {}  # symptom id -> when its push was sent

    def changeset(self, server_pub: bytes, *, red_flag: bool) -> tuple[bytes, list[str], str | None]:
        """A sealed push of 5 readings (and a red-flag symptom when asked): bytes, row ids, symptom id."""
        when = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
        ms = int(time.time() * 1000) - 60_000
        changes, ids, symptom = [], [], None
        for k in range(5):
            doc = {"id": str(new_id()), "user_id": self.user, "supersedes": None, "metric_type": "heart_rate",
                   "unit": "bpm", "value": float(60 + k), "recorded_at": when, "source": "device", "notes": None}
            changes.append(doc)
        rows = [("health_metrics", d) for d in changes]
        if red_flag:
            symptom = str(new_id())
            rows.append(("symptoms", {"id": symptom, "user_id": self.user, "description": "crushing chest pain",
                                      "severity": 9, "recorded_at": when, "triage": RED_FLAG}))
        out = []
        for table, doc in rows:
            self.counter += 1
            hlc = f"{ms:015d}:{self.counter:06d}:{self.id[:8]}"
            out.append(Change(str(new_id()), table, doc["id"], "insert", doc, hlc))
            ids.append(doc["id"])
        _, blob = changeset.seal(out, device_id=self.id, user_id=self.user, signing_key=self.signer,
                                 server_public_key=server_pub)
        return blob, ids, symptom


# Requests in flight at once: the rest wait their turn in a semaphore (cheap). Latency still counts from when a
# request was due. The generator shares the 2 cores with the servers and Postgres, so its client is aiohttp: httpx
# took about three times its CPU per request and, at 300 pushes/s, the whole of a core (py-spy), capping the load.
IN_FLIGHT = asyncio.Semaphore(64)


def pull_request(dev: Device, *, full: bool = False, verify: bool = False, limit: int = 200
                 ) -> tuple[str, dict[str, str]]:
    """The path and headers of a signed pull from the device's cursor (`full`: from 0, like a repair), asking for
    checksums when `verify`."""
    query = f"cursor={0 if full else dev.cursor}&limit={limit}&checksums={str(verify).lower()}".encode()
    signed = sign_request(dev.signer, dev.id, "GET", "/v1/sync/pull", query)
    headers = {"Authorization": f"Bearer {dev.token}", **signed}
    return f"/v1/sync/pull?{query.decode()}", headers


def note_pulled(dev: Device, answer: tuple[int, bytes] | None) -> None:
    """Move the device's cursor to a successful pull's (two pulls in flight may answer out of order)."""
    if answer is not None and answer[0] == 200:
        dev.cursor = max(dev.cursor, int(json.loads(answer[1])["data"]["cursor"]))


async def send(http, method: str, url: str, **kwargs) -> tuple[int, bytes]:
    """One request: its status and body."""
    async with http.request(method, url, **kwargs) as r:
        return r.status, await r.read()


async def timed(stats: dict, name: str, coro_factory, scheduled: float) -> tuple[int, bytes] | None:
    """Run one request; its latency counts from when it was due (open model: queueing included)."""
    try:
        async with IN_FLIGHT:
            r = await coro_factory()
        ok = r[0] < 400
    except Exception:  # a refused connection or timeout is an error of the run, not of the bench
        r, ok = None, False
    stats.setdefault(name, {"lat": [], "errors": 0, "n": 0, "codes": {}})
    stats[name]["n"] += 1
    stats[name]["lat"].append((time.perf_counter() - scheduled) * 1000)
    if not ok:
        stats[name]["errors"] += 1
        code = "no answer" if r is None else r[0]
        stats[name]["codes"][code] = stats[name]["codes"].get(code, 0) + 1
    return r


async def subscriber(base: str, dev: Device, received: dict, max_resumes: int = 20):
    """One socket, reading until cancelled (no polling: a thousand of them share this process's one loop). A socket
    the server closes (a slow consumer, a missed ping while this loop was busy) is resumed from the last seq it
    received, as a real client does; the resumes are counted, and an event counts as lost only if it never came."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    got = received.setdefault(dev.user, [])
    for _ in range(1 + max_resumes):
        since = f"&since={got[-1][0]}" if got else ""
        url = base.replace("http://", "ws://") + f"/v1/ws?access_token={dev.token}{since}"
        try:
            async with connect(url, open_timeout=60, max_queue=None, ping_interval=None) as ws:
                received.setdefault("_connected", set()).add(dev.user)
                async for text in ws:
                    msg = json.loads(text)
                    if msg["topic"] != "control":
                        got.append((msg["seq"], time.perf_counter(), msg["payload"].get("symptom_id")))
                    elif msg["event"] in ("dropped", "error"):  # the server gave up on this socket
                        received.setdefault("_dropped", []).append(msg["payload"])
        except (ConnectionClosed, OSError, TimeoutError):
            pass
        received.setdefault("_resumed", []).append(dev.user)  # closed without our asking: resume
        await asyncio.sleep(0.5)


def server_processes():
    """The uvicorn children this run started (for CPU and memory)."""
    import psutil

    return [p for p in psutil.Process().children(recursive=True) if "uvicorn" in " ".join(p.cmdline())]


def client(limit: int):
    """The generator's HTTP client: keep-alive connections, at most `limit` open, bounded waits."""
    import aiohttp

    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit, limit_per_host=limit),
                                 timeout=aiohttp.ClientTimeout(total=30))


async def load_phase(args, bases, devices, server_pub, stats, received, db):
    rng = random.Random(7)
    subs = devices[:args.subscribers]
    sub_tasks = [asyncio.create_task(subscriber(bases[i % 2], d, received)) for i, d in enumerate(subs)]
    deadline = time.monotonic() + 60
    while len(received.get("_connected", ())) < len(subs) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    print(f"subscribers connected: {len(received.get('_connected', ()))}/{len(subs)}", flush=True)
    # Pre-seal every push before the clock starts (sealing is the device's work, not the server's).
    n_push = int(args.rate * args.seconds)
    sub_users = {d.user for d in subs}
    plan = []
    t = 0.0
    for _ in range(n_push):
        t += rng.expovariate(args.rate)
        dev = rng.choice(devices)
        red = dev.user in sub_users and rng.random() < args.alert_share
        blob, ids, symptom = dev.changeset(server_pub, red_flag=red)
        plan.append((t, "push", dev, blob, ids, symptom))
    t = 0.0
    for _ in range(int(args.rate / 3 * args.seconds)):
        t += rng.expovariate(args.rate / 3)
        plan.append((t, "pull", rng.choice(devices), None, None, None))
    plan.sort(key=lambda p: p[0])
    # Devices that have been syncing for a while (steady state): each last verified at a random moment of the last
    # interval, so about seconds/interval of them verify during the run, as the edge's sync client does
    # (SyncOptions.verify_every_s). --verify-every 0: every pull verifies, as every pull did before.
    verify_every = args.verify_every
    print(f"{len(plan)} requests sealed and scheduled; load starts", flush=True)
    procs = server_processes()
    cpu0 = sum(p.cpu_times().user + p.cpu_times().system for p in procs)
    rss_max = 0
    async with client(64) as http:
        start = time.perf_counter()
        for dev in devices:
            dev.verified_at = start - rng.uniform(0, verify_every)
        tasks = []
        for k, (at, kind, dev, blob, ids, symptom) in enumerate(plan):
            delay = start + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            base = bases[k % 2]
            scheduled = start + at
            if kind == "push":
                async def push(dev=dev, blob=blob, ids=ids, symptom=symptom, base=base, scheduled=scheduled):
                    if symptom:
                        dev.alerts[symptom] = time.perf_counter()
                    r = await timed(stats, "POST /v1/sync/push", lambda: send(
                        http, "POST", f"{base}/v1/sync/push", data=blob,
                        headers={"Authorization": f"Bearer {dev.token}", "Content-Type": "application/octet-stream"}),
                        scheduled)
                    if r is not None and r[0] == 200:
                        receipts = json.loads(r[1])["data"]["receipts"]
                        for row_id, rec in zip(ids, receipts, strict=True):
                            if rec["status"] in ("accepted", "duplicate"):
                                dev.acked.add(row_id)
                tasks.append(asyncio.create_task(push()))
            else:
                async def pull(dev=dev, base=base, scheduled=scheduled):
                    verify = scheduled - dev.verified_at >= verify_every
                    if verify:
                        dev.verified_at = scheduled
                    path, headers = pull_request(dev, full=args.full_pulls, verify=verify)
                    name = "GET /v1/sync/pull (verify)" if verify else "GET /v1/sync/pull"
                    note_pulled(dev, await timed(stats, name, lambda: send(
                        http, "GET", base + path, headers=headers), scheduled))
                tasks.append(asyncio.create_task(pull()))
            if k % 200 == 0:
                rss_max = max(rss_max, sum(p.memory_info().rss for p in procs))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
        wall = time.perf_counter() - start
    cpu1 = sum(p.cpu_times().user + p.cpu_times().system for p in procs)
    rss_max = max(rss_max, sum(p.memory_info().rss for p in procs))
    # Let the last events arrive: until every subscriber holds every event of the log addressed to it, or 30 s
    # (a fixed pause counted events still queued behind a backlog as lost).
    with db.admin() as conn:
        cut = conn.execute("SELECT coalesce(max(seq), 0) AS s FROM event_log").fetchone()["s"]
        owed = {d.user: {r["seq"] for r in conn.execute(
            "SELECT seq FROM event_log WHERE audience @> ARRAY[%s::uuid] AND seq <= %s", (d.user, cut))}
            for d in subs}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(
            not owed[u] <= {seq for seq, _, _ in received.get(u, [])} for u in owed):
        await asyncio.sleep(0.2)
    for task in sub_tasks:
        task.cancel()
    await asyncio.gather(*sub_tasks, return_exceptions=True)
    return wall, (cpu1 - cpu0) / wall, rss_max


async def booking_phase(args, bases, db: Database, devices):
    """Each request gets two bids; both are accepted at once: exactly one may win, and bid B of request i overlaps
    bid A of request i+1 of the same doctor, so a slot conflict races too."""
    n = args.accepts // 2
    doctors = [uuid.uuid4() for _ in range(max(1, n // 20))]
    base_t = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=2)
    with db.admin() as conn:
        clinic = conn.execute("INSERT INTO clinics (name) VALUES ('bench') RETURNING id").fetchone()["id"]
        doc_ids = []
        for u in doctors:
            doc_ids.append(conn.execute("INSERT INTO doctors (id, user_id, full_name, specialty, clinic_id, hlc) "
                                        "VALUES (gen_random_uuid(), %s, 'Dr Bench', 'bench', %s, 'b') RETURNING id",
                                        (u, clinic)).fetchone()["id"])
        plan = []
        for i in range(n):
            dev = devices[i % len(devices)]
            appt = new_id()
            d = doc_ids[i % len(doc_ids)]
            k = i // len(doc_ids)
            conn.execute("INSERT INTO appointments (id, patient_id, status, specialty, hlc) VALUES "
                         "(%s, %s, 'requested', 'bench', 'b')", (appt, dev.user))
            a_start = base_t + dt.timedelta(hours=k)
            b_start = base_t + dt.timedelta(hours=k + 1, minutes=-15)  # overlaps this doctor's next slot
            bids = [conn.execute("INSERT INTO appointment_bids (appointment_id, doctor_id, price, slot_start, "
                                 "slot_end) VALUES (%s, %s, 10, %s, %s) RETURNING id",
                                 (appt, d, s, s + dt.timedelta(minutes=30))).fetchone()["id"]
                    for s in (a_start, b_start)]
            plan.append((dev, appt, bids))
    lat: list[float] = []
    codes: dict[int, int] = {}
    sem = asyncio.Semaphore(64)
    async with client(128) as http:
        async def accept(k, dev, appt, bid):
            async with sem:
                t0 = time.perf_counter()
                try:
                    code, _ = await send(http, "PUT", f"{bases[k % 2]}/api/v1/appointments/{appt}",
                                         json={"status": "booked", "bid_id": str(bid)},
                                         headers={"Authorization": f"Bearer {dev.token}"})
                except Exception:
                    code = 0
                lat.append((time.perf_counter() - t0) * 1000)
                codes[code] = codes.get(code, 0) + 1

        start = time.perf_counter()
        accepts = [accept(k, dev, appt, b) for k, (dev, appt, bids) in enumerate(plan) for b in bids]
        await asyncio.wait_for(asyncio.gather(*accepts), timeout=300)
        wall = time.perf_counter() - start
    with db.admin() as conn:
        double = conn.execute(
            "SELECT count(*) AS n FROM appointments a JOIN appointments b ON a.doctor_id = b.doctor_id "
            "AND a.id < b.id AND tstzrange(a.scheduled_at, a.ends_at) && tstzrange(b.scheduled_at, b.ends_at) "
            "WHERE a.status = 'booked' AND b.status = 'booked'").fetchone()["n"]
        booked = conn.execute("SELECT count(*) AS n FROM appointments WHERE specialty = 'bench' AND status = 'booked'"
                              ).fetchone()["n"]
        accepted_bids = conn.execute("SELECT count(*) AS n FROM appointment_bids WHERE status = 'accepted'"
                                     ).fetchone()["n"]
    return {"accepts": 2 * n, "wall": wall, "per_s": 2 * n / wall, "codes": codes, "p50": pct(lat, 50),
            "p99": pct(lat, 99), "double": double, "booked": booked, "accepted_bids": accepted_bids}


async def run(args) -> int:
    import redis

    base = testing.base_url()
    url = testing.migrated_database(base, prefix="hs_bench_load")
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        print("no Redis: the two instances cannot share events; start Redis or set REDIS_URL")
        return 1
    prefix = f"hs-bench-{uuid.uuid4().hex[:8]}:"
    server_key = X25519PrivateKey.generate()
    env = {"REDIS_URL": redis_url, "HEALTHSYNC_REDIS_PREFIX": prefix,
           "HEALTHSYNC_SERVER_KEY": server_key_hex(server_key),
           "DB_POOL_MAX_SIZE": "16", "HEALTHSYNC_RELAY_TICK_S": "0.1", "HEALTHSYNC_WS_QUEUE": "10000"}
    db = Database(url, max_size=4)
    tmp = Path(tempfile.mkdtemp(prefix="hs-bench-load-"))
    stats: dict = {}
    received: dict = {}
    try:
        with testing.served(url, tmp / "a", **env) as one, testing.served(url, tmp / "b", **env) as two:
            bases = [one, two]
            server_pub = changeset.raw_public(server_key)
            devices = [Device(i) for i in range(args.devices)]
            async with client(32) as http:
                sem = asyncio.Semaphore(32)

                async def enroll(i, d):
                    async with sem:
                        code, body = await send(http, "POST", f"{bases[i % 2]}/v1/devices",
                                                headers={"Authorization": f"Bearer {d.token}"},
                                                json={"device_id": d.id, "signing_key": raw(d.signer),
                                                      "agreement_key": raw(d.agreement)})
                        assert code == 201, body

                await asyncio.gather(*(enroll(i, d) for i, d in enumerate(devices)))
            print(f"enrolled {len(devices)} devices on 2 instances")
            wall, cpu, rss = await load_phase(args, bases, devices, server_pub, stats, received, db)
            with db.admin() as conn:  # the load phase's events end here (the booking phase raises more)
                cut = conn.execute("SELECT coalesce(max(seq), 0) AS s FROM event_log").fetchone()["s"]
            print(f"load done in {wall:.1f} s; booking phase", flush=True)
            booking = await booking_phase(args, bases, db, devices)
        # ---- checks against the database
        with db.admin() as conn:
            users = [d.user for d in devices]
            stored = {r["id"] for r in conn.execute(
                "SELECT id::text AS id FROM health_metrics WHERE user_id = ANY(%s::uuid[]) UNION ALL "
                "SELECT id::text FROM symptoms WHERE user_id = ANY(%s::uuid[])", (users, users))}
            acked = set().union(*(d.acked for d in devices))
            lost_writes = len(acked - stored)
            expected: dict[str, list[int]] = {}
            for d in devices[:args.subscribers]:
                expected[d.user] = [r["seq"] for r in conn.execute(
                    "SELECT seq FROM event_log WHERE audience @> ARRAY[%s::uuid] AND seq <= %s ORDER BY seq",
                    (d.user, cut))]
        lost_events = dup_events = disordered = 0
        delivery: list[float] = []
        for d in devices[:args.subscribers]:
            got = received.get(d.user, [])
            seqs = [s for s, _, _ in got if s <= cut]
            disordered += sum(1 for a, b in zip(seqs, seqs[1:], strict=False) if b <= a)
            dup_events += len(seqs) - len(set(seqs))
            lost_events += len(set(expected[d.user]) - set(seqs))
            for _, at, symptom in got:
                if symptom in d.alerts:
                    delivery.append((at - d.alerts[symptom]) * 1000)
        n_events = sum(len(v) for v in expected.values())
    finally:
        db.close()
        testing.drop_database(base, url)
        rclient = redis.Redis.from_url(redis_url)
        for key in rclient.scan_iter(match=f"{prefix}*"):
            rclient.delete(key)
    # ---- report
    print(f"\nload: {args.devices} devices, {args.rate:.0f} pushes/s offered for {args.seconds:.0f} s "
          f"({wall:.1f} s wall), {args.subscribers} subscribers")
    print(f"{'endpoint':<28}{'n':>7}{'err %':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for name, s in stats.items():
        print(f"{name:<28}{s['n']:>7}{100 * s['errors'] / max(1, s['n']):>8.2f}{pct(s['lat'], 50):>9.1f}"
              f"{pct(s['lat'], 95):>9.1f}{pct(s['lat'], 99):>9.1f}  {s['codes'] or ''}")
    push = stats.get("POST /v1/sync/push", {"lat": []})
    print(f"achieved push rate: {len(push['lat']) / wall:.0f}/s")
    print(f"event delivery (push sent → alert on the socket), {len(delivery)} events: "
          f"p50 {pct(delivery, 50):.1f} ms, p95 {pct(delivery, 95):.1f} ms, p99 {pct(delivery, 99):.1f} ms")
    print(f"events in the log for subscribers: {n_events}; lost {lost_events}, duplicated {dup_events}, "
          f"out of order {disordered}; sockets dropped by the server {len(received.get('_dropped', []))}, "
          f"closed and resumed {len(received.get('_resumed', []))}")
    print(f"writes acknowledged: {len(acked)}; lost {lost_writes}")
    print(f"servers (2 processes): CPU {100 * cpu:.0f} % of one core, peak RSS {rss / 2**20:.0f} MiB")
    print(f"booking: {booking['accepts']} accepts in {booking['wall']:.2f} s = {booking['per_s']:.0f}/s "
          f"(p50 {booking['p50']:.1f} ms, p99 {booking['p99']:.1f} ms), answers {booking['codes']}; "
          f"booked {booking['booked']}, double bookings {booking['double']}")
    p99 = pct(push["lat"], 99)
    ev99 = pct(delivery, 99)
    print(f"\nratios to target: push p99 {p99 / TARGETS['push_p99_ms']:.2f}x of {TARGETS['push_p99_ms']} ms; "
          f"event p99 {ev99 / TARGETS['event_p99_ms']:.2f}x of {TARGETS['event_p99_ms']} ms; "
          f"accepts {booking['per_s'] / TARGETS['accepts_per_s']:.2f}x of {TARGETS['accepts_per_s']}/s")
    ok = lost_events == 0 and lost_writes == 0 and dup_events == 0 and booking["double"] == 0
    return 0 if ok else 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small bounded smoke run")
    ap.add_argument("--devices", type=int)
    ap.add_argument("--subscribers", type=int)
    ap.add_argument("--rate", type=float, help="pushes per second offered (pulls: a third of it)")
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--accepts", type=int)
    ap.add_argument("--full-pulls", action="store_true",
                    help="every pull from cursor 0 (a repair: up to 200 rows each) instead of the device's cursor")
    ap.add_argument("--verify-every", type=float, default=SyncOptions.verify_every_s,
                    help="seconds between a device's verifying pulls (with checksums); 0: every pull verifies")
    ap.add_argument("--alert-share", type=float, default=0.2, help="share of subscribers' pushes with a red flag")
    args = ap.parse_args()
    full = {"devices": 1000, "subscribers": 1000, "rate": 300.0, "seconds": 20.0, "accepts": 2000}
    quick = {"devices": 100, "subscribers": 100, "rate": 60.0, "seconds": 4.0, "accepts": 200}
    for k, v in (quick if args.quick else full).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
