"""`health:predictions:{user_id}` in real Redis (keys under a random prefix): a patient's predictions page served
from the cache (sealed, for an hour) after the caller's scope is checked, audited like a read, dropped by a push of
that patient's predictions on any instance, and answered from Postgres without Redis or with Redis down."""
from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from protocol import changeset
from protocol.changeset import Change
from protocol.schema import new_id
from sync_server import sync_service, testing
from sync_server.app import create_app
from sync_server.events.runtime import RealtimeSettings
from sync_server.predictions_cache import CACHE_TTL_S, cache_key
from sync_server.sync_keys import server_key_for
from sync_server.testing import auth
from tests.server.conftest import REDIS_URL, seed_doctor

PATH = "/api/v1/health/predictions"



def _app(pg_url, data_dir, prefix: str, redis_url: str | None = REDIS_URL):
    app = create_app(testing.settings_for(pg_url, redis_url=redis_url, data_dir=data_dir))
    app.state.realtime_settings = RealtimeSettings(enabled=False, redis_prefix=prefix)
    return app


@pytest.fixture
def instances(pg_url, redis_client, tmp_path):
    """Two server instances on one Postgres and one Redis (same prefix and server key, as deployed)."""
    prefix = f"hs-test-{uuid.uuid4().hex[:8]}:"
    apps = [_app(pg_url, tmp_path, prefix) for _ in range(2)]
    with TestClient(apps[0]) as one, TestClient(apps[1]) as two:
        yield one, two, prefix
    for key in redis_client.scan_iter(match=f"{prefix}*"):
        redis_client.delete(key)
    for app in apps:
        app.state.db.close()


def _prediction(user: uuid.UUID, disease: str, probability: float) -> dict:
    return {"id": str(new_id()), "user_id": str(user), "disease": disease, "probability": probability,
            "confidence": 0.9, "model_name": "pima-logit", "model_version": "1",
            "inputs_hash": hashlib.sha256(disease.encode()).hexdigest(),
            "created_at": dt.datetime.now(dt.UTC).isoformat()}


class _Device:
    """A patient's phone pushing predictions through POST /v1/sync/push of a given instance."""

    def __init__(self, db, client: TestClient, user: uuid.UUID):
        self.client, self.user = client, str(user)
        self.device, self.signer = str(uuid.uuid4()), Ed25519PrivateKey.generate()
        self.server_key = server_key_for(client.app.state.settings)
        claims = {"sub": self.user, "role": "authenticated", "app_metadata": {"role": "patient"}}
        with db.session("authenticated", claims) as conn:
            sync_service.enroll(conn, self.user, self.device, changeset.raw_public(self.signer), b"\x01" * 32,
                                "phone", self.server_key)
        self.i = 0

    def push(self, client: TestClient, *docs: dict) -> list[str]:
        changes = []
        for doc in docs:
            self.i += 1
            changes.append(Change(str(new_id()), "predictions", doc["id"], "insert", doc,
                                  f"{int(time.time() * 1000) - 1000:015d}:{self.i:06d}:{self.device}"))
        blob = changeset.seal(changes, device_id=self.device, user_id=self.user, signing_key=self.signer,
                              server_public_key=changeset.raw_public(self.server_key))[1]
        r = client.post("/v1/sync/push", content=blob, headers={**auth(self.user),
                                                                "Content-Type": "application/octet-stream"})
        assert r.status_code == 200, r.text
        return [x["status"] for x in r.json()["data"]["receipts"]]


def _read(client: TestClient, user: uuid.UUID, role: str = "patient", **params) -> dict:
    r = client.get(PATH, headers=auth(user, role), params=params)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _probabilities(page: dict) -> dict[str, float]:
    return {i["disease"]: i["probability"] for i in page["items"]}


def _reads_audited(db, actor: uuid.UUID, subject: uuid.UUID) -> int:
    with db.admin() as conn:
        return conn.execute("SELECT count(*) AS n FROM audit_log WHERE actor = %s AND subject_id = %s AND "
                            "action = 'read' AND table_name = 'predictions'", (actor, subject)).fetchone()["n"]


def test_a_hit_is_served_from_redis_sealed_and_audited_until_a_push_on_another_instance(instances, db,
                                                                                      redis_client):
    one, two, prefix = instances
    patient = uuid.uuid4()
    phone = _Device(db, one, patient)
    diabetes = _prediction(patient, "diabetes", 0.2)
    assert phone.push(one, diabetes) == ["accepted"]
    first = _read(one, patient)
    assert _probabilities(first) == {"diabetes": 0.2}
    key = cache_key(patient, prefix)
    assert 0 < redis_client.ttl(key) <= CACHE_TTL_S
    stored = b"".join(v for f, v in redis_client.hgetall(key).items() if f != b"gen")
    assert b"diabetes" not in stored and b"pima" not in stored and str(patient).encode() not in stored  # sealed

    # Changed behind the cache's back (an admin connection, no push): the cache still answers, on both instances,
    # so a hit did not read the table; each hit is still audited.
    with db.admin() as conn:
        conn.execute("UPDATE predictions SET probability = 0.99 WHERE id = %s", (diabetes["id"],))
    audited = _reads_audited(db, patient, patient)
    assert _read(one, patient) == first and _read(two, patient) == first
    assert _reads_audited(db, patient, patient) == audited + 2

    # A push of this patient's predictions through the other instance drops the page: the next read, anywhere,
    # comes from Postgres (and sees the admin's change too).
    assert phone.push(two, _prediction(patient, "heart_disease", 0.1)) == ["accepted"]
    assert not redis_client.exists(key)
    assert _probabilities(_read(one, patient)) == {"diabetes": 0.99, "heart_disease": 0.1}


