"""Server ingest: N changes from one device end to end (open changeset: verify, decrypt, inflate, parse; validate;
merge in SQL under RLS; receipts, sync_applied and audit rows; commit) vs a raw COPY of the same rows into the same
Postgres in the same run. Targets: >= 20,000 changes/s and <= 4x the raw insert.

Run: python bench/bench_ingest.py [--quick]   (DATABASE_URL, else the local Postgres, else an embedded one)
"""
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
from sync_server import reconcile, sync_service, testing  # noqa: E402
from sync_server.db import Database  # noqa: E402

COLS = ["id", "user_id", "supersedes", "metric_type", "unit", "value", "recorded_at", "source", "notes", "hlc"]


def _docs(n: int, user: str) -> list[dict]:
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    return [{"id": str(new_id()), "user_id": user, "supersedes": None, "metric_type": "heart_rate", "unit": "bpm",
             "value": float(60 + i % 40), "recorded_at": when, "source": "wearable", "notes": None}
            for i in range(n)]


def _sealed(n: int, batch: int, user: str, device: str, signer, server_key) -> list[bytes]:
    """The device's work (building and sealing changesets), done before the clock starts: it is not the server's."""
    node = f"{int(time.time() * 1000):015d}"
    changes = [Change(str(new_id()), "health_metrics", d["id"], "insert", d, f"{node}:{i:06d}:{device}")
               for i, d in enumerate(_docs(n, user))]
    return [changeset.seal(changes[i:i + batch], device_id=device, user_id=user, signing_key=signer,
                           server_public_key=changeset.raw_public(server_key))[1] for i in range(0, n, batch)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="10k changes instead of 100k")
    ap.add_argument("--batch", type=int, default=5000, help="changes per changeset")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs of each side")
    args = ap.parse_args()
    n = 10_000 if args.quick else 100_000
    base = testing.base_url()
    url = testing.migrated_database(base, prefix="hs_bench")
    db = Database(url, max_size=2)
    try:
        server_key = changeset.new_server_key()
        device, signer = str(uuid.uuid4()), Ed25519PrivateKey.generate()
        user = str(uuid.uuid4())
        claims = {"sub": user, "role": "authenticated", "app_metadata": {"role": "patient"}}
        with db.session("authenticated", claims) as conn:
            sync_service.enroll(conn, user, device, changeset.raw_public(signer), b"\x01" * 32, "bench", server_key)
        ingests, raws = [], []
        # Interleaved repeats, best of each: on a shared machine the load changes between runs.
        for _ in range(args.repeat):
            blobs = _sealed(n, args.batch, user, device, signer, server_key)
            gc.collect()  # the device's records are gone: the server process would not hold them
            start = time.perf_counter()
            accepted = 0
            for blob in blobs:
                with db.session("authenticated", claims) as conn:
                    out = sync_service.push(conn, blob, reconcile.Caller(user), server_key)
                    accepted += out["counts"].get("accepted", 0)
            ingests.append(time.perf_counter() - start)
            assert accepted == n, out["counts"]

            raw_rows = [tuple(d[c] for c in COLS[:-1]) + (f"raw{i}",) for i, d in enumerate(_docs(n, user))]
            start = time.perf_counter()
            with db.admin() as conn, conn.cursor().copy(
                    f"COPY health_metrics ({', '.join(COLS)}) FROM STDIN") as copy:
                for row in raw_rows:
                    copy.write_row(row)
            raws.append(time.perf_counter() - start)
            del raw_rows, blobs
        ingest, raw = min(ingests), min(raws)
        print(f"changes={n} changeset={args.batch} repeats={args.repeat} (best of each)")
        rate, ratio = n / ingest, ingest / raw
        print(f"sync ingest : {ingest:.2f} s ({rate:,.0f} changes/s; target >= 20,000: "
              f"{'PASS' if rate >= 20_000 else 'FAIL'})")
        print(f"raw COPY    : {raw:.2f} s ({n / raw:,.0f} rows/s)")
        print(f"ratio ingest/raw: {ratio:.2f}x (target <= 4x: {'PASS' if ratio <= 4 else 'FAIL'})")
    finally:
        db.close()
        testing.drop_database(base, url)


if __name__ == "__main__":
    main()
