"""Finding a patient at a clinic device: the keyed blind index (edge.patients.find: HMAC the query, look it up,
decrypt only the matches) against the reference it replaces, decrypting every profile and matching the name.

Run: python bench/bench_patient_find.py [--patients 5000] [--queries 50]
"""
from __future__ import annotations

import argparse
import datetime as dt
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge import patients  # noqa: E402
from edge.keys import KeySource  # noqa: E402
from edge.store import Store  # noqa: E402


def scan_all(store: Store, query: str) -> set[str]:
    """The reference: decrypt every profile and compare name tokens."""
    want = set(patients.name_tokens(query))
    return {str(u.id) for u in store.users.list(limit=10**9) if want <= set(patients.name_tokens(u.full_name or ""))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=5000)
    ap.add_argument("--queries", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "kiosk.db", KeySource(raw_key=secrets.token_bytes(32)), create=True)
        store.set_meta("clinic_id", str(uuid.uuid4()))
        store.set_meta("user_id", str(uuid.uuid4()))
        names = [f"Given{i} Family{i % 997}" for i in range(args.patients)]
        t = time.perf_counter()
        for n in names:
            patients.register(store, name=n, dob=dt.date(1970, 1, 1), sex="female")
        print(f"registered {args.patients} patients in {time.perf_counter() - t:.1f} s")
        queries = [names[i * (args.patients // args.queries)] for i in range(args.queries)]
        t = time.perf_counter()
        ours = [{r["id"] for r in patients.find(store, q)} for q in queries]
        ours_s = (time.perf_counter() - t) / len(queries)
        t = time.perf_counter()
        ref = [scan_all(store, q) for q in queries]
        ref_s = (time.perf_counter() - t) / len(queries)
        assert ours == ref, "the blind index and the full scan disagree"
        store.close()
    print(f"blind index: {ours_s * 1000:.2f} ms/query; decrypt-all scan: {ref_s * 1000:.1f} ms/query; "
          f"ratio {ref_s / ours_s:.0f}x faster ({args.patients} patients, same answers)")


if __name__ == "__main__":
    main()