def test_pages_and_filters_are_cached_apart(instances, db):
    one, _, _ = instances
    patient = uuid.uuid4()
    phone = _Device(db, one, patient)
    assert phone.push(one, _prediction(patient, "diabetes", 0.2), _prediction(patient, "stroke", 0.3)) == \
        ["accepted", "accepted"]
    assert _probabilities(_read(one, patient)) == {"diabetes": 0.2, "stroke": 0.3}
    assert _probabilities(_read(one, patient, disease="stroke")) == {"stroke": 0.3}
    assert _read(one, patient, limit=1)["total"] == 2 and len(_read(one, patient, limit=1)["items"]) == 1
    assert _probabilities(_read(one, patient, disease="stroke")) == {"stroke": 0.3}  # its own cached field


def test_a_caller_out_of_scope_never_gets_the_cached_page(instances, db, redis_client):
    one, _, prefix = instances
    patient, other_patient, doctor, other_doctor = (uuid.uuid4() for _ in range(4))
    seed_doctor(db, doctor, [patient])  # an appointment: the patient is in this doctor's care
    seed_doctor(db, other_doctor, [])
    phone = _Device(db, one, patient)
    assert phone.push(one, _prediction(patient, "diabetes", 0.2)) == ["accepted"]
    cached = _read(one, patient)
    assert redis_client.exists(cache_key(patient, prefix))

    # The cached value exists, yet each of these gets what RLS gives them: nothing, and no audit row of a read.
    for caller, role in ((other_patient, "patient"), (other_doctor, "doctor"), (doctor, "patient")):
        page = _read(one, caller, role, user_id=str(patient))
        assert (page["items"], page["total"]) == ([], 0), (caller, role)
        assert _reads_audited(db, caller, patient) == 0
    # The doctor in charge, signed in as a doctor, is in scope: the cached page (and an audit row).
    assert _read(one, doctor, "doctor", user_id=str(patient)) == cached
    assert _reads_audited(db, doctor, patient) == 1


def test_reads_answer_without_redis_and_with_redis_down(pg_url, db, tmp_path):
    patient = uuid.uuid4()
    # No Redis configured, then one configured where nothing listens: each read comes from Postgres, no error.
    for n, redis_url in enumerate((None, "redis://127.0.0.1:9/0"), start=1):
        app = _app(pg_url, tmp_path, "hs-down:", redis_url)
        with TestClient(app) as c:
            phone = _Device(db, c, patient)
            assert phone.push(c, _prediction(patient, f"disease{n}", 0.4)) == ["accepted"]
            for _ in range(2):
                assert _read(c, patient)["total"] == n
        app.state.db.close()


def test_a_page_read_before_an_invalidation_is_never_served_after_it(redis_client):
    from sync_server.predictions_cache import PredictionsCache

    prefix = f"hs-test-{uuid.uuid4().hex[:8]}:"
    cache, patient, filters = PredictionsCache(REDIS_URL, prefix, b"k" * 32), uuid.uuid4(), {"limit": 50}
    try:
        missed, gen = cache.get(patient, filters)  # a reader misses and reads the table...
        assert missed is None and gen is not None
        cache.invalidate([patient])  # ...while a push commits and invalidates...
        cache.put(patient, filters, gen, {"items": ["stale"], "total": 1})  # ...then stores what it read
        assert cache.get(patient, filters)[0] is None  # its generation is gone: nobody is served the stale page
        fresh, gen = cache.get(patient, filters)
        cache.put(patient, filters, gen, {"items": [], "total": 0})
        assert cache.get(patient, filters)[0] == {"items": [], "total": 0}
    finally:
        cache.close()
        for key in redis_client.scan_iter(match=f"{prefix}*"):
            redis_client.delete(key)


def test_clinic_staff_get_the_cached_page_only_while_the_patient_is_registered(instances, db):
    from tests.server import tenancy_seed

    one, _, _ = instances
    patient = uuid.uuid4()
    north, south = tenancy_seed.clinic(db, "North"), tenancy_seed.clinic(db, "South")
    nurse, stranger = tenancy_seed.staff(db, north, "nurse"), tenancy_seed.staff(db, south, "nurse")
    tenancy_seed.register(db, north, patient)
    phone = _Device(db, one, patient)
    assert phone.push(one, _prediction(patient, "diabetes", 0.2)) == ["accepted"]
    cached = _read(one, patient)
    assert _read(one, nurse, "nurse", user_id=str(patient)) == cached
    assert _read(one, stranger, "nurse", user_id=str(patient))["items"] == []  # another clinic's nurse
    tenancy_seed.register(db, north, patient, status="withdrawn")  # consent withdrawn: the cache is not asked
    assert _read(one, nurse, "nurse", user_id=str(patient))["items"] == []
