"""One family graph per user: devices that each start one offline end with one graph holding every member."""
from __future__ import annotations

import json
import uuid

import pytest
from typer.testing import CliRunner

from edge.cli import app as edge_cli
from protocol.changeset import Change
from protocol.errors import ValidationError
from protocol.merge import Rejected, apply_change
from protocol.schema import derived_id


def _cli(devices, client, *args):
    key = devices.keys[client.store.path].raw_key.hex()
    r = CliRunner().invoke(edge_cli, [*args, "--store", str(client.store.path), "--json"],
                           env={"HEALTHSYNC_KEY": key})
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_two_fresh_devices_adding_relatives_offline_make_one_graph(devices, db):
    """Fails before the fix: each device made its own graph (a random id), so the server held two documents
    and `twin family show` showed one of them."""
    user = uuid.uuid4()
    a, b = devices.new(user), devices.new(user)
    for d in (a, b):
        d.store.users.add({"id": user})
    mother = _cli(devices, a, "twin", "family", "add", "mother", "--condition", "type 2 diabetes:52")
    father = _cli(devices, b, "twin", "family", "add", "father", "--condition", "myocardial infarction:48")
    assert mother["family_graph_id"] == father["family_graph_id"] == str(derived_id("family_graph", user))
    for d in (a, b, a):
        assert d.run().rejected == 0
    with db.session("service_role", {"role": "service_role"}) as conn:
        rows = conn.execute("SELECT id, members FROM family_graph WHERE user_id=%s", (user,)).fetchall()
    assert len(rows) == 1 and set(rows[0]["members"]) == {mother["member_id"], father["member_id"]}
    for d in (a, b):
        shown = _cli(devices, d, "twin", "family", "show")["members"]
        assert {m["relation"] for m in shown.values()} == {"mother", "father"}
        assert d.store.family_graph.count(owner=user) == 1


def test_a_graph_with_another_id_is_refused_on_both_sides(store, user_id):
    """A graph whose id is not derived from its user would be a second graph (or squat another user's id)."""
    with pytest.raises(ValidationError, match="derived"):
        store.family_graph.add({"id": uuid.uuid4(), "user_id": user_id})
    pk = str(uuid.uuid4())
    with pytest.raises(Rejected, match="derived") as err:
        apply_change("family_graph", None, Change("c", "family_graph", pk, "insert",
                                                  {"id": pk, "user_id": str(user_id)}, f"{1:015d}:000000:a"))
    assert err.value.code == "VALIDATION_FAILED"
