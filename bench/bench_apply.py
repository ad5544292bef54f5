"""Applying N remote changes on an edge: pulled server rows through edge.pull.apply_pulled (check, validate, seal,
write; no outbox capture) into a real encrypted store, one transaction per 2,000-row page as the sync client does.
Target: 100k in <= 2 s (cr-sqlite reports 5-9 s on an M1 Max). For scale it also prints a plain SQLite
`executemany` of the same rows (unsealed JSON, no checks) in the same run.

Run: python bench/bench_apply.py [--quick]
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import secrets
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edge import pull  # noqa: E402
from edge.keys import KeySource  # noqa: E402
from edge.store import Store  # noqa: E402
from protocol.schema import new_id  # noqa: E402

PAGE = 2000
TARGET_S = 2.0


def pulled_rows(n: int, user: str, node: str) -> list[dict]:
    """Rows as the server's pull endpoint sends them (protocol.merge.RowState wire form plus table, pk, seq)."""
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    wall = int(time.time() * 1000) - 60_000
    rows = []
    for i in range(n):
        pk = str(new_id())
        doc = {"id": pk, "user_id": user, "supersedes": None, "metric_type": "heart_rate", "unit": "bpm",
               "value": float(60 + i % 40), "recorded_at": when, "source": "wearable", "notes": None}
        rows.append({"table": "health_metrics", "pk": pk, "doc": doc, "clocks": {},
                     "hlc": f"{wall:015d}:{i % 1_000_000:06d}:{node}", "deleted": False, "seq": i + 1})
    return rows


def run_apply(rows: list[dict], tmp: Path) -> float:
    """Seconds to apply all rows page by page into a fresh encrypted store."""
    store = Store.open(tmp / f"edge-{uuid.uuid4().hex}.db", KeySource(raw_key=secrets.token_bytes(32)),
                       create=True)
    try:
        gc.collect()
        start = time.perf_counter()
        applied = sum(pull.apply_pulled(store, rows[i:i + PAGE]) for i in range(0, len(rows), PAGE))
        elapsed = time.perf_counter() - start
        assert applied == len(rows), applied
        assert store.health_metrics.count() == len(rows)
        assert store.query("SELECT count(*) FROM outbox")[0][0] == 0  # remote rows are not captured again
    finally:
        store.close()
    return elapsed


def run_raw(rows: list[dict], tmp: Path) -> float:
    """Seconds for a plain SQLite executemany of the same rows (JSON text, WAL, synchronous=NORMAL as in the
    store, one transaction per page)."""
    conn = sqlite3.connect(tmp / f"raw-{uuid.uuid4().hex}.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # as the store sets it
    conn.execute("CREATE TABLE health_metrics (id TEXT PRIMARY KEY, doc TEXT NOT NULL, hlc TEXT NOT NULL)")
    start = time.perf_counter()
    for i in range(0, len(rows), PAGE):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO health_metrics VALUES (?, ?, ?)",
                         [(r["pk"], json.dumps(r["doc"]), r["hlc"]) for r in rows[i:i + PAGE]])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="10k changes instead of 100k")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs of each side")
    args = ap.parse_args()
    n = 10_000 if args.quick else 100_000
    rows = pulled_rows(n, str(uuid.uuid4()), str(uuid.uuid4()))
    applies, raws = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            applies.append(run_apply(rows, Path(tmp)))
            raws.append(run_raw(rows, Path(tmp)))
    apply, raw = min(applies), min(raws)
    target = TARGET_S * n / 100_000
    print(f"changes={n} page={PAGE} repeats={args.repeat} (best of each)")
    print(f"edge apply : {apply:.2f} s ({n / apply:,.0f} changes/s; target <= {target:g} s: "
          f"{'PASS' if apply <= target else 'FAIL'})")
    print(f"raw SQLite : {raw:.2f} s ({n / raw:,.0f} rows/s; executemany of unsealed JSON, for scale)")
    print(f"ratio apply/raw: {apply / raw:.2f}x")


if __name__ == "__main__":
    main()
