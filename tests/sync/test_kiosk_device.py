"""A clinic device (kiosk) on real Postgres: enrolled only by an admin or nurse of its clinic; syncs rows for the
clinic's registered patients, written by whichever staff member is signed in; every change is audited with the
acting user, the subject patient and the kiosk."""
from __future__ import annotations

import secrets
import uuid

import pytest

from edge.keys import KeySource
from edge.store import Store
from edge.sync_client import SyncClient, SyncOptions
from protocol.errors import HealthSyncError
from sync_server import audit, testing
from tests.server import tenancy_seed
from tests.sync import tenancy_world as tw


def _kiosk(devices, clinic: uuid.UUID, staff: uuid.UUID, role: str = "nurse") -> SyncClient:
    """A store made as `edge init --clinic` makes it, enrolled with a staff member's token."""
    store = Store.open(devices.tmp_path / f"kiosk{len(devices.stores)}.db", KeySource(raw_key=secrets.token_bytes(32)),
                       create=True)
    devices.stores.append(store)
    store.set_meta("clinic_id", str(clinic))
    client = SyncClient(store, testing.token(staff, role), http=devices.http,
                        options=SyncOptions(attempts=2, backoff_s=0.01))
    client.enroll("http://testserver", name="Front desk")
    return client


def _signed_in(kiosk: SyncClient, user: uuid.UUID, role: str) -> SyncClient:
    """The same kiosk with another staff member signed in (their token)."""
    return SyncClient(kiosk.store, testing.token(user, role), http=kiosk.http,
                      options=SyncOptions(attempts=2, backoff_s=0.01))


def test_only_an_admin_or_nurse_of_the_clinic_enrolls_its_kiosk(http, db):
    clinic, other = tenancy_seed.clinic(db), tenancy_seed.clinic(db)
    allowed = {"nurse": tenancy_seed.staff(db, clinic, "nurse"), "admin": tenancy_seed.staff(db, clinic, "admin")}
    refused = {"doctor": tenancy_seed.staff(db, clinic, "doctor"), "nurse": tenancy_seed.staff(db, other, "nurse"),
               "patient": uuid.uuid4()}
    for role, user in allowed.items():
        r, _ = tw.enroll(http, user, role, clinic)
        assert r.status_code == 201 and r.json()["data"]["kind"] == "clinic", r.text
    for role, user in refused.items():
        r, _ = tw.enroll(http, user, role, clinic)
        assert r.status_code == 403 and "only an admin or a nurse of clinic" in r.json()["error"]["message"], r.text
    with db.admin() as conn:
        kinds = {r["kind"] for r in conn.execute("SELECT kind FROM sync_devices WHERE clinic_id = %s", (clinic,))}
    assert kinds == {"clinic"}


def test_a_kiosk_records_for_registered_patients_and_the_audit_says_who_for_whom_where(devices, db):
    clinic = tenancy_seed.clinic(db)
    nurse, second_nurse = tenancy_seed.staff(db, clinic, "nurse"), tenancy_seed.staff(db, clinic, "nurse")
    outsider = tenancy_seed.staff(db, tenancy_seed.clinic(db), "nurse")
    registered, stranger = uuid.uuid4(), uuid.uuid4()
    tenancy_seed.register(db, clinic, registered)
    kiosk = _kiosk(devices, clinic, nurse)
    bp = kiosk.store.health_metrics.add({"user_id": registered, "metric_type": "systolic_bp", "value": 128,
                                         "unit": "mmHg"})
    kiosk.store.health_metrics.add({"user_id": stranger, "metric_type": "heart_rate", "value": 70, "unit": "bpm"})
    res = kiosk.run()
    assert res.rejected == 1  # the stranger is registered nowhere: the kiosk may not write for them
    with db.admin() as conn:
        row = conn.execute("SELECT clinic_id FROM health_metrics WHERE id = %s", (bp.id,)).fetchone()
        audited = conn.execute("SELECT id FROM audit_log WHERE row_id = %s AND action = 'sync_insert'",
                               (bp.id,)).fetchone()
        sentence = audit.describe(conn, audited["id"])
    assert row["clinic_id"] == clinic  # the row's tenant is the kiosk's clinic
    assert sentence == f"nurse {nurse} recorded blood pressure for patient {registered} on kiosk Front desk"
    # Another nurse of the clinic signs in on the same kiosk: their changes go through it, as them.
    second = _signed_in(kiosk, second_nurse, "nurse")
    hr = second.store.health_metrics.add({"user_id": registered, "metric_type": "heart_rate", "value": 66,
                                          "unit": "bpm"})
    assert second.run().rejected == 0
    with db.admin() as conn:
        audited = conn.execute("SELECT id FROM audit_log WHERE row_id = %s", (hr.id,)).fetchone()
        assert audit.describe(conn, audited["id"]) == \
            f"nurse {second_nurse} recorded heart rate for patient {registered} on kiosk Front desk"
    # A nurse of another clinic cannot push through it (the kiosk is not one of their clinic's devices).
    foreign = _signed_in(kiosk, outsider, "nurse")
    foreign.store.health_metrics.add({"user_id": registered, "metric_type": "heart_rate", "value": 90, "unit": "bpm"})
    with pytest.raises(HealthSyncError) as refused:
        foreign.push()
    assert refused.value.code == "DEVICE_UNKNOWN"


