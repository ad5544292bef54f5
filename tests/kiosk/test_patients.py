"""Patients at a clinic device: register, the keyed blind index (find by name, date of birth, record number,
never decrypting every profile, holding no plaintext), check-ins, claim codes."""
from __future__ import annotations

import datetime as dt
import secrets
import uuid

import pytest

from edge import patients
from edge.keys import KeySource
from edge.store import Store
from protocol.errors import DuplicateError, InputError, NotFoundError
from protocol.schema import DERIVED_ID_NAMESPACE, derived_id
from tests.conftest import wind_back

DOB = dt.date(1980, 2, 3)


def _ids(rows):
    return {r["id"] for r in rows}


def test_find_by_name_tokens_dob_and_record_number(kiosk):
    jose = patients.register(kiosk, name="José García López", dob=DOB, sex="male", mrn="MR-00123")
    maria = patients.register(kiosk, name="María García", dob=dt.date(1975, 7, 9), sex="female", mrn="MR-00456")
    other = patients.register(kiosk, name="Ada Lovelace", dob=DOB, sex="female")
    # Any spelling of the same name: accents, case, order, punctuation.
    for q in ("jose", "JOSÉ", "garcia jose", "López, José", "José García López"):
        assert _ids(patients.find(kiosk, q)) == {jose["id"]}, q
    # Every word must match: "garcia" alone finds both Garcías, "maria garcia" only one.
    assert _ids(patients.find(kiosk, "garcia")) == {jose["id"], maria["id"]}
    assert _ids(patients.find(kiosk, "maria garcia")) == {maria["id"]}
    assert _ids(patients.find(kiosk, "1980-02-03")) == {jose["id"], other["id"]}
    # A record number however it is typed.
    assert _ids(patients.find(kiosk, "mr 00123")) == {jose["id"]}
    assert _ids(patients.find(kiosk, "MR00456")) == {maria["id"]}
    # Whole tokens only: a prefix or a wrong date is no match.
    assert patients.find(kiosk, "garc") == [] and patients.find(kiosk, "1980-02-04") == []
    found = patients.find(kiosk, "lovelace")[0]
    assert found["full_name"] == "Ada Lovelace" and found["date_of_birth"] == "1980-02-03"
    assert found["registrations"][0]["status"] == "active"


def test_find_decrypts_only_the_matches(kiosk, monkeypatch):
    for i in range(30):
        patients.register(kiosk, name=f"Patient Number{i}", dob=DOB, sex="female")
    target = patients.register(kiosk, name="Unique Person", dob=dt.date(1990, 1, 1), sex="male")
    opened = []
    real = kiosk.unseal
    monkeypatch.setattr(kiosk, "unseal", lambda blob, ctx: opened.append(ctx) or real(blob, ctx))
    assert _ids(patients.find(kiosk, "unique person")) == {target["id"]}
    assert {c.split("|")[0] for c in opened} <= {"users", "registrations"}
    assert all(target["id"] in c or c.startswith("registrations|") for c in opened)
    assert len(opened) <= 3  # the match's profile and its registration, not 31 profiles


def test_blind_index_holds_no_plaintext_and_is_keyed(tmp_path, clinic, staff):
    terms = ("garcia", "josé", "jose", "1980-02-03", "MR00123", "MR-00123")

    def make(name):
        s = Store.open(tmp_path / name, KeySource(raw_key=secrets.token_bytes(32)), create=True)
        s.set_meta("clinic_id", str(clinic))
        s.set_meta(patients.SESSION_USER_META, str(staff))
        patients.register(s, name="José García", dob=DOB, sex="male", mrn="MR-00123")
        blinds = {r[0] for r in s.query("SELECT blind FROM patient_index")}
        s.close()
        return blinds, (tmp_path / name).read_bytes()

    a, raw_a = make("a.db")
    b, _ = make("b.db")
    assert len(a) == 4  # two name tokens, the date of birth, the record number
    assert all(len(v) == 64 and all(c in "0123456789abcdef" for c in v) for v in a)
    # Keyed by the store's data key: the same patient on another store has other values (no rainbow table).
    assert not a & b
    # Nothing of the patient in clear anywhere in the store file (index, rows, claim codes).
    for term in terms:
        assert term.encode() not in raw_a and term.upper().encode() not in raw_a, term


def test_duplicate_record_number_is_refused(kiosk):
    patients.register(kiosk, name="A B", dob=DOB, sex="male", mrn="X-1")
    with pytest.raises(DuplicateError):
        patients.register(kiosk, name="C D", dob=DOB, sex="male", mrn="x1")
    assert len(patients.find(kiosk, "x1")) == 1 and patients.find(kiosk, "c d") == []  # nothing half-written


def test_register_on_a_clinic_device_registers_and_records_share(kiosk, clinic, staff):
    p = patients.register(kiosk, name="Grace Hopper", dob=DOB, sex="female", mrn="77")
    pid = uuid.UUID(p["id"])
    reg = kiosk.registrations.list(owner=pid)[0]
    assert (reg.clinic_id, reg.mrn, reg.status) == (clinic, "77", "active")
    # The contract's id: uuid5 in the derived-id namespace of "registrations:<clinic>:<patient>".
    assert reg.id == uuid.uuid5(DERIVED_ID_NAMESPACE, f"registrations:{clinic}:{pid}")
    assert derived_id("registrations", f"{str(clinic).upper()}:{pid.hex}") == reg.id  # any spelling of the ids
    share = kiosk.consents.list(owner=pid)[0]
    assert (share.kind, share.granted, share.clinic_id, share.recorded_by) == ("share", True, clinic, staff)
    assert kiosk.users.get(pid).role == "patient"


