"""A device reports its own sync health after every round; a clinic's admin reads it with the server's facts
(last push and pull) through app.device_health(), and nobody reports for a device they do not hold."""
from __future__ import annotations

import uuid

from edge import outbox
from protocol.errors import HealthSyncError
from sync_server import testing
from tests.server import tenancy_seed
from tests.sync.test_kiosk_device import _kiosk


def _health(db, user, role="admin"):
    claims = {"sub": str(user), "role": "authenticated", "app_metadata": {"role": role}}
    with db.session("authenticated", claims) as conn:
        return {str(r["id"]): r for r in conn.execute("SELECT * FROM app.device_health()").fetchall()}


def test_kiosk_round_reports_and_admin_sees_it(devices, db):
    clinic = tenancy_seed.clinic(db)
    nurse, admin = tenancy_seed.staff(db, clinic, "nurse"), tenancy_seed.staff(db, clinic, "admin")
    stranger_admin = tenancy_seed.staff(db, tenancy_seed.clinic(db), "admin")
    kiosk = _kiosk(devices, clinic, nurse)
    patient = uuid.uuid4()
    tenancy_seed.register(db, clinic, patient)
    kiosk.store.health_metrics.add({"user_id": patient, "metric_type": "heart_rate", "value": 70, "unit": "bpm"})
    kiosk.run()
    seen = _health(db, admin)[kiosk.store.device_id]
    assert seen["pending"] == 0 and seen["quarantined"] == 0 and seen["schema_version"] >= 1
    assert seen["last_push_at"] is not None and seen["last_pull_at"] is not None and seen["reported_at"] is not None
    assert seen["name"] == "Front desk" and seen["kind"] == "clinic"
    # An admin of another clinic sees nothing of this kiosk.
    assert kiosk.store.device_id not in _health(db, stranger_admin)


def test_quarantined_change_is_reported_with_its_reason(devices, db):
    clinic = tenancy_seed.clinic(db)
    nurse, admin = tenancy_seed.staff(db, clinic, "nurse"), tenancy_seed.staff(db, clinic, "admin")
    kiosk = _kiosk(devices, clinic, nurse)
    outsider = uuid.uuid4()  # not registered at the clinic: the server refuses the nurse's write for them
    kiosk.store.health_metrics.add({"user_id": outsider, "metric_type": "heart_rate", "value": 70, "unit": "bpm"})
    kiosk.run()
    assert len(outbox.quarantined(kiosk.store)) == 1
    seen = _health(db, admin)[kiosk.store.device_id]
    assert seen["quarantined"] == 1
    assert seen["quarantine"][0]["table"] == "health_metrics" and seen["quarantine"][0]["code"]


def test_report_must_be_signed_by_that_device(devices, db, http):
    user = uuid.uuid4()
    mine, other = devices.new(user), devices.new(user)
    r = http.post(f"/v1/devices/{mine.store.device_id}/report", json={"pending": 3}, headers=testing.auth(user))
    assert r.status_code in (400, 401, 403) and r.json()["error"]["code"].startswith("DEVICE_PROOF"), r.text
    # Signed by the other device of the same user, naming this one: refused.
    try:
        other._request("POST", f"/v1/devices/{mine.store.device_id}/report", sign=True, json={"pending": 3})
        raise AssertionError("a report for another device was accepted")
    except HealthSyncError as exc:
        assert exc.code == "FORBIDDEN"
    assert mine.report() is True
    with db.admin() as conn:
        row = conn.execute("SELECT pending, user_id FROM device_reports WHERE device_id = %s",
                           (mine.store.device_id,)).fetchone()
    assert row == {"pending": 0, "user_id": user}
