"""The sync soak: many randomized schedules of offline writes, faulty syncs, restarts, skewed clocks and killed edge
processes against the real server on Postgres; then a healing round, and three counts that must all be 0:
acknowledged writes lost, writes applied twice, devices left stuck.

A write is acknowledged when the store returned from it (it is committed locally). Most schedules talk to the app
in-process through a transport that injects faults (the request never arrives; the server commits and the answer is
lost; the request is delivered twice); every `process_every`-th schedule also runs its syncs through a loopback TCP
proxy that cuts connections after the server answered, and SIGKILLs an edge `sync run` process mid-push.
"""
from __future__ import annotations

import datetime as dt
import os
import random
import secrets
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from edge import outbox
from edge.device_keys import pin_server, server_pin
from edge.keys import KeySource
from edge.store import Store
from edge.sync_client import SyncClient, SyncOptions
from protocol.errors import HealthSyncError
from protocol.schema import TABLES
from sync_server import testing

from .server_view import server_rows

WRITE_OPS = ["symptom", "symptom", "symptom", "delete", "name", "phone", "member_add", "member_del"]
SYNC_OPS = ["run", "push", "pull", "restart", "skew"]


@dataclass
class SoakReport:
    """What the soak did and the three counts that must be 0."""

    schedules: int = 0
    devices: int = 0
    writes: int = 0
    faults: int = 0
    kills: int = 0
    cuts: int = 0
    lost: int = 0
    duplicated: int = 0
    stuck: int = 0
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"soak: {self.schedules} schedules, {self.devices} devices, {self.writes} acknowledged writes, "
                f"{self.faults} injected faults, {self.cuts} cut connections, {self.kills} killed edge processes | "
                f"lost {self.lost}, duplicated {self.duplicated}, stuck {self.stuck}")


class FaultyHttp:
    """The app's HTTP client with faults: some requests never arrive, some are applied and the answer is lost,
    some are delivered twice. It raises what httpx raises on a real network, which is what the sync client sees."""

    def __init__(self, inner, rng: random.Random, rate: float, report: SoakReport):
        self.inner, self.rng, self.rate, self.report = inner, rng, rate, report
        self.enabled = True

    def request(self, method: str, url: str, **kw):
        roll = self.rng.random() if self.enabled else 1.0
        if roll < self.rate / 3:
            self.report.faults += 1
            raise httpx.ConnectError("soak: request dropped before the server")
        if roll < 2 * self.rate / 3:
            self.report.faults += 1
            self.inner.request(method, url, **kw)
            raise httpx.ReadError("soak: connection cut after the server answered")
        if roll < self.rate:
            self.report.faults += 1
            self.inner.request(method, url, **kw)  # a duplicated delivery
        return self.inner.request(method, url, **kw)

    def build_request(self, method: str, url: str, **kw):
        return self.inner.build_request(method, url, **kw)

    def close(self) -> None:
        pass


class Device:
    """One edge device of the schedule: its store on disk, and a sync client over the faulty transport."""

    def __init__(self, path: Path, user: uuid.UUID, http: FaultyHttp, rng: random.Random):
        self.path, self.user, self.http, self.rng = path, user, http, rng
        self.key = secrets.token_bytes(32)
        self.skew_ms = 0
        self.store = Store.open(path, KeySource(raw_key=self.key), create=True)
        self.store.set_meta("user_id", str(user))
        self.client = self._client()
        self.client.enroll("http://testserver")

    def _client(self) -> SyncClient:
        self._apply_skew()
        options = SyncOptions(batch_size=self.rng.choice([1, 3, 20, 500]), page_size=self.rng.choice([2, 50, 2000]),
                              attempts=3, backoff_s=0.001, backoff_max_s=0.005)
        return SyncClient(self.store, testing.token(self.user), http=self.http, options=options)

    def _apply_skew(self) -> None:
        """Move this device's wall clock (an HLC must stay monotonic whatever the wall clock does)."""
        skew = self.skew_ms
        self.store.wall_ms = lambda: int(time.time() * 1000) + skew  # the store's wall-clock hook

    def restart(self) -> None:
        """Close and reopen the store, as a kiosk that lost power between writes."""
        self.store.close()
        self.store = Store.open(self.path, KeySource(raw_key=self.key))
        self.client = self._client()

    def sync(self, what: str) -> None:
        try:
            getattr(self.client, what)()
        except HealthSyncError:
            pass  # offline or refused this time: everything stays queued, the healing round must finish it


