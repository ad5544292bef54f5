"""Clocks: persisted across restarts, corrected by the server's time, skewed stamps refused; lost merges say so."""
from __future__ import annotations

import secrets
import time
import uuid

from edge import outbox
from edge.device_keys import device_keys, server_pin
from edge.keys import KeySource
from edge.store import Store
from edge.sync_client import status
from protocol import changeset
from protocol.hlc import Timestamp
from protocol.receipts import Receipt
from sync_server import testing
from sync_server.config import Settings

MIN, HOUR = 60_000, 3_600_000


def _skewed(ms: int):
    return lambda: int(time.time() * 1000) + ms


def _server_user(db, user):
    with db.session("service_role", {"role": "service_role"}) as conn:
        return dict(conn.execute("SELECT full_name, phone, hlc, col_clocks FROM users WHERE id=%s",
                                 (user,)).fetchone())


def _post(client, http):
    """Seal and send the whole outbox without settling it; the receipts."""
    pin, keys = server_pin(client.store), device_keys(client.store)
    data = changeset.seal(outbox.pending(client.store), device_id=client.store.device_id, user_id=pin.user_id,
                          signing_key=keys.signing, server_public_key=pin.public_key)[1]
    answer = http.post("/v1/sync/push", content=data, headers=testing.auth(pin.user_id)).json()["data"]
    return [Receipt.from_wire(r) for r in answer["receipts"]], answer


# ---------------------------------------------------------------- the clock survives a restart


def test_a_reopened_store_resumes_after_the_newest_clock_it_absorbed(tmp_path):
    """Fails before the fix: with the outbox empty, a reopened store restarted from its (slow) wall clock."""
    key = KeySource(raw_key=secrets.token_bytes(32))
    path = tmp_path / "edge.db"
    remote = Timestamp(int(time.time() * 1000) + MIN, 7, "server-side-device")
    with Store.open(path, key, create=True) as s:
        with s.transaction() as conn:
            s.saw_server_clock(conn, remote)
    with Store.open(path, key) as s:
        s.wall_ms = _skewed(-MIN)  # this device runs a minute behind
        assert s.clock.now() > remote


def test_a_reopened_store_never_reissues_an_older_stamp(tmp_path, user_id):
    """Fails before the fix: once the outbox drained, the clock restarted from the wall clock."""
    key = KeySource(raw_key=secrets.token_bytes(32))
    path = tmp_path / "edge.db"
    with Store.open(path, key, create=True) as s:
        s.wall_ms = _skewed(10 * MIN)
        s.users.add({"id": user_id, "full_name": "x"})
        issued = s.clock.last
        with s.transaction() as conn:
            conn.execute("DELETE FROM outbox")  # as settled receipts do
    with Store.open(path, key) as s:
        assert s.clock.now() > issued


def test_device_a_minute_behind_that_restarts_wins_with_its_later_write(devices, db):
    """The issue's case. Fails before the fix: v2 was stamped before v1, the receipt said `duplicate` and the
    server kept v1. Two nets hold it now (the persisted clock, the learned offset): it passes with either alone,
    and fails with both removed; the two tests above pin the persisted clock on its own."""
    user = uuid.uuid4()
    a, b = devices.new(user), devices.new(user)
    b.store.wall_ms = _skewed(-MIN)
    a.store.users.add({"id": user, "full_name": "v0"})
    a.run()
    a.store.users.update(user, full_name="v1")
    a.run()
    b.run()
    assert b.store.users.get(user).full_name == "v1"
    assert abs(b.store.clock_offset_ms - MIN) < 5_000  # it learned the server's clock is a minute ahead of its own
    b = devices.restart(b, user)
    assert b.store.clock_offset_ms == status(b.store)["clock_offset_ms"] and b.store.clock_offset_ms > 0
    b.store.users.update(user, full_name="v2")
    res = b.run()
    assert (res.accepted, res.duplicate, res.superseded) == (1, 0, 0)
    assert _server_user(db, user)["full_name"] == "v2"
    a.run()
    assert a.store.users.get(user).full_name == "v2"


# ---------------------------------------------------------------- a lost merge is `superseded`


def test_a_change_that_lost_the_merge_is_superseded_and_its_row_takes_the_winner(devices, db):
    """Fails before the fix: the receipt said `duplicate` (as for a replay) and the device kept its losing value
    until a later pull."""
    user = uuid.uuid4()
    a, b = devices.new(user), devices.new(user)
    a.store.users.add({"id": user, "full_name": "Ann", "phone": "555-0000"})
    a.run(), b.run()
    b.store.users.update(user, phone="555-0001")  # offline, earlier
    a.store.wall_ms = _skewed(2_000)
    a.store.users.update(user, phone="555-0002")  # later
    a.run()
    receipts, _ = _post(b, b.http)
    assert [r.status for r in receipts] == ["superseded"]
    assert receipts[0].row["doc"]["phone"] == "555-0002"
    res = b.push()
    assert (res.superseded, res.duplicate, res.accepted) == (1, 0, 0)
    assert outbox.pending_count(b.store) == 0
    assert b.store.users.get(user).phone == "555-0002"  # repaired from the receipt, before any pull
    assert status(b.store)["superseded"] == 1
    assert _server_user(db, user)["phone"] == "555-0002"


