"""Edge capture overhead: N inserts through the store with outbox capture vs the same store API with capture off.

Target ≤ 1.5× (cr-sqlite publishes ~2.5× for its CRDT triggers). Run: python bench/bench_capture.py [--quick]
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

from edge.keys import KeySource  # noqa: E402
from edge.store import Store  # noqa: E402


def _rows(n: int, user: uuid.UUID) -> list[dict]:
    when = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    return [{"user_id": user, "metric_type": "heart_rate", "value": 60 + i % 40, "recorded_at": when}
            for i in range(n)]


def run(n: int, capture: bool, batch: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "edge.db", KeySource(raw_key=secrets.token_bytes(32)), create=True,
                           capture=capture)
        rows = _rows(n, uuid.uuid4())
        start = time.perf_counter()
        for i in range(0, n, batch):
            store.health_metrics.add_many(rows[i:i + batch])
        elapsed = time.perf_counter() - start
        outbox = store.query("SELECT count(*) FROM outbox")[0][0]
        store.close()
    assert outbox == (n if capture else 0)
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="10k inserts instead of 100k")
    ap.add_argument("--batch", type=int, default=1000, help="inserts per transaction")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs of each variant")
    args = ap.parse_args()
    n = 10_000 if args.quick else 100_000
    run(min(n, 2000), True, args.batch)  # warm imports and caches
    # Interleaved repeats, best of each: on a shared machine the load changes between runs.
    offs, ons = [], []
    for _ in range(args.repeat):
        offs.append(run(n, False, args.batch))
        ons.append(run(n, True, args.batch))
    off, on = min(offs), min(ons)
    print(f"inserts={n} batch={args.batch} repeats={args.repeat} (best of each)")
    print(f"capture off: {off:.2f} s ({n / off:,.0f} rows/s)")
    print(f"capture on : {on:.2f} s ({n / on:,.0f} rows/s)")
    print(f"ratio on/off: {on / off:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
