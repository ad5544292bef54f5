"""Mixed versions: a device on the previous wire format (v1: JSON body, no change ids) syncs beside a v2 device."""
from __future__ import annotations

import datetime as dt
import uuid

import msgpack

from edge import outbox
from edge.device_keys import device_keys, server_pin
from protocol import changeset
from sync_server import testing


def test_v1_and_v2_devices_sync_together(devices, http):
    user = uuid.uuid4()
    old, new = devices.new(user, format_version=1), devices.new(user)
    when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    s1 = old.store.symptoms.add({"user_id": user, "description": "from v1", "severity": 3, "recorded_at": when})
    old.store.users.add({"id": user, "full_name": "Old App"})
    s2 = new.store.symptoms.add({"user_id": user, "description": "from v2", "severity": 5, "recorded_at": when})
    for d in (old, new, old):
        d.run()
    new.store.users.update(user, phone="555-0199")
    old.store.users.update(user, full_name="Old App Renamed")
    for d in (old, new, old, new):
        d.run()
    for d in (old, new):
        assert {s.description for s in d.store.symptoms.list()} == {"from v1", "from v2"}
        u = d.store.users.get(user)
        assert (u.full_name, u.phone) == ("Old App Renamed", "555-0199")
        assert outbox.pending_count(d.store) == 0
    assert old.store.symptoms.get(s2.id).severity == 5 and new.store.symptoms.get(s1.id).severity == 3


def test_server_reports_the_upgrade_and_replays_of_v1_are_duplicates(devices, http):
    user = uuid.uuid4()
    old = devices.new(user, format_version=1)
    old.store.symptoms.add({"user_id": user, "description": "v1", "severity": 1,
                            "recorded_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)})
    pin, keys = server_pin(old.store), device_keys(old.store)
    data = changeset.seal(outbox.pending(old.store), device_id=old.store.device_id, user_id=pin.user_id,
                          signing_key=keys.signing, server_public_key=pin.public_key, format_version=1)[1]
    assert msgpack.unpackb(msgpack.unpackb(data)[0])["v"] == 1
    first = http.post("/v1/sync/push", content=data, headers=testing.auth(user)).json()["data"]
    again = http.post("/v1/sync/push", content=data, headers=testing.auth(user)).json()["data"]
    assert first["upgraded_from"] == 1 and first["counts"] == {"accepted": 1}
    assert again["counts"] == {"duplicate": 1}
