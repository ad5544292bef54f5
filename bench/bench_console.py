"""Benchmark: the console's pages with 10,000 patients and 1,000 devices in the clinic (issue 13). Targets on 2 cores:
time to first byte <= 300 ms and time to interactive <= 1 s.

One uvicorn server process (the real app, embedded auth) on a fresh migrated database. For each page: TTFB over HTTP
with the signed-in session cookie (median and p95 of N fresh requests), side by side with the reference, the same
server answering a static file (the floor of any request through the stack), and the ratio. Then time to
interactive in the Debian chromium (Playwright): navigation start to the load event, or to the charts/graph drawn
when the page has them. Run: python bench/bench_console.py [--patients N] [--devices N] [--runs N] [--quick]
(DATABASE_URL, else local Postgres, else embedded)."""
from __future__ import annotations

import argparse
import datetime as dt
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync_server import auth_users, tenancy, testing  # noqa: E402
from sync_server.db import Database  # noqa: E402

PASSWORD = "plover-ankle-quartz-meadow"
TTFB_TARGET_MS, TTI_TARGET_MS = 300, 1000


def seed(db: Database, patients: int, devices: int) -> dict:
    """One clinic with `patients` registered patients (profiles, 10 readings each), `devices` kiosks with reports,
    pushes and pulls; a doctor, a nurse and an admin who sign in with a password."""
    now = dt.datetime.now(dt.UTC)
    with db.admin() as conn:
        clinic = uuid.UUID(tenancy.create_clinic(conn, "Bench clinic")["id"])
        people = {}
        for role in ("doctor", "nurse", "admin"):
            email = f"{role}-{secrets.token_hex(4)}@bench.example"
            user = auth_users.create_user(conn, email, PASSWORD, full_name=f"Bench {role}")
            tenancy.add_staff(conn, clinic, user.id, role)
            people[role] = email
        ids = [uuid.uuid4() for _ in range(patients)]
        with conn.cursor() as cur:
            with cur.copy("COPY registrations (id, clinic_id, user_id, mrn, hlc) FROM STDIN") as cp:
                for i, p in enumerate(ids):
                    cp.write_row((tenancy.registration_id(clinic, p), clinic, p, f"B{i:06d}", "bench"))
            with cur.copy("COPY users (id, full_name, date_of_birth, hlc, clinic_id) FROM STDIN") as cp:
                for i, p in enumerate(ids):
                    cp.write_row((p, f"Patient {i:05d}", dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28), "bench",
                                  clinic))
            with cur.copy("COPY health_metrics (id, user_id, clinic_id, metric_type, unit, value, recorded_at, hlc) "
                          "FROM STDIN") as cp:
                for p in ids:
                    for k in range(10):
                        cp.write_row((uuid.uuid4(), p, clinic, "heart_rate", "bpm", 60 + k,
                                      now - dt.timedelta(days=k, minutes=p.int % 600), "bench"))
            with cur.copy("COPY check_ins (id, user_id, clinic_id, checked_in_at, recorded_by, hlc) FROM STDIN") as cp:
                for p in ids[:40]:
                    cp.write_row((uuid.uuid4(), p, clinic, now - dt.timedelta(minutes=p.int % 50), p, "bench"))
            kiosks = [uuid.uuid4() for _ in range(devices)]
            owner = uuid.uuid4()
            with cur.copy("COPY sync_devices (id, user_id, signing_key, agreement_key, name, kind, clinic_id, "
                          "enrolled_at) FROM STDIN") as cp:
                for i, d in enumerate(kiosks):
                    cp.write_row((d, owner, secrets.token_bytes(32), secrets.token_bytes(32), f"Kiosk {i:04d}",
                                  "clinic", clinic, now - dt.timedelta(days=30)))
            with cur.copy("COPY device_reports (owner_id, device_id, user_id, clinic_id, reported_at, app_version, "
                          "schema_version, pending, quarantined) FROM STDIN") as cp:
                for i, d in enumerate(kiosks):
                    cp.write_row((owner, d, owner, clinic, now - dt.timedelta(minutes=(i * 7) % 240), "0.1.0", 2,
                                  i % 5, i % 3))
            with cur.copy("COPY sync_applied (change_id, changeset_id, user_id, device_id, tbl, row_id, applied_at) "
                          "FROM STDIN") as cp:
                for i, d in enumerate(kiosks):
                    for k in range(10):
                        cp.write_row((uuid.uuid4(), uuid.uuid4(), owner, d, "health_metrics", uuid.uuid4(),
                                      now - dt.timedelta(minutes=(i * 7) % 240 + k)))
            with cur.copy("COPY audit_log (actor, role, action, table_name, subject_id, device_id, at) "
                          "FROM STDIN") as cp:
                for i, d in enumerate(kiosks):
                    for k in range(5):
                        cp.write_row((owner, "nurse", "sync_pull", "health_metrics", ids[(i * 5 + k) % patients], d,
                                      now - dt.timedelta(minutes=(i * 7) % 240 + k)))
            cur.execute("ANALYZE")
    return {"clinic": clinic, "people": people, "patient": ids[0]}