def test_a_registered_patients_phone_pushes_rows_into_their_first_clinics_tenant(devices, db):
    """The push path (app.tenant set once per push, not a trigger per row) gives the same tenant as the rule."""
    clinic, patient = tenancy_seed.clinic(db), uuid.uuid4()
    tenancy_seed.register(db, clinic, patient)
    phone = devices.new(patient)
    row = phone.store.health_metrics.add({"user_id": patient, "metric_type": "heart_rate", "value": 61, "unit": "bpm"})
    assert phone.run().rejected == 0
    with db.admin() as conn:
        assert conn.execute("SELECT clinic_id FROM health_metrics WHERE id = %s", (row.id,)).fetchone()[
            "clinic_id"] == clinic
        assert conn.execute("SELECT kind FROM sync_devices WHERE id = %s", (phone.store.device_id,)).fetchone()[
            "kind"] == "personal"


def test_edge_init_clinic_makes_a_clinic_device(tmp_path):
    from typer.testing import CliRunner

    from healthsync_cli import app

    runner = CliRunner()
    clinic = uuid.uuid4()
    env = {"HEALTHSYNC_PASSPHRASE": "correct horse battery staple 42"}
    r = runner.invoke(app, ["edge", "init", "--clinic", str(clinic), "--store", str(tmp_path / "k.db"), "--json"],
                      env=env)
    assert r.exit_code == 0, r.output
    import json

    out = json.loads(r.stdout)
    assert out["kind"] == "clinic" and out["clinic_id"] == str(clinic) and out["device_id"]
    bad = runner.invoke(app, ["edge", "init", "--clinic", "front-desk", "--store", str(tmp_path / "b.db")], env=env)
    assert bad.exit_code != 0 and "--clinic must be a clinic id" in bad.output and "Traceback" not in bad.output


def test_a_withdrawn_registration_removes_the_patient_from_the_kiosk(devices, db):
    """Rows leaving a device's scope leave the device: the kiosk held the patient, the patient withdrew."""
    clinic, patient = tenancy_seed.clinic(db), uuid.uuid4()
    nurse = tenancy_seed.staff(db, clinic, "nurse")
    tenancy_seed.register(db, clinic, patient)
    phone = devices.new(patient)
    phone.store.health_metrics.add({"user_id": patient, "metric_type": "heart_rate", "value": 61, "unit": "bpm"})
    assert phone.run().rejected == 0
    kiosk = _kiosk(devices, clinic, nurse)
    kiosk.run()
    assert kiosk.store.health_metrics.count() == 1
    tenancy_seed.register(db, clinic, patient, status="withdrawn")
    kiosk.run()
    assert kiosk.store.health_metrics.count() == 0


def test_a_break_glass_pull_is_flagged_in_the_audit_log(http, db):
    clinic, outside = tenancy_seed.clinic(db), uuid.uuid4()
    nurse = tenancy_seed.staff(db, clinic, "nurse")
    with db.admin() as conn:
        row = uuid.uuid4()
        conn.execute("INSERT INTO health_metrics (id, user_id, metric_type, unit, value, recorded_at, hlc) VALUES "
                     "(%s, %s, 'heart_rate', 'bpm', 70, now(), 's')", (row, outside))
    r, kiosk = tw.enroll(http, nurse, "nurse", clinic)
    assert r.status_code == 201
    assert str(row) not in tw.pulled(http, kiosk)
    opened = http.post("/api/v1/break-glass", json={"patient_id": str(outside), "reason": "collapsed in waiting room"},
                       headers=testing.auth(nurse, "nurse"))
    assert opened.status_code == 201, opened.text
    assert str(row) in tw.pulled(http, kiosk)
    with db.admin() as conn:
        pulls = conn.execute("SELECT id, break_glass FROM audit_log WHERE actor = %s AND subject_id = %s AND "
                             "action = 'sync_pull'", (nurse, outside)).fetchall()
        assert [p["break_glass"] for p in pulls] == [True]
        assert audit.describe(conn, pulls[0]["id"]).endswith(" on kiosk test device (break-glass)")


