"""Isolation between clinics, proved on real Postgres: for random clinics, memberships, registrations, appointments
and rows, every user's view through the API and through pull equals an oracle computed here in plain Python from
the memberships (independently of the SQL in migration 0051), and so does what each may write."""
from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sync import tenancy_world as tw

CARE_WINDOW_DAYS = 90  # app.settings care_window_days, the default
WRITES_CLINICAL = {"health_metrics", "symptoms", "predictions", "appointments"}


def oracle_read(world: tw.World, user: uuid.UUID) -> set[uuid.UUID]:
    """The patients whose rows `user` may read: themselves; the active registrations of any clinic where they are
    staff; with a doctor's token, the patients with an appointment with them in the care window."""
    out = {user}
    my_clinics = {c for (c, u) in world.staff if u == user}
    out |= {p for (c, p), status in world.registrations.items() if c in my_clinics and status == "active"}
    if world.roles.get(user) == "doctor":
        mine = {d for d, u in world.doctors.items() if u == user}
        out |= {p for d, p, days_ago in world.appointments if d in mine and days_ago <= CARE_WINDOW_DAYS}
    return out


def oracle_write(world: tw.World, user: uuid.UUID, table: str) -> set[uuid.UUID]:
    """The patients whose `table` rows `user` may write: themselves; as nurse or admin of a clinic its registered
    patients; as a doctor, clinical tables only, for the patients in their care (clinic or appointment)."""
    out = {user}
    for (c, u), role in world.staff.items():
        if u != user:
            continue
        registered = {p for (c2, p), s in world.registrations.items() if c2 == c and s == "active"}
        if role in ("nurse", "admin") or (role == "doctor" and table in WRITES_CLINICAL):
            out |= registered
    if world.roles.get(user) == "doctor" and table in WRITES_CLINICAL:
        mine = {d for d, u in world.doctors.items() if u == user}
        out |= {p for d, p, days_ago in world.appointments if d in mine and days_ago <= CARE_WINDOW_DAYS}
    return out


@st.composite
def worlds(draw):
    n_clinics = draw(st.integers(1, 3))
    n_patients = draw(st.integers(1, 4))
    n_staff = draw(st.integers(1, 4))
    return {
        "clinics": n_clinics,
        "patients": n_patients,
        # Each staff member: one role (their token's) and the clinics they work at.
        "staff": [(draw(st.sampled_from(["nurse", "doctor", "admin"])),
                   draw(st.sets(st.integers(0, n_clinics - 1), max_size=2))) for _ in range(n_staff)],
        "registrations": draw(st.dictionaries(st.tuples(st.integers(0, n_clinics - 1), st.integers(0, n_patients - 1)),
                                              st.sampled_from(["active", "active", "withdrawn"]), max_size=6)),
        # (staff index, patient index, days ago: in the window, long past, in the future)
        "appointments": draw(st.lists(st.tuples(st.integers(0, n_staff - 1), st.integers(0, n_patients - 1),
                                                st.sampled_from([1, 30, 200, -5])), max_size=4)),
        "metrics": draw(st.lists(st.integers(0, n_patients), min_size=1, max_size=8)),  # n_patients: a staff row
        "writer": draw(st.integers(0, n_staff + n_patients - 1)),
        "subject": draw(st.integers(0, n_patients - 1)),
    }


def build(db, spec) -> tw.World:
    world = tw.World(clinics=tw.make_clinics(db, spec["clinics"]))
    patients = [uuid.uuid4() for _ in range(spec["patients"])]
    staff = [uuid.uuid4() for _ in spec["staff"]]
    for p in patients:
        world.roles[p] = "patient"
    for s, (role, clinics) in zip(staff, spec["staff"], strict=True):
        world.roles[s] = role
        for c in clinics:
            world.staff[(world.clinics[c], s)] = role
        if role == "doctor":
            world.doctors[uuid.uuid4()] = s
    for (c, p), status in spec["registrations"].items():
        world.registrations[(world.clinics[c], patients[p])] = status
    doctor_of = {u: d for d, u in world.doctors.items()}
    for s, p, days_ago in spec["appointments"]:
        if staff[s] in doctor_of:
            world.appointments.append((doctor_of[staff[s]], patients[p], days_ago))
    for owner in spec["metrics"]:
        world.metrics[uuid.uuid4()] = patients[owner] if owner < len(patients) else staff[0]
    tw.seed(db, world)
    return world


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(spec=worlds())
def test_every_users_view_through_api_and_pull_equals_the_oracle(http, db, spec):
    world = build(db, spec)
    users = list(world.roles)
    for user in users:
        role = world.roles[user]
        expected = {str(r) for r, owner in world.metrics.items() if owner in oracle_read(world, user)}
        assert tw.listed(http, user, role) == expected, (role, spec)
        r, device = tw.enroll(http, user, role)
        assert r.status_code == 201, r.text
        assert set(tw.pulled(http, device)) == expected, (role, spec)
        # The helpers agree too: app.my_scope() (read) and app.in_scope() per patient.
        with db.session("authenticated", {"sub": str(user), "role": "authenticated",
                                          "app_metadata": {"role": role}}) as conn:
            scope = {r["s"] for r in conn.execute("SELECT app.my_scope() AS s")}
            assert scope | {user} == oracle_read(world, user), (role, spec)
            for p in (u for u in users if world.roles[u] == "patient"):
                inside = conn.execute("SELECT app.in_scope(%s) AS x", (p,)).fetchone()["x"]
                assert inside == (p in oracle_read(world, user)), (role, spec)
    # One write per example: recording a metric for a patient succeeds exactly when the oracle says so.
    writer, subject = users[spec["writer"] % len(users)], [u for u in users if world.roles[u] == "patient"][
        spec["subject"]]
    r = http.post("/api/v1/health/metrics", json={"metric_type": "weight", "value": 70, "user_id": str(subject)},
                  headers=tw.testing.auth(writer, world.roles[writer]))
    allowed = subject in oracle_write(world, writer, "health_metrics")
    assert r.status_code == (201 if allowed else 403), (r.text, world.roles[writer], spec)
