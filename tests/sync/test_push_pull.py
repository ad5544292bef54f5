"""Push and pull end to end: a real edge store, the real FastAPI app, a real Postgres with RLS."""
from __future__ import annotations

import datetime as dt
import secrets
import uuid

import pytest

from edge import outbox


def _now():
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


def test_symptom_travels_from_one_device_to_another(devices, db):
    user = uuid.uuid4()
    a, b = devices.new(user), devices.new(user)
    s = a.store.symptoms.add({"user_id": user, "description": "dry cough", "severity": 4, "recorded_at": _now()})
    res = a.run()
    assert (res.accepted, res.rejected, outbox.pending_count(a.store)) == (1, 0, 0)
    b.run()
    got = b.store.symptoms.get(s.id)
    assert got.description == "dry cough" and got.severity == 4
    # Remote rows are not captured again on the receiving device.
    assert outbox.pending_count(b.store) == 0
    with db.session("service_role", {"role": "service_role"}) as conn:
        row = conn.execute("SELECT description, origin_device FROM symptoms WHERE id=%s", (s.id,)).fetchone()
        audit = conn.execute("SELECT count(*) AS n FROM audit_log WHERE row_id=%s AND action='sync_insert'",
                             (s.id,)).fetchone()
    assert row["description"] == "dry cough" and str(row["origin_device"]) == a.store.device_id
    assert audit["n"] == 1


def test_profile_columns_merge_last_writer_wins(devices):
    user = uuid.uuid4()
    a, b = devices.new(user), devices.new(user)
    a.store.users.add({"id": user, "full_name": "Ann"})
    a.run()
    b.run()
    b.store.users.update(user, phone="555-0100")   # offline on b
    a.store.users.update(user, full_name="Ann Lee")  # offline on a, later clock
    a.run(), b.run(), a.run()
    for d in (a, b):
        u = d.store.users.get(user)
        assert (u.full_name, u.phone) == ("Ann Lee", "555-0100")


def test_family_members_added_on_two_devices_both_survive(devices):
    user = uuid.uuid4()
    a, b = devices.new(user), devices.new(user)
    g = a.store.family_graph.add({"user_id": user, "members": {"m1": {"relation": "mother"}}})
    a.run(), b.run()
    a.store.family_graph.update(g.id, members={"m2": {"relation": "father"}})
    b.store.family_graph.update(g.id, members={"m3": {"relation": "sister"}, "m1": None})
    a.run(), b.run(), a.run()
    for d in (a, b):
        assert set(d.store.family_graph.get(g.id).members) == {"m2", "m3"}


