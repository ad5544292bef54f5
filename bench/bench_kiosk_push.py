"""Benchmark: a kiosk's push throughput when a nurse records for 1,000 patients of the clinic (RLS checks each row
against the nurse's write scope, rows take the kiosk's tenant), beside today's single-user ingest (a phone pushing
its own rows) on the same Postgres in the same run. Target: the kiosk within 1.5x of the single-user time.
Run: python bench/bench_kiosk_push.py [--changes N] [--patients P]   (DATABASE_URL, else the local Postgres)."""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from protocol import changeset  # noqa: E402
from protocol.changeset import Change  # noqa: E402
from protocol.schema import new_id  # noqa: E402
from sync_server import reconcile, sync_service, tenancy, testing  # noqa: E402
from sync_server.db import Database  # noqa: E402

BATCH = 5000
TARGET = 1.5


def sealed(owners: list[str], actor: str, device: str, signer, server_key) -> list[bytes]:
    """Changesets of one heart-rate reading per owner slot, sealed by the device before the clock starts."""
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    node = f"{int(time.time() * 1000):015d}"
    changes = []
    for i, owner in enumerate(owners):
        doc = {"id": str(new_id()), "user_id": owner, "supersedes": None, "metric_type": "heart_rate", "unit": "bpm",
               "value": float(60 + i % 40), "recorded_at": when, "source": "manual", "notes": None}
        changes.append(Change(str(new_id()), "health_metrics", doc["id"], "insert", doc, f"{node}:{i:06d}:{device}"))
    return [changeset.seal(changes[i:i + BATCH], device_id=device, user_id=actor, signing_key=signer,
                           server_public_key=changeset.raw_public(server_key))[1]
            for i in range(0, len(changes), BATCH)]


def timed_push(db: Database, blobs: list[bytes], caller: reconcile.Caller, claims: dict, server_key,
               expected: int) -> float:
    """Seconds to push the changesets; every change must be accepted."""
    gc.collect()
    start = time.perf_counter()
    accepted = 0
    for blob in blobs:
        with db.session("authenticated", claims) as conn:
            accepted += sync_service.push(conn, blob, caller, server_key)["counts"].get("accepted", 0)
    elapsed = time.perf_counter() - start
    assert accepted == expected, accepted
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--changes", type=int, default=20_000)
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    base = testing.base_url()
    url = testing.migrated_database(base, prefix="hs_bench_kiosk")
    db = Database(url, max_size=2)
    try:
        server_key = changeset.new_server_key()
        with db.admin() as conn:
            clinic = uuid.UUID(tenancy.create_clinic(conn, "bench")["id"])
            nurse = uuid.uuid4()
            tenancy.add_staff(conn, clinic, nurse, "nurse")
            patients = [str(uuid.uuid4()) for _ in range(args.patients)]
            with conn.cursor().copy("COPY registrations (id, clinic_id, user_id, hlc) FROM STDIN") as cp:
                for p in patients:
                    cp.write_row((tenancy.registration_id(clinic, p), clinic, p, "bench"))
        phone_user = str(uuid.uuid4())
        phone, phone_key = str(uuid.uuid4()), Ed25519PrivateKey.generate()
        kiosk, kiosk_key = str(uuid.uuid4()), Ed25519PrivateKey.generate()
        phone_claims = {"sub": phone_user, "role": "authenticated", "app_metadata": {"role": "patient"}}
        nurse_claims = {"sub": str(nurse), "role": "authenticated", "app_metadata": {"role": "nurse"}}
        with db.session("authenticated", phone_claims) as conn:
            sync_service.enroll(conn, phone_user, phone, changeset.raw_public(phone_key), b"\x01" * 32, "p", server_key)
        with db.session("authenticated", nurse_claims) as conn:
            sync_service.enroll(conn, str(nurse), kiosk, changeset.raw_public(kiosk_key), b"\x01" * 32, "k",
                                server_key, clinic_id=str(clinic))
        singles, kiosks = [], []
        for _ in range(args.repeat):  # interleaved, best of each: the shared machine's load changes between runs
            blobs = sealed([phone_user] * args.changes, phone_user, phone, phone_key, server_key)
            singles.append(timed_push(db, blobs, reconcile.Caller(phone_user), phone_claims, server_key, args.changes))
            owners = [patients[i % len(patients)] for i in range(args.changes)]
            blobs = sealed(owners, str(nurse), kiosk, kiosk_key, server_key)
            kiosks.append(timed_push(db, blobs, reconcile.Caller(str(nurse), "nurse"), nurse_claims, server_key,
                                     args.changes))
        single, kiosk_t = min(singles), min(kiosks)
        print(f"changes={args.changes} patients={args.patients} changeset={BATCH} repeats={args.repeat} (best of each)")
        print(f"single-user phone: {single:.2f} s ({args.changes / single:,.0f} changes/s)")
        print(f"kiosk, {args.patients} patients: {kiosk_t:.2f} s ({args.changes / kiosk_t:,.0f} changes/s)")
        ratio = kiosk_t / single
        print(f"ratio kiosk/single: {ratio:.2f}x (target <= {TARGET}x: {'PASS' if ratio <= TARGET else 'FAIL'})")
    finally:
        db.close()
        testing.drop_database(base, url)


if __name__ == "__main__":
    main()
