"""Test helpers: a doctors row seeded on the server, and an edge device enrolled with a doctor's token."""
from __future__ import annotations

import secrets
import uuid

from edge.keys import KeySource
from edge.store import Store
from edge.sync_client import SyncClient, SyncOptions
from sync_server import testing

SERVICE = ("service_role", {"role": "service_role"})


def doctor_device(devices, doctor_user: uuid.UUID, role: str = "doctor", key: KeySource | None = None) -> SyncClient:
    """An edge store enrolled with a doctor's (or another role's) token, opened with `key` (default: a random
    raw key); the Devices fixture makes patients."""
    store = Store.open(devices.tmp_path / f"doctor{len(devices.stores)}.db",
                       key or KeySource(raw_key=secrets.token_bytes(32)), create=True)
    devices.stores.append(store)
    store.set_meta("user_id", str(doctor_user))
    client = SyncClient(store, testing.token(doctor_user, role), http=devices.http,
                        options=SyncOptions(attempts=2, backoff_s=0.01))
    client.enroll("http://testserver")
    return client


def seed_doctor(db, user: uuid.UUID, specialty: str = "cardiology") -> uuid.UUID:
    """As service_role: a doctors row for the user; returns the doctor id."""
    doctor_id = uuid.uuid4()
    with db.session(*SERVICE) as conn:
        conn.execute("INSERT INTO doctors (id, user_id, full_name, specialty, hlc) VALUES (%s, %s, 'Dr', %s, 'seed')",
                     (doctor_id, user, specialty))
    return doctor_id
