"""What a shared kiosk keeps: patients outside its scope are purged only once everything of theirs has synced
(against the real server); patients seen within the window, or with an appointment today, stay."""
from __future__ import annotations

import datetime as dt
import secrets
import uuid

import pytest

from edge import consent, kiosk, outbox, patients
from edge.keys import KeySource
from edge.store import Store
from edge.sync_client import SyncClient, SyncOptions, SyncResult
from protocol.errors import InputError, NotFoundError
from sync_server import testing
from tests.server import tenancy_seed

DOB = dt.date(1960, 1, 2)


@pytest.fixture
def clinic_device(tmp_path, http, db):
    """A clinic device of a real clinic; `push(role)` pushes its outbox signed in as the clinic's nurse or as one
    of its doctors (who may not register patients or record their consents)."""
    clinic = tenancy_seed.clinic(db)
    staff = tenancy_seed.staff(db, clinic, "nurse")
    members = {"nurse": staff, "doctor": tenancy_seed.staff(db, clinic, "doctor")}
    key = KeySource(raw_key=secrets.token_bytes(32))
    store = Store.open(tmp_path / "kiosk.db", key, create=True)
    store.set_meta("clinic_id", str(clinic))
    store.set_meta("user_id", str(staff))
    store.users.add({"id": staff, "full_name": "Nurse Joy", "role": "admin"})

    def client(role: str) -> SyncClient:
        return SyncClient(store, testing.token(members[role], role), http=http,
                          options=SyncOptions(attempts=2, backoff_s=0.01))

    client("nurse").enroll("http://testserver")  # a kiosk is enrolled by a nurse or admin of its clinic

    def push(role: str) -> SyncResult:
        result = SyncResult()
        client(role).push(result)
        return result

    yield store, push
    store.close()


def _register(store, name):
    return uuid.UUID(patients.register(store, name=name, dob=DOB, sex="female")["id"])


def _age(store, patient, days):
    """Make the patient last seen `days` ago (the kiosk's local record of its visits)."""
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()
    with store.transaction() as conn:
        conn.execute("UPDATE kiosk_seen SET last_seen_at=? WHERE user_id=?", (at, str(patient)))


