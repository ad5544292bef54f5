"""Who wins a merge, checked against a tiny oracle that knows nothing of protocol.merge.

The oracle holds each write as (wall, counter, node) integers and strings and picks the winner with Python's tuple
max: the higher hybrid clock wins, and on an equal clock the higher device id. The merge code compares encoded
text; these tests check that both agree for every column of a profile, every member of a family graph, tombstones
and the appointment state machine, whatever the order and repetition of delivery.
"""
from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.changeset import Change
from protocol.merge import Rejected, RowState, apply_change, merge_rows
from protocol.schema import APPOINTMENT_TRANSITIONS, TABLES, derived_id

# Few walls, counters and nodes, so equal clocks on different devices (ties broken by node) are common.
CLOCK = st.tuples(st.integers(1, 6), st.integers(0, 2), st.sampled_from(["a", "b", "c"]))
START = (0, 0, "0")  # the insert that creates the row, before every other write


def _hlc(clock: tuple[int, int, str]) -> str:
    wall, counter, node = clock
    return f"{wall:015d}:{counter:06d}:{node}"


def _deliver(changes: list, order: list[int], repeats: list[int]) -> list:
    """The changes in a shuffled order with some delivered again (lost answers make devices resend)."""
    return [changes[i] for i in order] + [changes[i % len(changes)] for i in repeats] if changes else []


def _apply_all(table: str, start: RowState, changes: list[Change]) -> RowState:
    state = start
    for c in changes:
        state = apply_change(table, state, c)
    return state


def _winner(writes: list[tuple[tuple[int, int, str], object]]) -> object:
    """The oracle: the value of the write with the greatest (wall, counter, node)."""
    return max(writes, key=lambda w: w[0])[1]


def _orders(n: int):
    return st.tuples(st.permutations(range(n)), st.lists(st.integers(0, 50), max_size=3))


# ---------------------------------------------------------------- users: per column


PROFILE_COLUMNS = ["full_name", "phone", "email"]
UPDATE = st.tuples(st.sampled_from(PROFILE_COLUMNS),
                   st.one_of(st.none(), st.sampled_from(["x", "y", "z"])),  # None is an explicit clear
                   CLOCK)


def _profile_changes(pk, updates):
    return [Change(str(uuid.uuid4()), "users", pk, "update",
                   {col: (f"{val}@example.org" if col == "email" and val else val)}, _hlc(clock))
            for col, val, clock in updates]


def _profile_oracle(updates):
    start = {"full_name": "start", "phone": "p0", "email": "s@example.org"}
    out = {}
    for col in PROFILE_COLUMNS:
        writes = [(START, start[col])] + [(clock, (f"{v}@example.org" if col == "email" and v else v))
                                          for c, v, clock in updates if c == col]
        out[col] = _winner(writes)
    return out


def _profile_start(pk):
    return apply_change("users", None, Change("c0", "users", pk, "insert",
                                              {"id": pk, "full_name": "start", "phone": "p0",
                                               "email": "s@example.org"}, _hlc(START)))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), updates=st.lists(UPDATE, min_size=1, max_size=8, unique_by=lambda u: u[2]))
def test_each_profile_column_takes_the_latest_write_then_the_higher_device(data, updates):
    pk = str(uuid.uuid4())
    order, repeats = data.draw(_orders(len(updates)))
    state = _apply_all("users", _profile_start(pk), _deliver(_profile_changes(pk, updates), order, repeats))
    assert {c: state.doc[c] for c in PROFILE_COLUMNS} == _profile_oracle(updates)
    assert state.hlc == _hlc(max([START] + [u[2] for u in updates]))


@settings(max_examples=200, deadline=None)
@given(updates=st.lists(UPDATE, min_size=1, max_size=8, unique_by=lambda u: u[2]), split=st.data())
def test_two_replicas_merged_either_way_hold_the_oracles_profile(updates, split):
    """Each replica saw some writes; merging their states (as a pull does) gives the oracle's winners."""
    pk = str(uuid.uuid4())
    changes = _profile_changes(pk, updates)
    mine = split.draw(st.lists(st.booleans(), min_size=len(changes), max_size=len(changes)))
    left = _apply_all("users", _profile_start(pk), [c for c, m in zip(changes, mine, strict=True) if m])
    right = _apply_all("users", _profile_start(pk), [c for c, m in zip(changes, mine, strict=True) if not m])
    spec = TABLES["users"]
    for merged in (merge_rows(spec, left, right), merge_rows(spec, right, left)):
        assert {c: merged.doc[c] for c in PROFILE_COLUMNS} == _profile_oracle(updates)


def test_equal_clocks_on_two_devices_go_to_the_higher_device_id():
    """The tie-break spelled out: same wall time and counter, device "b" beats device "a" in any order."""
    pk = str(uuid.uuid4())
    a = Change("ca", "users", pk, "update", {"phone": "from a"}, _hlc((5, 1, "a")))
    b = Change("cb", "users", pk, "update", {"phone": "from b"}, _hlc((5, 1, "b")))
    for seq in ([a, b], [b, a]):
        assert _apply_all("users", _profile_start(pk), seq).doc["phone"] == "from b"


# ---------------------------------------------------------------- family_graph: per member


MEMBER_OP = st.tuples(st.sampled_from(["m0", "m1", "m2", "m3"]),
                      st.one_of(st.none(), st.sampled_from(["mother", "father", "sister", "aunt"])),  # None: removed
                      CLOCK)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), ops=st.lists(MEMBER_OP, min_size=1, max_size=10, unique_by=lambda o: o[2]))