def test_a_device_name_with_a_control_character_is_a_422_not_a_500(http):
    """Failed before: Postgres text cannot hold NUL, and the enrollment answered 500 (found by the API fuzz)."""
    r, _ = tw.enroll(http, uuid.uuid4(), "patient")
    assert r.status_code == 201
    body = {"device_id": str(uuid.uuid4()), "signing_key": "ab" * 32, "agreement_key": "cd" * 32, "name": "desk\x00"}
    bad = http.post("/v1/devices", json=body, headers=testing.auth(uuid.uuid4()))
    assert bad.status_code == 422, bad.text


def test_consents_and_check_ins_carry_the_tenant_leading_their_indexes(devices, db):
    """Like every patient-data row (0050): a kiosk's consents and check-ins land in its clinic's tenant, a phone's in
    the patient's first clinic, an unregistered patient's in the nil tenant (migration 0073)."""
    from edge import consent

    clinic, other = tenancy_seed.clinic(db), tenancy_seed.clinic(db)
    nurse = tenancy_seed.staff(db, clinic, "nurse")
    patient, loner = uuid.uuid4(), uuid.uuid4()
    tenancy_seed.register(db, clinic, patient)
    kiosk = _kiosk(devices, clinic, nurse)
    kiosk.store.set_meta("session_user_id", str(nurse))
    kiosk.store.users.add({"id": patient, "full_name": "Pat"})
    at_desk = consent.record(kiosk.store, patient, "audio", True)
    arrived = kiosk.store.check_ins.add({"user_id": patient, "clinic_id": clinic, "recorded_by": nurse})
    assert kiosk.run().rejected == 0
    phones = {}
    for who in (patient, loner):
        phone = devices.new(who)
        phone.store.users.add({"id": who})
        phones[who] = consent.record(phone.store, who, "llm", True)
        assert phone.run().rejected == 0
    with db.admin() as conn:
        tenants = {r["id"]: r["tenant_id"] for r in conn.execute(
            "SELECT id, tenant_id FROM consents WHERE id = ANY(%s)",
            ([at_desk.id, phones[patient].id, phones[loner].id],))}
        checked = conn.execute("SELECT clinic_id FROM check_ins WHERE id = %s", (arrived.id,)).fetchone()["clinic_id"]
        leading = {r["t"]: r["col"] for r in conn.execute(
            "SELECT i.indrelid::regclass::text AS t, a.attname AS col FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE i.indexrelid::regclass::text IN "
            "('consents_tenant_owner', 'check_ins_tenant_owner')")}
    assert tenants == {at_desk.id: clinic, phones[patient].id: clinic, phones[loner].id: uuid.UUID(int=0)}
    assert checked == clinic and other not in tenants.values()
    assert leading == {"consents": "tenant_id", "check_ins": "clinic_id"}


def test_a_kiosk_pushes_with_a_token_source_not_only_a_token_string(devices, db):
    """`sync run` on a signed-in kiosk hands the client a token source (edge.token_provider): the changeset's
    acting user is read from the token it yields (it used to be read from the source object, and every push of a
    signed-in kiosk failed)."""
    from edge.token_provider import StaticToken

    clinic = tenancy_seed.clinic(db)
    nurse, patient = tenancy_seed.staff(db, clinic, "nurse"), uuid.uuid4()
    tenancy_seed.register(db, clinic, patient)
    kiosk = _kiosk(devices, clinic, nurse)
    source = SyncClient(kiosk.store, StaticToken(testing.token(nurse, "nurse")), http=devices.http,
                        options=SyncOptions(attempts=2, backoff_s=0.01))
    kiosk.store.health_metrics.add({"user_id": patient, "metric_type": "heart_rate", "value": 64, "unit": "bpm"})
    result = source.run()
    assert (result.accepted, result.rejected, result.push_error) == (1, 0, None)
