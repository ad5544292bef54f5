"""Server fixtures (importable from tests/sync): a migrated throwaway Postgres database, apps, clients, tokens."""
from __future__ import annotations

import uuid

import pytest

from sync_server import testing
from sync_server.app import create_app
from sync_server.db import Database

REDIS_URL = "redis://127.0.0.1:6379/15"  # the tests' own Redis database


@pytest.fixture(scope="session")
def pg_url(pg_base_url) -> str:
    """A fresh, migrated database for the session, dropped at the end."""
    url = testing.migrated_database(pg_base_url)
    yield url
    testing.drop_database(pg_base_url, url)


@pytest.fixture(scope="session")
def server_app(pg_url):
    """The app under test on the session database (high rate limits; rate-limit tests build their own)."""
    app = create_app(testing.settings_for(pg_url))
    yield app
    app.state.db.close()


@pytest.fixture(scope="session")
def client(server_app):
    """A TestClient on the session app."""
    from fastapi.testclient import TestClient

    with TestClient(server_app) as c:
        yield c


@pytest.fixture(scope="session")
def db(pg_url):
    """Direct database access for seeding and for SQL-level RLS checks."""
    database = Database(pg_url, max_size=4)
    yield database
    database.close()


@pytest.fixture
def patient() -> uuid.UUID:
    return uuid.uuid4()


def seed_doctor(db: Database, doctor_user: uuid.UUID, patients: list[uuid.UUID]) -> uuid.UUID:
    """As service_role: a doctors row for `doctor_user` and one appointment with each patient."""
    doctor_id = uuid.uuid4()
    with db.session("service_role", {"role": "service_role"}) as conn:
        conn.execute("INSERT INTO doctors (id, user_id, full_name, specialty, hlc) VALUES (%s, %s, 'Dr Test', "
                     "'cardiology', 'seed')", (doctor_id, doctor_user))
        for p in patients:
            conn.execute("INSERT INTO appointments (id, patient_id, doctor_id, scheduled_at, hlc) "
                         "VALUES (%s, %s, %s, now(), 'seed')", (uuid.uuid4(), p, doctor_id))
    return doctor_id


@pytest.fixture
def redis_client():
    """The local Redis (database 15), or the test skips: caches must also work without it."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis reachable at 127.0.0.1:6379")
    yield client
    client.close()
