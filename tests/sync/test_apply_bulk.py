"""The edge's bulk apply of pulled rows writes exactly what the store's own row writer writes, and refuses bad rows."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from edge import pull
from edge.store import _index_value
from protocol.errors import ValidationError
from protocol.hlc import Timestamp
from protocol.schema import new_id, validate

PLUS5 = dt.timezone(dt.timedelta(hours=5))
NODE = "0191d3a4-0000-7000-8000-000000000001"


def _hlc(i: int) -> str:
    return f"{int(dt.datetime.now(dt.UTC).timestamp() * 1000) - 60_000:015d}:{i:06d}:{NODE}"


def _rows(user: str) -> list[dict]:
    doctor, metric, appt = str(new_id()), str(new_id()), str(new_id())
    return [
        {"table": "health_metrics", "pk": metric, "clocks": {}, "hlc": _hlc(1), "deleted": False,
         "doc": {"id": metric, "user_id": user, "metric_type": "blood_glucose", "unit": "mmol/L", "value": 5.5,
                 "recorded_at": "2024-03-01T12:00:00+05:00", "source": "device", "notes": "  fasting  "}},
        {"table": "appointments", "pk": appt, "clocks": {"status": _hlc(2)}, "hlc": _hlc(2), "deleted": False,
         "doc": {"id": appt, "patient_id": user, "doctor_id": doctor, "scheduled_at": "2030-01-02T03:04:05.5Z",
                 "status": "confirmed", "reason": "checkup — ünïcode"}},
        {"table": "users", "pk": user, "clocks": {"full_name": _hlc(3)}, "hlc": _hlc(3), "deleted": False,
         "doc": {"id": user, "full_name": "Ada", "email": "ada@example.org"}},
        {"table": "family_graph", "pk": str(new_id()), "clocks": {"members.m1": _hlc(4)}, "hlc": _hlc(4),
         "deleted": True, "doc": {"user_id": user, "members": {"m1": {"relation": "mother"}}}},
    ]


def _stored(store, table: str, pk: str) -> tuple:
    cols = [r[1] for r in store.query(f"PRAGMA table_info({table})")]
    row = dict(zip(cols, store.query(f"SELECT * FROM {table} WHERE id=?", (pk,))[0], strict=True))
    payload = store.unseal(row.pop("payload"), f"{table}|{pk}")
    return row, payload


def test_bulk_apply_writes_what_the_row_writer_writes(tmp_path, store_key, store):
    from edge.store import Store

    user = str(uuid.uuid4())
    rows = _rows(user)
    rows[3]["doc"]["id"] = rows[3]["pk"]
    assert pull.apply_pulled(store, rows) == 4
    other = Store.open(tmp_path / "other.db", store_key, create=True)
    try:
        with other.transaction() as conn:
            for r in rows:
                other.repo(r["table"])._write_row(conn, validate(r["table"], r["doc"]), r["hlc"], r["clocks"],
                                                  deleted=r["deleted"])
        for r in rows:
            assert _stored(store, r["table"], r["pk"]) == _stored(other, r["table"], r["pk"])
    finally:
        other.close()
    # Checked against hand-written values too, not only against the other writer.
    row, payload = _stored(store, "health_metrics", rows[0]["pk"])
    assert row["recorded_at"] == "2024-03-01T07:00:00.000000Z"  # 12:00 at +05:00 is 07:00 UTC
    assert (payload["unit"], payload["value"], payload["notes"]) == ("mg/dL", pytest.approx(99.088), "fasting")
    row, _ = _stored(store, "appointments", rows[1]["pk"])
    assert (row["owner"], row["doctor_id"], row["status"]) == (user, rows[1]["doc"]["doctor_id"], "confirmed")
    assert row["scheduled_at"] == "2030-01-02T03:04:05.500000Z"
    assert store.query("SELECT count(*) FROM outbox")[0][0] == 0


def test_a_malformed_row_fails_the_page_and_writes_nothing(store):
    user = str(uuid.uuid4())
    rows = [_rows(user)[0], _rows(user)[0]]  # a good row, then a bad one
    rows[1]["pk"] = str(new_id())
    rows[1]["doc"] = {**rows[1]["doc"], "id": rows[1]["pk"], "metric_type": "heart_rate", "unit": "bpm",
                      "value": 900.0}  # outside 20-250 bpm
    with pytest.raises(ValidationError) as err:
        pull.apply_pulled(store, rows)
    assert err.value.field == "value" and "health_metrics" in err.value.message
    assert store.query("SELECT count(*) FROM health_metrics")[0][0] == 0


def test_clock_moves_past_the_newest_pulled_stamp_and_ignores_foreign_stamps(store):
    rows = _rows(str(uuid.uuid4()))[:2]
    rows[1]["hlc"] = "seed-2024"  # rows written outside sync may carry another stamp
    pull.apply_pulled(store, rows)
    assert store.clock.now() > Timestamp.decode(rows[0]["hlc"])


@pytest.mark.parametrize(("value", "text"), [
    (dt.datetime(2024, 3, 1, 12, 0, tzinfo=PLUS5), "2024-03-01T07:00:00.000000Z"),
    (dt.datetime(2024, 3, 1, 12, 0, 0, 7), "2024-03-01T12:00:00.000007Z"),  # naive is read as UTC
    (dt.datetime(999, 1, 2, tzinfo=dt.UTC), "999-01-02T00:00:00.000000Z"),  # strftime's %Y does not pad
])
def test_index_text_of_datetimes(value, text):
    assert _index_value(value) == text
