"""`healthsync demo` / `make demo`: the main job end to end on embedded defaults, printing what it did."""
from __future__ import annotations

import os
import secrets
import tempfile
import uuid
from pathlib import Path

from rich.console import Console

from edge.errors import HealthSyncError
from edge.keys import KeySource
from edge.store import Store

console = Console()


def step(title: str) -> None:
    console.rule(f"[bold]{title}")


def demo_store(workdir: Path) -> tuple[Store, uuid.UUID]:
    """Create an encrypted edge store and write/read a few validated records."""
    step("1. Edge store (SQLite, WAL, AES-256-GCM sealed PHI, Argon2id passphrase)")
    passphrase = secrets.token_urlsafe(16)  # a fresh demo store each run; never a hard-coded key
    store = Store.open(workdir / "edge.db", KeySource(passphrase=passphrase), create=True)
    user = store.users.add({"full_name": "Demo Patient", "email": "demo@example.org", "sex": "female",
                            "date_of_birth": "1970-05-01", "llm_consent": False})
    store.set_meta("user_id", str(user.id))
    console.print(f"store {store.path} device {store.device_id} schema v{store.schema_version}")
    for metric_type, value, unit in [("systolic_bp", 128, None), ("total_cholesterol", 5.5, "mmol/L"),
                                     ("hdl_cholesterol", 1.3, "mmol/L"), ("blood_glucose", 99, None),
                                     ("weight", 72, None), ("height", 165, None), ("heart_rate", 66, None)]:
        m = store.health_metrics.add({"user_id": user.id, "metric_type": metric_type, "value": value, "unit": unit})
        console.print(f"  wrote {m.metric_type:<18} {m.value:>8g} {m.unit}")
    try:
        store.health_metrics.add({"user_id": user.id, "metric_type": "heart_rate", "value": 400})
    except HealthSyncError as exc:
        console.print(f"  refused bad input as expected: [{exc.code}] {exc.message}")
    back = store.health_metrics.list(owner=user.id, limit=100)
    pending = store.query("SELECT count(*) FROM outbox")[0][0]
    console.print(f"  read back {len(back)} metrics; {pending} changes waiting in the sync outbox")
    return store, user.id


def run_demo(workdir: str | None = None) -> None:
    """Run every demo stage in order."""
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="healthsync-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("NUMBA_CACHE_DIR", str(root / "numba-cache"))
    store, user_id = demo_store(root)
    try:
        pass
    finally:
        store.close()
    console.rule("[green]demo finished")
    console.print(f"files in {root}")