def test_each_family_member_takes_its_latest_write_and_removals_stick(data, ops):
    user = uuid.uuid4()
    pk = str(derived_id("family_graph", user))
    start = apply_change("family_graph", None, Change("c0", "family_graph", pk, "insert",
                                                      {"id": pk, "user_id": str(user),
                                                       "members": {"m0": {"relation": "mother"}}}, _hlc(START)))
    changes = [Change(str(uuid.uuid4()), "family_graph", pk, "update",
                      {"members": {mid: None if rel is None else {"relation": rel}}}, _hlc(clock))
               for mid, rel, clock in ops]
    order, repeats = data.draw(_orders(len(changes)))
    state = _apply_all("family_graph", start, _deliver(changes, order, repeats))
    expected = {}
    for mid in ("m0", "m1", "m2", "m3"):
        writes = [(clock, rel) for m, rel, clock in ops if m == mid] + ([(START, "mother")] if mid == "m0" else [])
        if writes and (rel := _winner(writes)) is not None:
            expected[mid] = rel
    assert {m: v["relation"] for m, v in state.doc["members"].items()} == expected


# ---------------------------------------------------------------- tombstones


@settings(max_examples=200, deadline=None)
@given(data=st.data(), updates=st.lists(UPDATE, min_size=0, max_size=5, unique_by=lambda u: u[2]),
       delete_at=CLOCK)
def test_a_deleted_profile_stays_deleted_whatever_arrives_after(data, updates, delete_at):
    pk = str(uuid.uuid4())
    updates = [u for u in updates if u[2] != delete_at]
    changes = [*_profile_changes(pk, updates), Change("cdel", "users", pk, "delete", None, _hlc(delete_at))]
    order, repeats = data.draw(_orders(len(changes)))
    state = _apply_all("users", _profile_start(pk), _deliver(changes, order, repeats))
    assert state.deleted is True
    assert state.hlc == _hlc(max([START, delete_at] + [u[2] for u in updates]))


@settings(max_examples=100, deadline=None)
@given(updates=st.lists(UPDATE, min_size=0, max_size=5, unique_by=lambda u: u[2]), delete_at=CLOCK,
       table=st.sampled_from(["users", "symptoms"]))
def test_a_replica_that_saw_the_delete_wins_the_merge_either_way(updates, delete_at, table):
    """A pull merging a tombstoned replica with a live one (whichever is local) keeps the tombstone."""
    pk = str(uuid.uuid4())
    if table == "users":
        live = _apply_all("users", _profile_start(pk), _profile_changes(pk, [u for u in updates if u[2] != delete_at]))
    else:
        live = apply_change("symptoms", None, Change("ci", "symptoms", pk, "insert", {
            "id": pk, "user_id": str(uuid.uuid4()), "description": "cough", "severity": 2,
            "recorded_at": "2024-01-01T00:00:00Z"}, _hlc(START)))
    dead = apply_change(table, live, Change("cd", table, pk, "delete", None, _hlc(delete_at)))
    spec = TABLES[table]
    assert merge_rows(spec, live, dead).deleted and merge_rows(spec, dead, live).deleted


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n_inserts=st.integers(1, 3), delete_at=CLOCK)
def test_an_observation_tombstone_is_never_undone_by_a_resent_insert(data, n_inserts, delete_at):
    user, pk = str(uuid.uuid4()), str(uuid.uuid4())
    doc = {"id": pk, "user_id": user, "description": "cough", "severity": 2, "recorded_at": "2024-01-01T00:00:00Z"}
    insert = Change("ci", "symptoms", pk, "insert", doc, _hlc(START))
    resent = [insert] * n_inserts + [Change("cd", "symptoms", pk, "delete", None, _hlc(delete_at))]
    order = data.draw(st.permutations(range(len(resent))))
    state = apply_change("symptoms", None, insert)
    for i in order:
        state = apply_change("symptoms", state, resent[i])
    assert state.deleted is True and state.doc["description"] == "cough"


# ---------------------------------------------------------------- appointments: the server's state machine


STATUS = st.sampled_from(["requested", "confirmed", "cancelled", "completed", "no_show"])


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(st.tuples(STATUS, CLOCK), min_size=1, max_size=8, unique_by=lambda s: s[1]))
def test_appointment_status_follows_only_legal_newer_transitions_in_arrival_order(steps):
    """The oracle walks the transition table in arrival order: an illegal step is refused; a legal one wins only
    with a newer clock than the status has (an older one lost to a later write)."""
    pk, patient = str(uuid.uuid4()), str(uuid.uuid4())
    state = apply_change("appointments", None, Change("c0", "appointments", pk, "insert", {
        "id": pk, "patient_id": patient, "doctor_id": str(uuid.uuid4()),
        "scheduled_at": "2031-01-01T09:00:00Z", "status": "requested"}, _hlc(START)))
    status, clock, path = "requested", START, ["requested"]
    for new, at in steps:
        change = Change(str(uuid.uuid4()), "appointments", pk, "update", {"status": new}, _hlc(at))
        legal = new == status or new in {"requested": {"confirmed", "cancelled"},
                                         "confirmed": {"completed", "cancelled", "no_show"}}.get(status, set())
        if not legal:
            try:
                apply_change("appointments", state, change)
            except Rejected as exc:
                assert exc.code == "ILLEGAL_TRANSITION"
            else:
                raise AssertionError(f"{status} -> {new} was not refused")
            continue
        state = apply_change("appointments", state, change)
        if at > clock:
            status, clock = new, at
            if path[-1] != new:
                path.append(new)
        assert state.doc["status"] == status
    # Whatever arrived, the statuses it went through are a path of the schema's own transition table.
    assert all(b in APPOINTMENT_TRANSITIONS[a] for a, b in zip(path, path[1:], strict=False))
