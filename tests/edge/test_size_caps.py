"""Size caps of the shared schemas: an oversized record is refused when written, with the field to shorten named;
rows the server already holds are not (a row stored before the caps must still pull)."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from edge import outbox, pull
from protocol.errors import ValidationError
from protocol.schema import MAX_DETAIL_BYTES, MAX_RECORD_BYTES, validate


def _event(user_id, data):
    return {"user_id": user_id, "event_type": "scan", "data": data}


def test_a_2_6_mb_event_is_refused_at_write_naming_the_field(store, user_id):
    """Before the caps the store took it, and it halted the device's sync (issue 9 item 3)."""
    with pytest.raises(ValidationError) as err:
        store.health_events.add(_event(user_id, {"image": "A" * 2_600_000}))
    assert err.value.field == "data"
    assert f"{MAX_DETAIL_BYTES:,}-byte limit" in err.value.message
    assert store.health_events.count() == 0 and outbox.pending_count(store) == 0


@pytest.mark.parametrize("table, data, field", [
    ("symptoms", {"description": "x", "severity": 1, "triage": {"t": "x" * MAX_DETAIL_BYTES}}, "triage"),
    ("symptoms", {"description": "x", "severity": 1, "voice_analysis": {"t": "x" * MAX_DETAIL_BYTES}},
     "voice_analysis"),
    ("symptoms", {"description": "x", "severity": 1, "audio_path": "/" + "a" * 2000}, "audio_path"),
    ("therapy_sessions", {"exercise": "squat", "reps": 1, "score": 1, "duration_s": 1,
                          "details": {"t": "x" * MAX_DETAIL_BYTES}}, "details"),
    ("predictions", {"disease": "d", "model_name": "m", "model_version": "1", "inputs_hash": "0" * 64,
                     "details": {"t": "é" * (MAX_DETAIL_BYTES // 2)}}, "details"),  # UTF-8 bytes, not characters
])
def test_each_free_form_field_is_capped(table, data, field):
    with pytest.raises(ValidationError) as err:
        validate(table, {"user_id": uuid.uuid4(), **data})
    assert err.value.field == field


def test_a_record_over_the_cap_names_its_largest_field():
    # Each member is small, so only the whole-record cap can catch this graph.
    members = {str(i): {"relation": "cousin", "name": "n" * 200} for i in range(MAX_RECORD_BYTES // 200)}
    with pytest.raises(ValidationError) as err:
        validate("family_graph", {"user_id": uuid.uuid4(), "members": members})
    assert err.value.field == "members" and f"{MAX_RECORD_BYTES:,}-byte limit" in err.value.message
    fewer = dict(list(members.items())[:100])
    assert len(validate("family_graph", {"user_id": uuid.uuid4(), "members": fewer}).members) == 100


def test_update_is_capped_too(store, user_id):
    graph = store.family_graph.add({"user_id": user_id, "members": {"m": {"relation": "mother"}}})
    big = {str(i): {"relation": "cousin", "name": "n" * 200} for i in range(MAX_RECORD_BYTES // 200)}
    with pytest.raises(ValidationError):
        store.family_graph.update(graph.id, members=big)
    assert set(store.family_graph.get(graph.id).members) == {"m"}


def test_a_row_the_server_already_holds_still_pulls(store, user_id):
    """A row stored before the caps (the server took up to its body limit, compressed) is applied, not refused:
    refusing it would fail that page, and every pull after it, for good."""
    row_id = str(uuid.uuid4())
    doc = {"id": row_id, "user_id": str(user_id), "event_type": "scan",
           "occurred_at": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
           "data": {"image": "A" * 2_600_000}, "supersedes": None}
    hlc = store.clock.now().encode()
    n = pull.apply_pulled(store, [{"table": "health_events", "pk": row_id, "doc": doc, "clocks": {}, "hlc": hlc,
                                   "deleted": False}])
    assert n == 1 and len(store.health_events.get(row_id).data["image"]) == 2_600_000
    with pytest.raises(ValidationError):
        validate("health_events", doc)  # as a new write it is still refused