def sign_in(base: str, email: str):
    import httpx

    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/console/login").text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = client.post("/console/login", data={"email": email, "password": PASSWORD, "csrf": csrf})
    assert r.status_code in (200, 303), r.status_code
    return client


def ttfb_ms(client, path: str, runs: int) -> list[float]:
    """Time to the response's first byte (headers received) for `runs` sequential requests, in ms."""
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        with client.stream("GET", path) as r:
            out.append((time.perf_counter() - start) * 1000)
            assert r.status_code == 200, (path, r.status_code)
            r.read()
    return out


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.95) - 1)]


def tti_ms(base: str, email: str, pages: list[tuple[str, str, str | None]], runs: int) -> dict[str, list[float]]:
    """Navigation start to interactive in chromium: the load event, or the page's charts drawn when it has any."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("time to interactive: skipped (no chromium on PATH)")
        return {}
    out: dict[str, list[float]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        ctx = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
        page = ctx.new_page()
        page.goto("/console/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("load")
        for name, path, ready in pages:
            for _ in range(runs):
                page.goto(path, wait_until="load")
                if ready:
                    page.wait_for_selector(ready, state="attached")
                done = page.evaluate("performance.now()") if ready else page.evaluate(
                    "performance.getEntriesByType('navigation')[0].loadEventEnd")
                out.setdefault(name, []).append(done)
        browser.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=10_000)
    ap.add_argument("--devices", type=int, default=1_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--quick", action="store_true", help="1,000 patients, 100 devices, 5 runs")
    args = ap.parse_args()
    if args.quick:
        args.patients, args.devices, args.runs = 1_000, 100, 5
    base_pg = testing.base_url()
    url = testing.migrated_database(base_pg, prefix="hs_bench_console")
    db = Database(url, max_size=2)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-console-"))
    try:
        t0 = time.perf_counter()
        world = seed(db, args.patients, args.devices)
        print(f"seeded {args.patients:,} patients, {args.devices:,} devices in {time.perf_counter() - t0:.1f} s")
        with testing.served(url, data_dir, HEALTHSYNC_AUTH_SIGNIN_PER_IP="100000",
                            HEALTHSYNC_AUTH_SIGNIN_PER_EMAIL="100000") as base:
            people = world["people"]
            pages = {"doctor": [("my patients (doctor)", "/console/patients", None),
                                ("patient chart (doctor)", f"/console/patients/{world['patient']}",
                                 "#metric-charts canvas"),
                                ("appointments (doctor)", "/console/appointments", None)],
                     "nurse": [("today's queue (nurse)", "/console/queue", None)],
                     "admin": [("devices (admin)", "/console/devices", None),
                               ("audit log (admin)", "/console/audit", None),
                               ("analytics (admin)", "/console/analytics", "#volume-chart canvas"),
                               ("patients (admin)", "/console/patients", None)]}
            print(f"\nTTFB, {args.runs} requests each (ms)            median     p95   vs static  "
                  f"target {TTFB_TARGET_MS}")
            worst = 0.0
            for role, items in pages.items():
                client = sign_in(base, people[role])
                ref = ttfb_ms(client, "/console/static/console.css", args.runs)
                for name, path, _ in items:
                    xs = ttfb_ms(client, path, args.runs)
                    worst = max(worst, p95(xs))
                    print(f"  {name:38s} {statistics.median(xs):7.1f} {p95(xs):7.1f}   "
                          f"{statistics.median(xs) / statistics.median(ref):6.1f}x")
                print(f"  {'reference: static file (' + role + ')':38s} {statistics.median(ref):7.1f} {p95(ref):7.1f}")
                client.close()
            print(f"worst TTFB p95: {worst:.1f} ms ({'met' if worst <= TTFB_TARGET_MS else 'NOT met'})")
            print(f"\ntime to interactive in chromium, {min(args.runs, 10)} loads each (ms)   median   max   "
                  f"target {TTI_TARGET_MS}")
            worst = 0.0
            for role, items in pages.items():
                for name, xs in tti_ms(base, people[role], items, min(args.runs, 10)).items():
                    worst = max(worst, max(xs))
                    print(f"  {name:38s} {statistics.median(xs):7.1f} {max(xs):7.1f}")
            print(f"worst time to interactive: {worst:.1f} ms ({'met' if worst <= TTI_TARGET_MS else 'NOT met'})")
    finally:
        db.close()
        testing.drop_database(base_pg, url)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