def _kept_recording(store, patient):
    """A symptom with a recording kept under the patient's audio consent, as the voice pipeline stores it."""
    from pathlib import Path

    import numpy as np

    from edge.voice import audio, pipeline
    from protocol.schema import new_id

    consent.record(store, patient, "audio", True)
    t = np.arange(16_000) / 16_000
    tone = audio.from_array((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16_000, "test")
    symptom_id = new_id()
    path = pipeline._keep_audio(store, tone, symptom_id)
    store.symptoms.add({"id": symptom_id, "user_id": patient, "description": "cough", "severity": 3,
                        "audio_path": path})
    assert Path(path).exists()
    return Path(path)


def _rows_of(store, patient):
    from protocol.schema import TABLES

    return sum(store.query(f"SELECT count(*) FROM {t} WHERE owner=?", (str(patient),))[0][0]
               for t, s in TABLES.items() if s.owner)


def test_purge_waits_for_sync_then_removes(clinic_device, db):
    store, push = clinic_device
    recent, old = _register(store, "Recent Visitor"), _register(store, "Old Visitor")
    store.health_metrics.add({"user_id": old, "metric_type": "heart_rate", "value": 71})
    recording = _kept_recording(store, old)
    _age(store, old, 20)

    first = kiosk.purge(store)
    assert first["purged"] == [] and [w["patient_id"] for w in first["waiting"]] == [str(old)]
    assert first["waiting"][0]["unsynced_changes"] >= 4  # profile, registration, share consent, metric
    assert store.users.get(old)  # nothing deleted while unsynced

    # A doctor of the clinic signed in: RLS refuses a doctor's registration and consent rows, so they (and the rows
    # of the patient they would have let in) sit in quarantine: still waiting.
    refused = push("doctor")
    assert refused.rejected > 0 and outbox.pending_count(store) == 0
    assert [w["patient_id"] for w in kiosk.purge(store)["waiting"]] == [str(old)]

    # Requeue and push as the clinic's nurse: everything is acknowledged, then the purge goes ahead.
    with store.transaction() as conn:
        conn.execute("INSERT INTO outbox(change_id, tbl, row_id, op, columns, hlc) SELECT change_id, tbl, row_id, "
                     "op, columns, hlc FROM quarantine")
        conn.execute("DELETE FROM quarantine")
    accepted = push("nurse")
    assert accepted.rejected == 0 and outbox.pending_count(store) == 0
    assert kiosk.purge(store, dry_run=True)["purged"] == [{"patient_id": str(old), "rows": 0}]
    assert store.users.get(old)  # a dry run deletes nothing
    done = kiosk.purge(store)
    assert [p["patient_id"] for p in done["purged"]] == [str(old)] and done["purged"][0]["rows"] >= 4
    assert _rows_of(store, old) == 0 and patients.find(store, "old visitor") == []
    with pytest.raises(NotFoundError):
        store.users.get(old)
    assert store.query("SELECT count(*) FROM patient_index WHERE user_id=?", (str(old),))[0][0] == 0
    assert store.query("SELECT count(*) FROM patient_keys WHERE user_id=?", (str(old),))[0][0] == 0  # shredded
    assert store.query("SELECT count(*) FROM patient_keys WHERE user_id=?", (str(recent),))[0][0] == 1
    assert not recording.exists()  # the kept (consented) recording goes with the rows
    # The recent patient and the device's own user stay; the server keeps the purged patient's rows.
    assert store.users.get(recent) and store.users.get(uuid.UUID(store.meta("user_id")))
    with db.session("service_role", {"role": "service_role"}) as conn:
        n = conn.execute("SELECT count(*) AS n FROM health_metrics WHERE user_id=%s", (old,)).fetchone()["n"]
        reg = conn.execute("SELECT status, patient_id FROM registrations WHERE user_id=%s", (old,)).fetchone()
    assert n == 1 and reg["status"] == "active" and reg["patient_id"] == old


def test_withdrawn_share_is_purged_inside_the_window_once_synced(clinic_device, db):
    store, push = clinic_device
    patient = _register(store, "Withdrawing Patient")
    consent.record(store, patient, "share", False)
    assert [w["patient_id"] for w in kiosk.purge(store)["waiting"]] == [str(patient)]
    assert push("nurse").rejected == 0
    # The purge `sync run` does after each round on a clinic device.
    assert [p["patient_id"] for p in kiosk.after_sync(store)["purged"]] == [str(patient)]
    with db.session("service_role", {"role": "service_role"}) as conn:
        reg = conn.execute("SELECT status, withdrawn_at FROM registrations WHERE user_id=%s", (patient,)).fetchone()
    assert reg["status"] == "withdrawn" and reg["withdrawn_at"] is not None


def test_a_purged_patient_stays_purged_across_rounds(clinic_device, http):
    """The clinic's staff still see the withdrawn registration on the server; the kiosk keeps the purged rows' ids
    and clocks, so its checksums agree and the next rounds neither re-pull nor re-purge the patient."""
    store, push = clinic_device
    patient = _register(store, "Withdrawing Patient")
    consent.record(store, patient, "share", False)
    client = SyncClient(store, testing.token(uuid.UUID(store.meta("user_id")), "nurse"), http=http,
                        options=SyncOptions(attempts=2, backoff_s=0.01))
    client.run()
    assert [p["patient_id"] for p in kiosk.after_sync(store)["purged"]] == [str(patient)]
    for _ in range(2):
        again = client.run()
        assert again.repaired == [] and again.pulled == 0
        assert kiosk.after_sync(store)["purged"] == []
    with pytest.raises(NotFoundError):
        store.users.get(patient)


def test_todays_appointment_keeps_a_patient(clinic_device):
    store, push = clinic_device
    patient = _register(store, "Booked Patient")
    _age(store, patient, 30)
    soon = dt.datetime.now(dt.UTC)  # today, whatever the hour
    store.appointments.add({"patient_id": patient, "doctor_id": uuid.uuid4(), "scheduled_at": soon})
    assert push("nurse").rejected == 0
    out = kiosk.purge(store)
    assert out["purged"] == [] and out["waiting"] == [] and store.users.get(patient)


def test_purge_is_refused_on_a_personal_device(store):
    with pytest.raises(InputError, match="clinic devices"):
        kiosk.purge(store)
    assert kiosk.after_sync(store) is None  # and `sync run` does not try
