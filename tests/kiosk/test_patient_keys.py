"""Per-patient data keys on a clinic device: each patient's rows sealed with their own key (wrapped by the store
key), the device's own users and personal devices on the store key, and a destroyed key leaves the rows unreadable."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from edge import patients
from edge.keys import KeySource
from edge.patient_keys import MAGIC
from edge.pull import apply_pulled
from edge.store import Store
from protocol.errors import StoreCorruptError

DOB = dt.date(1955, 4, 4)


def _payload(store, table, row_id):
    return store.query(f"SELECT payload FROM {table} WHERE id=?", (str(row_id),))[0][0]


def test_patient_rows_are_sealed_with_their_own_key(kiosk, staff, tmp_path, store_key):
    kiosk.users.add({"id": staff, "full_name": "Nurse Joy"})
    p = uuid.UUID(patients.register(kiosk, name="Keyed Patient", dob=DOB, sex="male")["id"])
    m = kiosk.health_metrics.add({"user_id": p, "metric_type": "heart_rate", "value": 70})
    for table, row in (("users", p), ("health_metrics", m.id)):
        blob = _payload(kiosk, table, row)
        assert blob[:4] == MAGIC and blob[4:20] == p.bytes
    assert _payload(kiosk, "users", staff)[:4] != MAGIC  # the staff member's own row keeps the store key
    wrapped = kiosk.query("SELECT wrapped FROM patient_keys WHERE user_id=?", (str(p),))
    assert len(wrapped) == 1 and len(wrapped[0][0]) == 12 + 32 + 16  # nonce + sealed 256-bit key + tag
    # The outbox carries the same sealed payload, and a reopened store unwraps the key again.
    assert kiosk.health_metrics.get(m.id).value == 70
    with Store.open(tmp_path / "edge.db", store_key) as again:  # another process's view of the same file
        assert again.users.get(p).full_name == "Keyed Patient"
        assert patients.find(again, "keyed")[0]["id"] == str(p)


def test_pulled_rows_are_sealed_with_the_patient_key(kiosk):
    pid = uuid.uuid4()
    apply_pulled(kiosk, [{"table": "users", "pk": str(pid), "doc": {"id": str(pid), "full_name": "Pulled One"},
                          "clocks": {}, "hlc": kiosk.clock.now().encode(), "deleted": False}])
    assert _payload(kiosk, "users", pid)[:4] == MAGIC and kiosk.users.get(pid).full_name == "Pulled One"


def test_destroying_the_key_makes_every_copy_unreadable(kiosk):
    """What a purge does first: a copy of the rows taken before (a backup's page, a forensic image) no longer
    opens with the store key."""
    p = uuid.UUID(patients.register(kiosk, name="Gone Soon", dob=DOB, sex="female")["id"])
    blob = _payload(kiosk, "users", p)
    assert kiosk.unseal(blob, f"users|{p}")["full_name"] == "Gone Soon"
    with kiosk.transaction() as conn:
        assert kiosk.patient_keys.destroy(conn, str(p))
    with pytest.raises(StoreCorruptError):
        kiosk.unseal(blob, f"users|{p}")


def test_a_personal_device_uses_the_store_key(store):
    store.set_meta("user_id", str(uuid.uuid4()))
    p = uuid.UUID(patients.register(store, name="Phone Person", dob=DOB, sex="male")["id"])
    assert _payload(store, "users", p)[:4] != MAGIC
    assert store.query("SELECT count(*) FROM patient_keys") == [(0,)]


def test_a_store_key_row_is_still_read_on_a_device_that_became_a_clinic_device(tmp_path):
    key = KeySource(raw_key=b"\x07" * 32)
    with Store.open(tmp_path / "s.db", key, create=True) as s:
        s.set_meta("user_id", str(uuid.uuid4()))
        p = uuid.UUID(patients.register(s, name="Before Clinic", dob=DOB, sex="male")["id"])
        s.set_meta("clinic_id", str(uuid.uuid4()))
        assert s.users.get(p).full_name == "Before Clinic"  # sealed with the store key before: still opens
        s.users.update(p, phone="555")
        assert _payload(s, "users", p)[:4] == MAGIC and s.users.get(p).phone == "555"
