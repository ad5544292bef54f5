"""A second device joining an existing user takes the profile the server has; it never pushes nulls over it."""
from __future__ import annotations

import json
import secrets
import uuid

from typer.testing import CliRunner

from edge import outbox
from edge.cli import app as edge_cli
from edge.keys import KeySource
from edge.store import Store
from protocol.changeset import Change
from protocol.merge import apply_change

PROFILE = {"full_name": "Ann Lee", "email": "ann@example.org", "phone": "555-0101", "date_of_birth": "1970-03-04",
           "sex": "female"}


def _server_profile(db, user):
    with db.session("service_role", {"role": "service_role"}) as conn:
        row = conn.execute("SELECT full_name, email, phone, date_of_birth::text, sex FROM users WHERE id=%s",
                           (user,)).fetchone()
    return dict(row)


def test_second_device_init_with_user_id_keeps_every_profile_value(devices, db, tmp_path):
    """Fails before the fix: device 2's insert stamped every column, so its nulls won last-writer-wins and wiped
    name, email, phone, date of birth and sex on the server and on device 1."""
    user = uuid.uuid4()
    one = devices.new(user)
    one.store.users.add({"id": user, **PROFILE})
    assert one.run().accepted == 1
    assert _server_profile(db, user) == PROFILE

    # Device 2 is initialised as a user would: `healthsync edge init --user-id U` with no name.
    key = secrets.token_bytes(32)
    path = tmp_path / "second.db"
    r = CliRunner().invoke(edge_cli, ["init", "--user-id", str(user), "--store", str(path), "--json"],
                           env={"HEALTHSYNC_KEY": key.hex()})
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["user_id"] == str(user)
    two = devices.client(Store.open(path, KeySource(raw_key=key)), KeySource(raw_key=key), user)
    two.enroll("http://testserver")
    res = two.run()
    assert res.rejected == 0 and outbox.pending_count(two.store) == 0
    one.run()

    assert _server_profile(db, user) == PROFILE
    for device in (one, two):
        got = device.store.users.get(user).model_dump(mode="json")
        assert {k: got[k] for k in PROFILE} == PROFILE


def test_an_insert_stamps_only_the_columns_it_set_and_a_clear_is_an_update(devices, db):
    """The rule: an insert's clock covers the columns given a value; an explicit clear is an update naming the
    column, and it wins like any later write. Fails before the fix (the joining insert wiped the phone)."""
    user = uuid.uuid4()
    one, two = devices.new(user), devices.new(user)
    one.store.users.add({"id": user, **PROFILE})
    one.run()
    two.store.users.add({"id": user, "phone": None, "llm_consent": True})  # joins offline, sets one consent
    two.run()
    one.run()
    assert _server_profile(db, user)["phone"] == "555-0101"  # an insert's null sets nothing
    assert one.store.users.get(user).llm_consent is True  # the column it did set travels
    one.store.users.update(user, phone=None)  # an explicit clear
    one.run(), two.run()
    assert _server_profile(db, user)["phone"] is None
    assert two.store.users.get(user).phone is None


def test_merge_of_a_joining_insert_keeps_set_columns_and_takes_its_own():
    """The pure policy: an insert that arrives after the profile exists takes part only with what it set."""
    pk = str(uuid.uuid4())
    first = apply_change("users", None, Change("c1", "users", pk, "insert", {"id": pk, **PROFILE, "role": "patient"},
                                               f"{100:015d}:000000:a"))
    joined = apply_change("users", first, Change("c2", "users", pk, "insert",
                                                 {"id": pk, "full_name": None, "audio_opt_in": True},
                                                 f"{200:015d}:000000:b"))
    assert {k: joined.doc[k] for k in PROFILE} == PROFILE
    assert joined.doc["audio_opt_in"] is True and joined.clocks["audio_opt_in"] == f"{200:015d}:000000:b"
    assert joined.clocks["full_name"] == f"{100:015d}:000000:a"
