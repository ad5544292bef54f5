"""A medication read from a prescription travels between devices like any observation (server migration 0030)."""
from __future__ import annotations

import datetime as dt
import uuid

from edge import outbox


def test_medication_travels_from_one_device_to_another(devices, db):
    user = uuid.uuid4()
    a, b = devices.new(user), devices.new(user)
    scan_id = uuid.uuid4()
    med = a.store.medications.add({"user_id": user, "name": "atorvastatin", "strength": 20, "unit": "mg",
                                   "frequency": "QHS", "route": "oral", "source_scan_id": scan_id,
                                   "recorded_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)})
    res = a.run()
    assert (res.accepted, res.rejected, outbox.pending_count(a.store)) == (1, 0, 0)
    b.run()
    got = b.store.medications.get(med.id)
    assert (got.name, got.strength, got.frequency, got.source_scan_id) == ("atorvastatin", 20.0, "QHS", scan_id)
    with db.session("service_role", {"role": "service_role"}) as conn:
        row = conn.execute("SELECT name, unit, route FROM medications WHERE id=%s", (med.id,)).fetchone()
    assert row == {"name": "atorvastatin", "unit": "mg", "route": "oral"}