def test_a_replay_is_still_a_duplicate(devices, http):
    user = uuid.uuid4()
    a = devices.new(user)
    a.store.users.add({"id": user, "full_name": "Ann"})
    first, _ = _post(a, http)
    again, _ = _post(a, http)
    assert [r.status for r in first] == ["accepted"] and [r.status for r in again] == ["duplicate"]


# ---------------------------------------------------------------- clock skew


def test_server_refuses_a_change_stamped_beyond_the_skew_and_sends_its_time(devices, http):
    """Fails before the fix: only a day ahead was refused (CLOCK_SKEW), so 10 minutes ahead won merges."""
    user = uuid.uuid4()
    a = devices.new(user)
    a.store.wall_ms = _skewed(10 * MIN)
    a.store.users.add({"id": user, "full_name": "ahead"})
    before = int(time.time() * 1000)
    receipts, answer = _post(a, http)
    assert [(r.status, r.code) for r in receipts] == [("rejected", "CLOCK_SKEW")]
    assert before <= answer["server_time_ms"] <= int(time.time() * 1000)
    b = devices.new(user)
    b.store.wall_ms = _skewed(4 * MIN)  # within the default 300 s
    b.store.users.add({"id": user, "full_name": "a little ahead"})
    assert [r.status for r in _post(b, http)[0]] == ["accepted"]


def test_max_skew_is_configured_by_environment():
    assert Settings.from_env({}).max_skew_s == 300
    assert Settings.from_env({"HEALTHSYNC_MAX_SKEW_S": "60"}).max_skew_s == 60


def test_device_a_day_ahead_is_restamped_and_does_not_beat_later_honest_writes(devices, db):
    """Fails before the fix: the change stamped 23 h ahead was accepted and beat every honest write for a day."""
    user = uuid.uuid4()
    ahead, honest = devices.new(user), devices.new(user)
    ahead.store.wall_ms = _skewed(23 * HOUR)
    ahead.store.users.add({"id": user, "full_name": "from the future"})
    res = ahead.run()
    assert (res.restamped, res.accepted, res.rejected) == (1, 1, 0)
    assert not outbox.quarantined(ahead.store)
    stamp = Timestamp.decode(_server_user(db, user)["hlc"])
    assert abs(stamp.wall_ms - time.time() * 1000) < 5 * MIN  # stamped by the server's time, not 23 h ahead
    assert abs(ahead.store.clock_offset_ms + 23 * HOUR) < MIN  # the offset it learned
    honest.run()
    honest.store.users.update(user, full_name="honest, later")
    honest.run()
    ahead.run()
    assert _server_user(db, user)["full_name"] == "honest, later"
    assert ahead.store.users.get(user).full_name == "honest, later"
    # From now on it stamps by the server's time: its next write goes through without a refusal.
    ahead.store.users.update(user, phone="555-0100")
    res = ahead.run()
    assert (res.restamped, res.accepted) == (0, 1)
    assert ahead.store.users.get(user).phone == "555-0100" and _server_user(db, user)["phone"] == "555-0100"


def test_a_change_refused_again_after_its_restamp_is_quarantined(devices, http, monkeypatch):
    """The safety net against a re-stamp loop: a change is re-stamped once per push, then quarantined."""
    user = uuid.uuid4()
    a = devices.new(user)
    a.store.wall_ms = _skewed(HOUR)
    monkeypatch.setattr(a, "_learn_offset", lambda *args: None)  # a device that ignores the server's time
    a.store.users.add({"id": user, "full_name": "x"})
    res = a.push()
    assert (res.restamped, res.rejected) == (1, 1)
    assert [q.code for q in outbox.quarantined(a.store)] == ["CLOCK_SKEW"]


def test_apps_on_the_v1_format_read_a_lost_merge_as_a_duplicate(devices, http):
    """v1 apps know no `superseded` and would keep such a change queued for ever: to them it is a duplicate."""
    user = uuid.uuid4()
    new, old = devices.new(user), devices.new(user, format_version=1)
    new.store.users.add({"id": user, "full_name": "Ann"})
    new.run(), old.run()
    old.store.users.update(user, phone="555-0001")
    new.store.wall_ms = _skewed(2_000)
    new.store.users.update(user, phone="555-0002")
    new.run()
    res = old.run()
    assert (res.duplicate, res.superseded, res.rejected) == (1, 0, 0)
    assert old.store.users.get(user).phone == "555-0002"


def test_a_device_that_ran_ahead_offline_and_then_pulled_is_not_left_stuck(devices):
    """Found by the soak. A device whose wall clock ran 23 h ahead while offline updates a profile; a pull then
    brings the same row (changed by another device) and merges it with the pending change. The merged row carries
    our own +23 h stamp: taken as "seen from the server", it became the floor the clock could not be rewound
    below, so the re-stamped change was refused again and quarantined for ever. Only the server's stamps count."""
    user = uuid.uuid4()
    a, b = devices.new(user), devices.new(user)
    a.store.users.add({"id": user, "full_name": "Ann"})
    a.run(), b.run()
    a.store.wall_ms = lambda: int(time.time() * 1000) + 23 * 3600 * 1000
    a.store.users.update(user, phone="555-0100")  # stamped a day ahead, offline
    b.store.users.update(user, full_name="Ann B")
    b.run()
    a.pull()  # the row comes back while a's change is pending: merged per column
    a.store.wall_ms = lambda: int(time.time() * 1000)  # the clock is put right
    a.run()
    assert outbox.quarantined(a.store) == [] and outbox.pending_count(a.store) == 0
    b.run()
    assert b.store.users.get(user).phone == "555-0100"
