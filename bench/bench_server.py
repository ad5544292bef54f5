"""Benchmark: what RLS and the API layer cost. Lists one patient's newest 50 heart-rate readings (plus the total)
three ways on the same Postgres and data: plain SQL as the login role without RLS (the reference), the same SQL
under role `authenticated` with JWT claims (RLS on), and the full HTTP stack in-process (JWT, rate limit, RLS,
audit row, envelope). Also the doctor's view (RLS via the appointment lookup).
Run: python bench/bench_server.py [--quick]   (uses DATABASE_URL, else local Postgres, else embedded)."""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync_server import testing  # noqa: E402
from sync_server.app import create_app  # noqa: E402
from sync_server.db import Database  # noqa: E402

SQL = ("SELECT id, user_id, metric_type, unit, value, recorded_at FROM health_metrics "
       "WHERE user_id = %s AND metric_type = 'heart_rate' AND NOT deleted ORDER BY recorded_at DESC LIMIT 50")
COUNT = "SELECT count(*) AS n FROM health_metrics WHERE user_id = %s AND metric_type = 'heart_rate' AND NOT deleted"


def per_call(fn, repeats: int, block: int = 10) -> float:
    """Median seconds per call over `repeats` timed blocks (after a warm-up block)."""
    for _ in range(block):
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(block):
            fn()
        samples.append((time.perf_counter() - t0) / block)
    return statistics.median(samples)


def seed(db: Database, patients: list[uuid.UUID], per_patient: int, doctor_user: uuid.UUID) -> None:
    """Rows for every patient, and a doctor with an appointment with the first ten patients."""
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    with db.session("service_role", {"role": "service_role"}) as conn, conn.cursor() as cur:
        with cur.copy("COPY health_metrics (id, user_id, metric_type, unit, value, recorded_at, hlc) FROM STDIN") as cp:
            for p in patients:
                for i in range(per_patient):
                    cp.write_row((uuid.uuid4(), p, "heart_rate", "bpm", 60 + i % 40,
                                  start + dt.timedelta(minutes=i), "bench"))
        doctor_id = uuid.uuid4()
        cur.execute("INSERT INTO doctors (id, user_id, full_name, specialty, hlc) VALUES (%s, %s, 'Dr B', 'gp', 'b')",
                    (doctor_id, doctor_user))
        for p in patients[:10]:
            cur.execute("INSERT INTO appointments (id, patient_id, doctor_id, scheduled_at, hlc) "
                        "VALUES (%s, %s, %s, now(), 'b')", (uuid.uuid4(), p, doctor_id))
        cur.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rows and repetitions")
    args = parser.parse_args()
    n_patients, per_patient, repeats = (50, 200, 5) if args.quick else (500, 400, 20)

    base = testing.base_url()
    url = testing.migrated_database(base, "hs_bench")
    db = Database(url, max_size=2)
    app = create_app(testing.settings_for(url))
    try:
        patients = [uuid.uuid4() for _ in range(n_patients)]
        doctor = uuid.uuid4()
        seed(db, patients, per_patient, doctor)
        me = patients[3]
        claims = {"sub": str(me), "role": "authenticated", "app_metadata": {"role": "patient"}}
        doctor_claims = {"sub": str(doctor), "role": "authenticated", "app_metadata": {"role": "doctor"}}

        def plain():
            with db.admin() as conn:
                conn.execute(SQL, (me,)).fetchall()
                conn.execute(COUNT, (me,)).fetchone()

        def rls(c=claims):
            with db.session("authenticated", c) as conn:
                rows = conn.execute(SQL, (me,)).fetchall()
                conn.execute(COUNT, (me,)).fetchone()
            assert len(rows) == 50

        from fastapi.testclient import TestClient

        headers = testing.auth(me)
        with TestClient(app) as client:
            def api():
                r = client.get("/api/v1/health/metrics", params={"metric_type": "heart_rate"}, headers=headers)
                assert r.status_code == 200 and len(r.json()["data"]["items"]) == 50

            results = {
                "plain SQL, no RLS (reference)": per_call(plain, repeats),
                "same SQL under RLS, patient": per_call(rls, repeats),
                "same SQL under RLS, doctor": per_call(lambda: rls(doctor_claims), repeats),
                "GET /api/v1/health/metrics, patient": per_call(api, repeats),
            }
        ref = results["plain SQL, no RLS (reference)"]
        total = n_patients * per_patient
        print(f"{total:,} health_metrics rows, {n_patients} patients; median of {repeats} blocks of 10 calls")
        print(f"{'path':<40} {'ms/call':>9} {'× reference':>12}")
        for name, seconds in results.items():
            print(f"{name:<40} {seconds * 1000:>9.3f} {seconds / ref:>12.2f}")
    finally:
        app.state.db.close()
        db.close()
        testing.drop_database(base, url)


if __name__ == "__main__":
    main()
