"""Benchmark: what the care RLS of issue 10 costs a nurse and a doctor of a clinic with 10,000 patients (and as
many in a second clinic, so RLS has rows to hide). Each query runs twice on the same Postgres and data: as the
login role without RLS, naming the clinic's patients explicitly (the reference), and under role `authenticated`
with the staff member's JWT claims (RLS decides: migration 0051). Target: within 3x of the reference.
Queries: a pull page (1,000 rows by change_seq) and one patient's newest 50 readings.
Run: python bench/bench_tenancy.py [--patients N]   (uses DATABASE_URL, else local Postgres, else embedded)."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_server import per_call  # noqa: E402
from sync_server import tenancy, testing  # noqa: E402
from sync_server.db import Database  # noqa: E402

PAGE = "SELECT id, user_id, value, hlc FROM health_metrics WHERE change_seq > 0 {extra} ORDER BY change_seq LIMIT 1000"
SCOPE = ("AND user_id IN (SELECT user_id FROM registrations WHERE clinic_id = %(c)s AND status = 'active' "
         "AND NOT deleted)")
ONE = ("SELECT id, value, recorded_at FROM health_metrics WHERE user_id = %(p)s AND metric_type = 'heart_rate' "
       "AND NOT deleted ORDER BY recorded_at DESC LIMIT 50")
TARGET = 3.0


def seed(db: Database, n: int) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]:
    """Two clinics of n patients each, 3 readings per patient; a nurse and a doctor of the first clinic."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with db.admin() as conn:
        clinics = [uuid.UUID(tenancy.create_clinic(conn, f"bench {i}")["id"]) for i in range(2)]
        nurse, doctor = uuid.uuid4(), uuid.uuid4()
        tenancy.add_staff(conn, clinics[0], nurse, "nurse")
        tenancy.add_staff(conn, clinics[0], doctor, "doctor")
        first = None
        with conn.cursor() as cur:
            regs, rows = [], []
            for c in clinics:
                for _ in range(n):
                    p = uuid.uuid4()
                    first = first or p
                    regs.append((tenancy.registration_id(c, p), c, p, "bench"))
                    rows += [(uuid.uuid4(), p, c, "heart_rate", "bpm", 60 + i, start + dt.timedelta(hours=i), "bench")
                             for i in range(3)]
            with cur.copy("COPY registrations (id, clinic_id, user_id, hlc) FROM STDIN") as cp:
                for r in regs:
                    cp.write_row(r)
            with cur.copy("COPY health_metrics (id, user_id, clinic_id, metric_type, unit, value, recorded_at, hlc) "
                          "FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(r)
            cur.execute("ANALYZE")
    return clinics[0], nurse, doctor, first


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=10_000)
    args = ap.parse_args()
    base = testing.base_url()
    url = testing.migrated_database(base, "hs_bench_tenancy")
    db = Database(url, max_size=2)
    try:
        clinic, nurse, doctor, patient = seed(db, args.patients)
        params = {"c": clinic, "p": patient}
        print(f"{args.patients} patients per clinic, 2 clinics, 3 readings each")
        worst = 0.0
        for who, user in (("nurse", nurse), ("doctor", doctor)):
            claims = {"sub": str(user), "role": "authenticated", "app_metadata": {"role": who}}
            for name, ref_sql, rls_sql in (("pull page", PAGE.format(extra=SCOPE), PAGE.format(extra="")),
                                           ("one patient", ONE, ONE)):
                def ref(sql=ref_sql):
                    with db.admin() as conn:
                        conn.execute(sql, params).fetchall()

                def rls(sql=rls_sql, claims=claims):
                    with db.session("authenticated", claims) as conn:
                        conn.execute(sql, params).fetchall()

                with db.session("authenticated", claims) as conn:  # both sides read the same rows
                    seen = len(conn.execute(rls_sql, params).fetchall())
                with db.admin() as conn:
                    assert len(conn.execute(ref_sql, params).fetchall()) == seen
                t_ref, t_rls = per_call(ref, 7), per_call(rls, 7)
                worst = max(worst, t_rls / t_ref)
                print(f"{who:6} {name:11}: reference {t_ref * 1e3:7.2f} ms, RLS {t_rls * 1e3:7.2f} ms, "
                      f"ratio {t_rls / t_ref:4.2f}x ({seen} rows)")
        print(f"worst ratio {worst:.2f}x (target <= {TARGET}x): {'OK' if worst <= TARGET else 'OVER'}")
    finally:
        db.close()
        testing.drop_database(base, url)


if __name__ == "__main__":
    main()
