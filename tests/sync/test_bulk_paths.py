"""The bulk paths kept honest: batch validation, the one-statement insert + audit, and the edge's bulk apply."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import changeset, merge
from protocol.changeset import Change
from protocol.errors import ChangesetError
from protocol.schema import new_id
from sync_server import reconcile, sync_service


class _Device:
    """An enrolled device pushing straight to the service (no HTTP), as the ingest benchmark does."""

    def __init__(self, db):
        self.db, self.user, self.id = db, str(uuid.uuid4()), str(uuid.uuid4())
        self.signer, self.server_key = Ed25519PrivateKey.generate(), changeset.new_server_key()
        self.claims = {"sub": self.user, "role": "authenticated", "app_metadata": {"role": "patient"}}
        self.seq = 0
        with db.session("authenticated", self.claims) as conn:
            sync_service.enroll(conn, self.user, self.id, changeset.raw_public(self.signer), b"\x01" * 32, "t",
                                self.server_key)

    def change(self, **overrides) -> Change:
        self.seq += 1
        doc = {"id": str(new_id()), "user_id": self.user, "metric_type": "heart_rate", "unit": "bpm",
               "value": 72.0, "recorded_at": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
               "source": "wearable", "notes": None, **overrides}
        hlc = f"{int(dt.datetime.now(dt.UTC).timestamp() * 1000):015d}:{self.seq:06d}:{self.id}"
        return Change(str(new_id()), "health_metrics", doc["id"], "insert", doc, hlc)

    def push(self, changes: list[Change]) -> dict:
        blob = changeset.seal(changes, device_id=self.id, user_id=self.user, signing_key=self.signer,
                              server_public_key=changeset.raw_public(self.server_key))[1]
        with self.db.session("authenticated", self.claims) as conn:
            return sync_service.push(conn, blob, reconcile.Caller(self.user, request_id="req-1"), self.server_key)


@pytest.fixture
def device(db):
    return _Device(db)


def _audits(db, row_ids: list[str]) -> list[dict]:
    with db.session("service_role", {"role": "service_role"}) as conn:
        return conn.execute("SELECT row_id::text AS row_id, actor::text AS actor, subject_id::text AS subject, "
                            "device_id::text AS device, request_id, action, table_name FROM audit_log "
                            "WHERE row_id = ANY(%s::uuid[])", (row_ids,)).fetchall()


def test_mixed_batch_gets_one_receipt_each_and_audits_only_what_was_written(device, db):
    good = [device.change(value=60.0 + i) for i in range(5)]
    invalid = device.change(value=900.0)  # outside 20-250 bpm: pydantic refuses it
    foreign = device.change(user_id=str(uuid.uuid4()))  # another user's row
    nul = device.change(notes="a\x00b")  # pydantic accepts it, Postgres text cannot hold NUL
    changes = [good[0], invalid, good[1], foreign, good[2], nul, good[3], good[4]]
    out = device.push(changes)
    by_id = {r["change_id"]: r for r in out["receipts"]}
    assert [r["change_id"] for r in out["receipts"]] == [c.change_id for c in changes]
    assert all(by_id[c.change_id]["status"] == "accepted" for c in good)
    assert (by_id[invalid.change_id]["status"], by_id[invalid.change_id]["code"]) == ("rejected",
                                                                                       "VALIDATION_FAILED")
    assert "value" in by_id[invalid.change_id]["reason"]
    assert by_id[foreign.change_id]["code"] == "SYNC_REJECTED_RLS"
    assert by_id[nul.change_id]["code"] == "SYNC_REJECTED_DB"
    audits = _audits(db, [c.pk for c in changes])
    assert sorted(a["row_id"] for a in audits) == sorted(c.pk for c in good)
    assert {(a["actor"], a["subject"], a["device"], a["request_id"], a["action"], a["table_name"])
            for a in audits} == {(device.user, device.user, device.id, "req-1", "sync_insert", "health_metrics")}


def test_replay_is_all_duplicates_and_adds_no_audit_rows(device, db):
    changes = [device.change(value=70.0 + i) for i in range(3)]
    assert device.push(changes)["counts"] == {"accepted": 3}
    assert device.push(changes)["counts"] == {"duplicate": 3}
    assert len(_audits(db, [c.pk for c in changes])) == 3


@pytest.mark.parametrize("filler", [0, reconcile.VALUES_MAX_ROWS])  # the one-statement path and the COPY path
def test_one_id_twice_in_a_changeset_is_accepted_once_and_then_a_duplicate(device, db, filler):
    """Only the first record of an id goes in: the second must not be answered `accepted` (its device would take a
    write that was never stored as applied)."""
    first, later = device.change(value=70.0), device.change(value=71.0)
    again = Change(later.change_id, "health_metrics", first.pk, "insert", {**later.columns, "id": first.pk},
                   later.hlc)
    others = [device.change(value=60.0 + i % 50) for i in range(filler)]
    out = device.push([first, *others, again])
    by_id = {r["change_id"]: r["status"] for r in out["receipts"]}
    assert (by_id[first.change_id], by_id[again.change_id]) == ("accepted", "duplicate")
    with db.session("service_role", {"role": "service_role"}) as conn:
        rows = conn.execute("SELECT value FROM health_metrics WHERE id = %s", (first.pk,)).fetchall()
        applied = conn.execute("SELECT count(*) AS n FROM sync_applied WHERE row_id = %s", (first.pk,)).fetchone()
    assert [r["value"] for r in rows] == [70.0] and applied["n"] <= 1
    assert len(_audits(db, [first.pk])) == 1


def test_values_are_stored_as_validated(device, db):
    # 5.5 mmol/L glucose is stored canonically as 99.088 mg/dL (1 mmol/L = 18.016 mg/dL, MW of glucose 180.16).
    c = device.change(metric_type="blood_glucose", unit="mmol/L", value=5.5, notes="  fasting  ")
    assert device.push([c])["counts"] == {"accepted": 1}
    with db.session("service_role", {"role": "service_role"}) as conn:
        row = conn.execute("SELECT unit, value, notes, hlc, col_clocks, deleted, origin_device::text AS dev "
                           "FROM health_metrics WHERE id=%s", (c.pk,)).fetchone()
    assert (row["unit"], row["value"], row["notes"]) == ("mg/dL", pytest.approx(99.088), "fasting")
    assert (row["hlc"], row["col_clocks"], row["deleted"], row["dev"]) == (c.hlc, {}, False, device.id)


def test_gc_pause_is_undone_by_the_last_of_overlapping_pushes():
    import gc

    before = gc.get_threshold()
    outer = merge.gc_paused()
    outer.__enter__()
    with merge.gc_paused():
        assert gc.isenabled() and gc.get_threshold()[0] == merge.BULK_GC_THRESHOLD
    assert gc.get_threshold()[0] == merge.BULK_GC_THRESHOLD  # the outer push is still running
    outer.__exit__(None, None, None)
    assert gc.get_threshold() == before and gc.isenabled()


def test_gc_pause_is_undone_when_the_push_fails(device):
    import gc

    device.signer = Ed25519PrivateKey.generate()  # not the enrolled key: refused inside the paused section
    with pytest.raises(ChangesetError) as err:
        device.push([device.change()])
    assert err.value.code == "CHANGESET_BAD_SIGNATURE"
    assert gc.isenabled() and gc.get_threshold()[0] < merge.BULK_GC_THRESHOLD


@pytest.mark.parametrize("values_max_rows", [0, 100], ids=["copy-chunks", "one-values-insert"])
def test_row_refused_by_the_insert_itself_sinks_only_that_row(device, db, monkeypatch, values_max_rows):
    # A constraint pydantic does not know makes the pipelined INSERT of a later chunk (or the one INSERT … VALUES
    # of a small push) fail mid-way.
    monkeypatch.setattr(reconcile, "INSERT_CHUNK", 2)
    monkeypatch.setattr(reconcile, "VALUES_MAX_ROWS", values_max_rows)
    with db.admin() as conn:
        conn.execute("ALTER TABLE health_metrics ADD CONSTRAINT test_refuse CHECK (notes IS DISTINCT FROM "
                     "'refuse-me') NOT VALID")
    try:
        changes = [device.change(value=60.0 + i) for i in range(5)]
        changes.insert(3, device.change(notes="refuse-me"))
        out = device.push(changes)
    finally:
        with db.admin() as conn:
            conn.execute("ALTER TABLE health_metrics DROP CONSTRAINT test_refuse")
    statuses = [(r["status"], r["code"]) for r in out["receipts"]]
    assert statuses == [("accepted", None)] * 3 + [("rejected", "SYNC_REJECTED_DB")] + [("accepted", None)] * 2
    assert "test_refuse" in out["receipts"][3]["reason"] or "constraint" in out["receipts"][3]["reason"]
    good = [c.pk for c in changes if c.columns["notes"] != "refuse-me"]
    assert sorted(a["row_id"] for a in _audits(db, [c.pk for c in changes])) == sorted(good)
    with db.session("service_role", {"role": "service_role"}) as conn:
        assert conn.execute("SELECT count(*) AS n FROM health_metrics WHERE id = ANY(%s::uuid[])",
                            ([c.pk for c in changes],)).fetchone()["n"] == 5


def test_chunks_are_each_inserted_once(device, db, monkeypatch):
    monkeypatch.setattr(reconcile, "INSERT_CHUNK", 3)
    monkeypatch.setattr(reconcile, "VALUES_MAX_ROWS", 0)  # the COPY path (a push this small takes one VALUES)
    changes = [device.change(value=50.0 + i) for i in range(8)]
    changes[4] = device.change(value=999.0)  # a rejected row inside the second chunk
    out = device.push(changes)
    assert out["counts"] == {"accepted": 7, "rejected": 1}
    assert len(_audits(db, [c.pk for c in changes])) == 7