def test_register_on_a_personal_device_has_no_registration(store):
    store.set_meta("user_id", str(uuid.uuid4()))
    p = patients.register(store, name="Solo Person", dob=DOB, sex="male", mrn="9")
    assert store.registrations.count() == 0 and patients.find(store, "9")[0]["id"] == p["id"]


def test_check_in_and_today(kiosk, clinic, staff):
    p = patients.register(kiosk, name="Ann Smith", dob=DOB, sex="female")
    c = patients.check_in(kiosk, uuid.UUID(p["id"]))
    assert c["clinic_id"] == str(clinic) and c["recorded_by"] == str(staff)
    day = patients.today(kiosk)
    assert [r["id"] for r in day["checked_in_today"]] == [p["id"]]
    assert day["recent"][0]["id"] == p["id"]
    assert patients.today(kiosk, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))["checked_in_today"] == []
    with pytest.raises(NotFoundError):
        patients.check_in(kiosk, uuid.uuid4())


def test_check_in_without_a_clinic_is_refused(store):
    store.set_meta("user_id", str(uuid.uuid4()))
    p = patients.register(store, name="Ann Smith", dob=DOB, sex="female")
    with pytest.raises(InputError, match="clinic"):
        patients.check_in(store, uuid.UUID(p["id"]))


def test_claim_code_is_stored_only_as_a_keyed_hash_and_works_once(kiosk, tmp_path):
    p = patients.register(kiosk, name="Claim Me", dob=DOB, sex="male")
    code = p["claim_code"]
    assert len(code) == 11 and code[5] == "-"
    raw = code.replace("-", "")
    stored = [r[0] for r in kiosk.query("SELECT code_hash FROM claim_codes")]
    assert len(stored) == 1 and raw not in stored[0]
    kiosk.query("PRAGMA wal_checkpoint(TRUNCATE)")
    assert raw.encode() not in kiosk.path.read_bytes()
    with pytest.raises(NotFoundError):
        patients.redeem_claim(kiosk, "AAAAA-AAAAA")
    with pytest.raises(NotFoundError):  # expired
        patients.redeem_claim(kiosk, code, now=dt.datetime.now(dt.UTC) + patients.CLAIM_TTL)
    assert str(patients.redeem_claim(kiosk, code.lower())) == p["id"]  # case and dash do not matter
    with pytest.raises(NotFoundError):  # once only
        patients.redeem_claim(kiosk, code)


def test_kiosk_tables_survive_a_reopen(tmp_path, store_key, clinic, staff):
    """The migration that adds the kiosk tables also runs on a store made at v2 (before them)."""
    path = tmp_path / "old.db"
    Store.open(path, store_key, create=True).close()
    wind_back(path, 2)
    with Store.open(path, store_key) as s:
        s.set_meta("clinic_id", str(clinic))
        s.set_meta(patients.SESSION_USER_META, str(staff))
        p = patients.register(s, name="Later Patient", dob=DOB, sex="male")
        assert patients.find(s, "later")[0]["id"] == p["id"]


def test_patients_arriving_by_pull_are_found(kiosk, clinic):
    """A patient registered at another of the clinic's devices: their profile and registration come by pull, and
    the blind index follows (a new name replaces the old one; a deleted profile leaves the index)."""
    from edge.pull import apply_pulled

    pid = uuid.uuid4()

    def pulled(table, doc, deleted=False):
        return {"table": table, "pk": str(doc["id"]), "doc": doc, "clocks": {}, "hlc": kiosk.clock.now().encode(),
                "deleted": deleted}

    profile = {"id": str(pid), "full_name": "Remote Registrant", "date_of_birth": "1999-09-09", "sex": "male",
               "role": "patient"}
    reg = {"id": str(derived_id("registrations", f"{clinic}:{pid}")), "user_id": str(pid),
           "clinic_id": str(clinic), "mrn": "R-9", "status": "active"}
    apply_pulled(kiosk, [pulled("users", profile), pulled("registrations", reg)])
    for q in ("remote registrant", "1999-09-09", "r9"):
        assert _ids(patients.find(kiosk, q)) == {str(pid)}, q
    apply_pulled(kiosk, [pulled("users", {**profile, "full_name": "Renamed Person"})])
    assert patients.find(kiosk, "registrant") == [] and _ids(patients.find(kiosk, "renamed")) == {str(pid)}
    apply_pulled(kiosk, [pulled("users", profile, deleted=True)])
    assert patients.find(kiosk, "remote") == [] and patients.find(kiosk, "1999-09-09") == []


def test_a_v5_kiosk_store_migrates_and_its_old_claim_codes_still_redeem(tmp_path, store_key, clinic, staff):
    """Codes issued before v6 were never meant for the server: they keep working on the device, and sync files
    nothing for them (no digest was kept)."""
    path = tmp_path / "old.db"
    with Store.open(path, store_key, create=True) as s:
        s.set_meta("clinic_id", str(clinic))
        s.set_meta(patients.SESSION_USER_META, str(staff))
        reg = patients.register(s, name="Old Code", dob=dt.date(1950, 1, 1), sex="male")
    wind_back(path, 5)
    with Store.open(path, store_key) as s:
        assert s.query("SELECT clinic_id, server_digest FROM claim_codes") == [(None, None)]
        from edge import claims

        assert claims.file_pending(s, lambda *a, **k: pytest.fail("nothing to file")) == \
            {"filed": 0, "waiting": 0, "reason": None}
        assert str(patients.redeem_claim(s, reg["claim_code"])) == reg["id"]