def test_illegal_appointment_transition_is_quarantined_and_repaired(devices):
    user = uuid.uuid4()
    a, b = devices.new(user), devices.new(user)
    appt = a.store.appointments.add({"patient_id": user, "doctor_id": uuid.uuid4(),
                                     "scheduled_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)})
    a.run(), b.run()
    a.store.appointments.update(appt.id, status="cancelled")
    b.store.appointments.update(appt.id, status="confirmed")
    b.store.appointments.update(appt.id, status="completed")
    a.run()
    res = b.run()
    # The server holds "cancelled" (a's change arrived first): neither of b's steps is legal from there.
    assert (res.rejected, res.accepted) == (2, 0)
    q = outbox.quarantined(b.store)
    assert [x.code for x in q] == ["ILLEGAL_TRANSITION", "ILLEGAL_TRANSITION"]
    assert "cancelled" in q[0].reason
    assert b.store.appointments.get(appt.id).status == "cancelled"  # repaired from the receipt's server row
    assert outbox.pending_count(b.store) == 0


def test_a_booking_without_an_open_bid_is_quarantined_and_repaired_from_the_receipt(devices, db):
    """A patient's offline 'booked' names no bid: the booking trigger refuses it, and the receipt's server row puts
    the request back at once (before, the row stayed 'booked' on the device until a checksum repair)."""
    user = uuid.uuid4()
    a = devices.new(user)
    appt = a.store.appointments.add({"patient_id": user, "status": "requested"})
    a.run()
    a.store.appointments.update(appt.id, status="booked")
    res = a.run()  # within the verify interval: no checksums, so only the receipt can repair the row
    assert res.rejected == 1 and res.repaired == []
    assert [x.code for x in outbox.quarantined(a.store)] == ["SYNC_REJECTED_DB"]
    assert "open bid" in outbox.quarantined(a.store)[0].reason
    assert a.store.appointments.get(appt.id).status == "requested"


def test_replayed_changeset_gets_duplicate_receipts(devices, http):
    from edge.device_keys import device_keys, server_pin
    from protocol import changeset
    from sync_server import testing

    user = uuid.uuid4()
    a = devices.new(user)
    a.store.symptoms.add({"user_id": user, "description": "x", "severity": 1, "recorded_at": _now()})
    pin, keys = server_pin(a.store), device_keys(a.store)
    _, data = changeset.seal(outbox.pending(a.store), device_id=a.store.device_id, user_id=pin.user_id,
                             signing_key=keys.signing, server_public_key=pin.public_key)
    first = http.post("/v1/sync/push", content=data, headers=testing.auth(user)).json()["data"]
    again = http.post("/v1/sync/push", content=data, headers=testing.auth(user)).json()["data"]
    assert [r["status"] for r in first["receipts"]] == ["accepted"]
    assert [r["status"] for r in again["receipts"]] == ["duplicate"]


def test_doctors_seeded_on_the_server_are_pulled_read_only(devices, db):
    doctor = uuid.uuid4()
    with db.session("service_role", {"role": "service_role"}) as conn:
        conn.execute("INSERT INTO doctors (id, full_name, specialty, hlc) VALUES (%s, 'Dr Seed', 'cardiology', "
                     "'seed')", (doctor,))
    d = devices.new(uuid.uuid4())
    d.run()
    assert d.store.doctors.get(doctor).full_name == "Dr Seed"
    assert outbox.pending_count(d.store) == 0


def test_push_shrinks_changesets_that_exceed_the_body_limit(pg_url, tmp_path):
    from .conftest import devices_on_own_server

    user = uuid.uuid4()
    with devices_on_own_server(pg_url, tmp_path, max_body_bytes=30_000) as devs:
        d = devs.new(user)
        for _ in range(60):  # ~1 KB of incompressible text each: one 60-change changeset is ~60 KB
            d.store.symptoms.add({"user_id": user, "description": secrets.token_hex(500), "severity": 1,
                                  "recorded_at": _now()})
        statuses = []
        send = d.http.request
        d.http.request = lambda *a, **k: statuses.append((r := send(*a, **k)).status_code) or r
        assert d.run().accepted == 60
        assert 413 in statuses and statuses[-1] == 200


def test_watch_backs_off_while_unreachable_and_syncs_when_back(devices, http, monkeypatch):
    import httpx

    from edge import sync_client

    user = uuid.uuid4()
    d = devices.new(user)
    d.store.symptoms.add({"user_id": user, "description": "queued", "severity": 1, "recorded_at": _now()})
    real = d.http.request
    calls = {"n": 0}

    def flaky(*a, **k):  # the first 4 requests find no server
        calls["n"] += 1
        if calls["n"] <= 4:
            raise httpx.ConnectError("connection refused")
        return real(*a, **k)

    d.http.request = flaky
    sleeps, rounds = [], []
    monkeypatch.setattr(sync_client.time, "sleep", sleeps.append)
    d.watch(interval_s=1.0, max_rounds=3, on_round=lambda r, e: rounds.append((r, e)))
    # attempts=2 per request: round 1's push and its pull (which runs even though the push failed) are refused
    # twice each; round 2 goes through.
    assert [e is not None for _, e in rounds] == [True, False, False]
    # Between rounds (tenacity's sub-second retry naps aside): doubled after the failure, then back to 1 s.
    assert [s for s in sleeps if s >= 1.0] == [2.0, 1.0, 1.0]
    assert outbox.pending_count(d.store) == 0
    assert sync_client.status(d.store)["last_synced_at"]


def test_awkward_text_survives_the_copy_path_unchanged(devices):
    user = uuid.uuid4()
    a, b = devices.new(user), devices.new(user)
    text = 'tab\there\nnew line\r\\N back\\slash "quoted" naïve 痛み ✓'
    s = a.store.symptoms.add({"user_id": user, "description": text, "severity": 3, "recorded_at": _now(),
                              "duration_days": 0.1, "triage": {"note": text, "levels": [1, 2.5, None, True]}})
    a.run()
    b.run()
    got = b.store.symptoms.get(s.id)
    assert got.description == text and got.triage == {"note": text, "levels": [1, 2.5, None, True]}
    assert got.duration_days == 0.1 and got.recorded_at == s.recorded_at


def test_pull_cut_between_pages_resumes_from_the_saved_cursor(devices):
    import httpx

    from edge.sync_client import SyncUnavailableError, status

    user = uuid.uuid4()
    a = devices.new(user)
    ids = {str(a.store.symptoms.add({"user_id": user, "description": f"s{i}", "severity": 1,
                                     "recorded_at": _now()}).id) for i in range(7)}
    a.run()
    b = devices.new(user, page_size=2)
    real, pulls = b.http.request, []

    def cut_third_page(method, url, **kw):
        if url.endswith("/pull"):
            pulls.append(kw["params"]["cursor"])
            if len(pulls) >= 3 and len(pulls) <= 4:  # both attempts of the third page fail
                raise httpx.ReadTimeout("cut")
        return real(method, url, **kw)

    b.http.request = cut_third_page
    with pytest.raises(SyncUnavailableError):
        b.run()
    saved = status(b.store)["cursor"]
    assert saved == pulls[2] and saved > 0  # the two applied pages are kept, with their cursor
    # Exactly two pages (4 rows, whatever tables other tests left visible, e.g. doctors) were applied.
    applied = sum(b.store.query(f"SELECT count(*) FROM {t}")[0][0] for t in ("symptoms", "doctors"))
    assert applied == 4
    b.run()
    assert pulls[4] == saved  # resumed where it stopped, not from zero
    assert {str(s.id) for s in b.store.symptoms.list(limit=100)} >= ids


def test_pushes_of_one_user_are_serialized(devices, db):
    """While one push of a user holds the per-user lock, a second push of that user waits (so change_seq values
    become visible in order and a pull by cursor cannot skip a late commit)."""
    import threading

    from sync_server.reconcile import PUSH_LOCK_NAMESPACE

    user = uuid.uuid4()
    a = devices.new(user)
    a.store.symptoms.add({"user_id": user, "description": "x", "severity": 1, "recorded_at": _now()})
    done = threading.Event()
    with db.session("service_role", {"role": "service_role"}) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (PUSH_LOCK_NAMESPACE, str(user)))
        worker = threading.Thread(target=lambda: (a.push(), done.set()))
        worker.start()
        assert not done.wait(0.5)  # blocked behind the held lock
    worker.join(30)
    assert done.is_set() and outbox.pending_count(a.store) == 0
