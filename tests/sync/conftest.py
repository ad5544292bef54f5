"""Sync fixtures: a migrated throwaway Postgres, the real app with the sync routers, and enrolled edge devices."""
from __future__ import annotations

import contextlib
import secrets
import uuid

import pytest

from edge.keys import KeySource
from edge.store import Store
from edge.sync_client import SyncClient, SyncOptions
from sync_server import testing
from sync_server.app import create_app
from sync_server.db import Database


def build_app(pg_url: str, data_dir, **overrides):
    """The real server app (the sync and device routers are in ROUTERS)."""
    return create_app(testing.settings_for(pg_url, data_dir=data_dir, **overrides))


@pytest.fixture(scope="session")
def db(pg_url):
    database = Database(pg_url, max_size=4)
    yield database
    database.close()


@pytest.fixture(scope="session")
def pg_url(pg_base_url):
    url = testing.migrated_database(pg_base_url, prefix="hs_sync")
    yield url
    testing.drop_database(pg_base_url, url)


@pytest.fixture(scope="session")
def server_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("server")


@pytest.fixture(scope="session")
def sync_app(pg_url, server_dir):
    app = build_app(pg_url, server_dir)
    yield app
    app.state.db.close()


@pytest.fixture(scope="session")
def http(sync_app):
    from fastapi.testclient import TestClient

    with TestClient(sync_app) as c:
        yield c


class Devices:
    """Makes edge stores enrolled with the test server, closed at the end of the test."""

    def __init__(self, tmp_path, http):
        self.tmp_path, self.http, self.stores = tmp_path, http, []
        self.keys: dict = {}

    def new(self, user: uuid.UUID, *, format_version: int = 2, batch_size: int = 2000, page_size: int = 2000,
            init_profile: bool = True, verify_every_s: float = SyncOptions.verify_every_s) -> SyncClient:
        key = KeySource(raw_key=secrets.token_bytes(32))
        store = Store.open(self.tmp_path / f"dev{len(self.stores)}.db", key, create=True)
        store.set_meta("user_id", str(user))
        client = self.client(store, key, user, format_version=format_version, batch_size=batch_size,
                             page_size=page_size, verify_every_s=verify_every_s)
        client.enroll("http://testserver")
        return client

    def client(self, store: Store, key: KeySource, user: uuid.UUID, *, format_version: int = 2,
               batch_size: int = 2000, page_size: int = 2000,
               verify_every_s: float = SyncOptions.verify_every_s) -> SyncClient:
        """A sync client over an open store (closed with the others at the end of the test)."""
        self.stores.append(store)
        self.keys[store.path] = key
        return SyncClient(store, testing.token(user), http=self.http,
                          options=SyncOptions(format_version=format_version, batch_size=batch_size,
                                              page_size=page_size, attempts=2, backoff_s=0.01,
                                              verify_every_s=verify_every_s))

    def restart(self, client: SyncClient, user: uuid.UUID) -> SyncClient:
        """Close a device's store and open it again (a process restart), keeping its key, wall clock and options."""
        store, wall = client.store, client.store.wall_ms
        self.stores.remove(store)
        store.close()
        again = Store.open(store.path, self.keys[store.path])
        again.wall_ms = wall
        return self.client(again, self.keys[store.path], user, format_version=client.options.format_version,
                           batch_size=client.options.batch_size, page_size=client.options.page_size,
                           verify_every_s=client.options.verify_every_s)

    def close(self):
        for s in self.stores:
            s.close()


@contextlib.contextmanager
def devices_on_own_server(pg_url, tmp_path, **overrides):
    """Devices enrolled with a server app of their own, built with settings overrides (e.g. a small body limit)."""
    from fastapi.testclient import TestClient

    app = build_app(pg_url, tmp_path / "server", **overrides)
    try:
        with TestClient(app) as client:
            devs = Devices(tmp_path, client)
            try:
                yield devs
            finally:
                devs.close()
    finally:
        app.state.db.close()


@pytest.fixture
def devices(tmp_path, http):
    d = Devices(tmp_path, http)
    yield d
    d.close()


@pytest.fixture(scope="session")
def live_url(pg_url, server_dir):
    """The app served by a real uvicorn on a loopback port (for subprocess and TCP-level tests)."""
    app = build_app(pg_url, server_dir)
    with testing.serve_in_thread(app) as url:
        yield url
