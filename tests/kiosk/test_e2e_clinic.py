"""A clinic's day end to end with real processes: `healthsync server run` on Postgres (embedded auth, 2-second
tokens) and every step through the `healthsync` CLI in child processes.

An operator creates two clinics and their staff; the North clinic's admin enrolls a kiosk, its nurse signs in,
registers three patients, records a reading for each and syncs; each patient's phone redeems its claim code and
pulls exactly its own record; a nurse of the South clinic sees none of it; the North doctor sees all three; the
South doctor sees one patient only once that patient books them; the kiosk keeps syncing past three token expiries,
and a patient who withdraws their share is purged from it after their last reading is on the server.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
import time

import httpx
import pytest

from edge.keys import KeySource
from edge.store import Store
from sync_server import audit, testing
from sync_server.db import Database
from tests.auth.conftest import PASSWORD
from tests.cli_processes import clean_env, hs, hs_ok, server_run

PATIENTS = [("Ada North", "1971-03-04", 71), ("Ben North", "1982-05-06", 72), ("Cyd North", "1993-07-08", 73)]


def _json_docs(text: str) -> list:
    """The JSON documents a `--watch --json` run printed, one per round."""
    decoder, docs, at = json.JSONDecoder(), [], 0
    while (at := len(text) - len(text[at:].lstrip())) < len(text):
        doc, at = decoder.raw_decode(text, at)
        docs.append(doc)
    return docs


@pytest.mark.e2e
def test_a_clinic_day_with_real_processes(pg_base_url, tmp_path):
    db_url = testing.create_database(pg_base_url, "hs_clinic_e2e")
    server_env = clean_env(DATABASE_URL=db_url, SUPABASE_JWT_SECRET=testing.TEST_JWT_SECRET,
                           HEALTHSYNC_AUTH_ACCESS_TTL_S="2", HEALTHSYNC_SERVER_DATA=str(tmp_path / "server"))
    keys = {}

    def device(name: str) -> dict[str, str]:
        keys[name] = secrets.token_hex(32)
        return clean_env(HEALTHSYNC_HOME=str(tmp_path / name), HEALTHSYNC_KEY=keys[name])

    def op(*args: str, stdin: str | None = None):
        return hs_ok(server_env, "server", *args, "--json", stdin=stdin)

    def user(email: str, name: str) -> str:
        return op("user", "add", "--email", email, "--password-stdin", "--name", name, stdin=PASSWORD + "\n")["id"]

    def sign_in(env, email: str, server: str) -> None:
        hs_ok(env, "edge", "sign-in", "--email", email, "--password-stdin", "--auth-url", server, "--json",
              stdin=PASSWORD + "\n")

    def sees(server: str, email: str) -> set[str]:
        """Whose readings this user sees through the API, signed in for real."""
        token = httpx.post(f"{server}/auth/v1/token?grant_type=password",
                           json={"email": email, "password": PASSWORD}).json()["access_token"]
        page = httpx.get(f"{server}/api/v1/health/metrics", params={"limit": 500},
                         headers={"Authorization": f"Bearer {token}"})
        assert page.status_code == 200, page.text
        return {m["user_id"] for m in page.json()["data"]["items"]}

    kiosk = device("kiosk")
    with server_run(server_env, tmp_path / "server.log") as server:
        # The operator: two clinics, their staff and doctors.
        north, south = op("clinic", "create", "North Clinic")["id"], op("clinic", "create", "South Clinic")["id"]
        for email, name, clinic, role in (("admin@north.example", "Ann Admin", north, "admin"),
                                          ("nurse@north.example", "Nadia Nurse", north, "nurse"),
                                          ("nurse@south.example", "Sam Nurse", south, "nurse")):
            op("staff", "add", "--clinic", clinic, "--user", user(email, name), "--role", role)
        op("doctor", "add", "--user", user("doc@north.example", "Dana Doctor"), "--clinic", north,
           "--specialty", "cardiology")
        far_doctor = op("doctor", "add", "--user", user("doc@south.example", "Sol Doctor"), "--clinic", south,
                        "--specialty", "neurology", "--languages", "en,fr")["id"]

        # The kiosk: enrolled by the clinic's admin; the nurse signs in and sees three patients.
        assert hs_ok(kiosk, "edge", "init", "--clinic", north, "--json")["kind"] == "clinic"
        sign_in(kiosk, "admin@north.example", server)
        hs_ok(kiosk, "edge", "sync", "enroll", "--server", server, "--name", "Front desk", "--json")
        sign_in(kiosk, "nurse@north.example", server)
        patients = {}
        for i, (name, dob, value) in enumerate(PATIENTS):
            reg = hs_ok(kiosk, "edge", "patient", "register", "--name", name, "--dob", dob, "--sex", "female",
                        "--mrn", f"N-{i}", "--json")
            hs_ok(kiosk, "edge", "metrics", "add", "heart_rate", str(value), "--patient", reg["id"], "--json")
            patients[name] = reg
        synced = hs_ok(kiosk, "edge", "sync", "run", "--json")
        assert synced["rejected"] == 0 and synced["claims"]["filed"] == 3, synced

        # Each patient's phone: a new account, the claim code, enroll, pull: exactly their own record.
        phones = {}
        for i, (name, _, value) in enumerate(PATIENTS):
            phone = phones[name] = device(f"phone{i}")
            email = f"patient{i}@mail.example"
            user(email, name)
            hs_ok(phone, "edge", "init", "--json")
            sign_in(phone, email, server)
            assert hs_ok(phone, "edge", "patient", "claim", patients[name]["claim_code"], "--json")["id"] == \
                patients[name]["id"]
            hs_ok(phone, "edge", "sync", "enroll", "--server", server, "--json")
            hs_ok(phone, "edge", "sync", "run", "--json")
            held = json.loads(hs_ok(phone, "edge", "export", "--format", "json"))
            assert [(u["id"], u["full_name"]) for u in held["users"]] == [(patients[name]["id"], name)]
            assert [(m["user_id"], m["value"]) for m in held["health_metrics"]] == [(patients[name]["id"], value)]

        ids = {p["id"] for p in patients.values()}
        assert sees(server, "doc@north.example") == ids  # the clinic's doctor: its registered patients
        assert sees(server, "nurse@south.example") == set()  # another clinic's nurse: none of them
        assert sees(server, "doc@south.example") == set()
        # The first patient books the South doctor from their phone: that doctor now sees that patient only.
        with Store.open(tmp_path / "phone0" / "edge.db", KeySource(raw_key=bytes.fromhex(keys["phone0"]))) as s:
            s.appointments.add({"patient_id": patients["Ada North"]["id"], "doctor_id": far_doctor,
                                "scheduled_at": dt.datetime.now(dt.UTC) + dt.timedelta(days=2)})
        assert hs_ok(phones["Ada North"], "edge", "sync", "run", "--json")["accepted"] == 1
        assert sees(server, "doc@south.example") == {patients["Ada North"]["id"]}

        # Cyd's last reading, then Cyd withdraws their share: the watching kiosk pushes both, outlives three
        # 2-second tokens, and purges Cyd once everything of theirs is on the server.
        cyd = patients["Cyd North"]["id"]
        last = hs_ok(kiosk, "edge", "metrics", "add", "heart_rate", "88", "--patient", cyd, "--json")
        hs_ok(kiosk, "edge", "consent", "withdraw", "share", "--patient", cyd, "--json")
        started = time.monotonic()
        watched = hs(kiosk, "edge", "sync", "run", "--watch", "--interval", "1.5", "--max-rounds", "5", "--json")
        assert watched.returncode == 0 and "error" not in watched.stderr.lower(), watched.stderr
        assert time.monotonic() - started > 3 * 2, "the watch must outlive three 2-second tokens"
        rounds = _json_docs(watched.stdout)
        assert len(rounds) == 5 and sum(r["rejected"] for r in rounds) == 0
        assert [p["patient_id"] for r in rounds for p in r["kiosk_purge"]["purged"]] == [cyd], json.dumps(rounds)
        assert hs_ok(kiosk, "edge", "patient", "find", "Cyd North", "--json") == []
        assert [p["id"] for p in hs_ok(kiosk, "edge", "patient", "find", "Ada North", "--json")] == \
            [patients["Ada North"]["id"]]
        kept = json.loads(hs_ok(kiosk, "edge", "export", "--format", "json"))
        assert cyd not in {m["user_id"] for m in kept["health_metrics"]} | {u["id"] for u in kept["users"]}
        assert sees(server, "nurse@north.example") == ids - {cyd}  # withdrawn: the clinic's access is gone

    db = Database(db_url, max_size=1)
    try:
        with db.admin() as conn:
            on_server = {r["value"] for r in conn.execute("SELECT value FROM health_metrics WHERE user_id = %s",
                                                          (cyd,))}
            audit_id = conn.execute("SELECT a.id FROM audit_log a JOIN health_metrics m ON m.id = a.row_id "
                                    "WHERE a.action = 'sync_insert' AND m.user_id = %s", (patients["Ada North"]["id"],)
                                    ).fetchone()["id"]
            sentence = audit.describe(conn, audit_id)
    finally:
        db.close()
        testing.drop_database(pg_base_url, db_url)
    assert on_server == {73.0, last["value"]}  # nothing of Cyd's was lost by the purge
    assert sentence == "nurse Nadia Nurse recorded heart rate for patient Ada North on kiosk Front desk"