@dataclass
class Truth:
    """What was acknowledged in one schedule, to compare with the server at the end."""

    symptoms: set[str] = field(default_factory=set)
    members_added: set[str] = field(default_factory=set)
    members_removed: set[str] = field(default_factory=set)
    named: bool = False


def _write(op: str, dev: Device, arg: int, truth: Truth, graph_id: str) -> bool:
    store, user = dev.store, dev.user
    if op == "symptom":
        s = store.symptoms.add({"user_id": user, "description": f"soak {arg}", "severity": arg % 11,
                                "recorded_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)})
        truth.symptoms.add(str(s.id))
    elif op == "delete":
        live = store.symptoms.list(limit=20)
        if not live:
            return False
        store.symptoms.delete(live[arg % len(live)].id)
    elif op == "name":
        store.users.update(user, full_name=f"name {arg}")
        truth.named = True
    elif op == "phone":
        store.users.update(user, phone=f"555-{arg:04d}")
    elif op == "member_add":
        member_id = f"m{uuid.uuid4().hex[:8]}"
        store.family_graph.update(graph_id, members={member_id: {"relation": "aunt", "birth_year": 1950 + arg % 50}})
        truth.members_added.add(member_id)
    elif op == "member_del":
        present = sorted(truth.members_added - truth.members_removed)
        if not present:
            return False
        member_id = present[arg % len(present)]
        store.family_graph.update(graph_id, members={member_id: None})
        truth.members_removed.add(member_id)
    return True


def _device_rows(store: Store) -> dict[tuple[str, str], tuple[dict, bool]]:
    out = {}
    for t in TABLES:
        for i, payload, deleted in store.query(f"SELECT id, payload, deleted FROM {t}"):
            out[(t, i)] = (store.unseal(payload, f"{t}|{i}"), bool(deleted))
    return out


def _applied_counts(db, user: uuid.UUID) -> dict[str, int]:
    """How many times the server applied each symptom insert (its audit rows)."""
    with db.session("service_role", {"role": "service_role"}) as conn:
        rows = conn.execute("SELECT row_id::text AS id, count(*) AS n FROM audit_log WHERE subject_id=%s "
                            "AND action='sync_insert' AND table_name='symptoms' GROUP BY row_id", (user,))
        return {r["id"]: r["n"] for r in rows}


def _kill_mid_push(dev: Device, live_url: str, rng: random.Random, report: SoakReport) -> None:
    """Run `healthsync edge sync run` as a real process against the live server and SIGKILL it at a random
    moment; the store must be left consistent for the next sync."""
    pin = server_pin(dev.store)
    pin_server(dev.store, live_url, pin.public_key, pin.user_id)  # the same server, reached over TCP
    dev.store.close()
    env = {**os.environ, "HEALTHSYNC_KEY": dev.key.hex(), "HEALTHSYNC_TOKEN": testing.token(dev.user)}
    cmd = [sys.executable, "-c", "from edge.sync_cli import app; app()", "run", "--store", str(dev.path),
           "--batch-size", "1", "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0.3, 1.5))  # the interpreter starts in ~0.5 s: kills land before, during and after
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        report.kills += 1
    proc.wait(30)
    dev.store = Store.open(dev.path, KeySource(raw_key=dev.key))
    pin_server(dev.store, "http://testserver", pin.public_key, pin.user_id)
    dev.client = dev._client()


def run_schedule(seed: int, tmp: Path, app_http, db, report: SoakReport, live_url: str | None = None,
                 proxy_factory=None) -> None:
    """One randomized schedule; adds its counts to `report`."""
    rng = random.Random(seed)
    user = uuid.uuid4()
    transport = http = FaultyHttp(app_http, rng, rate=rng.choice([0.05, 0.15, 0.3]), report=report)
    transport.enabled = False
    devs = [Device(tmp / f"s{seed}-d{i}.db", user, http, rng) for i in range(rng.randint(2, 5))]
    report.devices += len(devs)
    truth = Truth()
    try:
        devs[0].store.users.add({"id": user, "full_name": "start", "date_of_birth": dt.date(1970, 1, 1)})
        truth.named = True
        graph = devs[0].store.family_graph.add({"user_id": user, "members": {}})
        for d in devs[1:]:
            if rng.random() < 0.5:
                # `healthsync edge init --user-id U` on a second device, offline: the user row with no profile.
                d.store.users.add({"id": user})
        devs[0].client.run()
        for d in devs[1:]:
            d.client.pull()
        transport.enabled = True
        for _ in range(rng.randint(5, 40)):
            dev, arg = rng.choice(devs), rng.randint(0, 999)
            op = rng.choice(WRITE_OPS + SYNC_OPS)
            if op in WRITE_OPS:
                report.writes += _write(op, dev, arg, truth, str(graph.id))
            elif op == "restart":
                dev.restart()
            elif op == "skew":
                dev.skew_ms = rng.choice([-7_200_000, -90_000, -5_000, 0, 3_000, 60_000, 82_800_000])
                dev._apply_skew()
            else:
                dev.sync(op)
        if live_url is not None:
            victim = rng.choice(devs)
            for i in range(rng.randint(3, 12)):
                report.writes += _write("symptom", victim, i, truth, str(graph.id))
            _kill_mid_push(victim, live_url, rng, report)
            if proxy_factory is not None:
                proxy = proxy_factory(live_url, {1, 2})
                try:
                    with SyncClient(victim.store, testing.token(user), server_url=proxy.url,
                                    options=SyncOptions(batch_size=2, attempts=6, backoff_s=0.01,
                                                        backoff_max_s=0.05)) as client:
                        try:
                            client.run()
                        except HealthSyncError:
                            pass
                    report.cuts += proxy.cuts_done
                finally:
                    proxy.close()
        _heal_and_check(seed, devs, transport, app_http, db, user, truth, report)
    finally:
        for d in devs:
            d.store.close()
    report.schedules += 1


def _heal_and_check(seed, devs, transport, app_http, db, user, truth, report) -> None:
    """Faults off, clocks honest, every device syncs until quiet; then compare everything with the truth."""
    transport.enabled = False
    for d in devs:
        d.skew_ms = 0
        d._apply_skew()
    for _ in range(3):
        for d in devs:
            d.sync("run")
    for i, d in enumerate(devs):
        if outbox.pending_count(d.store) or outbox.quarantined(d.store):
            report.stuck += 1
            reasons = sorted({f"{q.table} {q.op} [{q.code}] {q.reason}" for q in outbox.quarantined(d.store)})
            report.failures.append(f"seed {seed}: device {i} left with {outbox.pending_count(d.store)} pending, "
                                   f"{len(outbox.quarantined(d.store))} quarantined: {reasons}")
    server = server_rows(app_http, devs[0].store)
    symptoms_on_server = {pk for (t, pk) in server if t == "symptoms"}
    lost = truth.symptoms - symptoms_on_server
    graph = next((doc for (t, _), (doc, _) in server.items() if t == "family_graph"), {"members": {}})
    members = {m for m, v in (graph.get("members") or {}).items() if v is not None}
    lost_members = (truth.members_added - truth.members_removed) - members
    profile = next((doc for (t, _), (doc, _) in server.items() if t == "users"), {})
    lost_profile = int(truth.named and not profile.get("full_name")) + int(profile.get("date_of_birth") is None)
    for name, n in (("symptoms", len(lost)), ("family members", len(lost_members)), ("profile fields", lost_profile)):
        if n:
            report.lost += n
            report.failures.append(f"seed {seed}: {n} acknowledged {name} missing on the server")
    twice = {k: n for k, n in _applied_counts(db, user).items() if n > 1}
    if twice:
        report.duplicated += len(twice)
        report.failures.append(f"seed {seed}: applied more than once: {sorted(twice)[:3]}")
    for i, d in enumerate(devs):
        if _device_rows(d.store) != server:
            report.stuck += 1
            report.failures.append(f"seed {seed}: device {i} did not converge with the server")
