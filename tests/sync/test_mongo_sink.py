"""MongoDB drain. No MongoDB server can be installed on these machines: the stand-in is mongomock (an in-memory
implementation of the pymongo API), driven through the same pymongo operation objects (ReplaceOne, bulk_write)."""
from __future__ import annotations

import datetime as dt
import uuid

import mongomock
import pytest

from sync_server.mongo_sink import MongoSink, drain

from .conftest import Devices, build_app


@pytest.fixture
def mongo_http(pg_url, tmp_path):
    from fastapi.testclient import TestClient

    app = build_app(pg_url, tmp_path / "server", mongodb_uri="mongodb://stand-in")
    with TestClient(app) as client:
        yield client
    app.state.db.close()


@pytest.fixture
def mdb():
    return mongomock.MongoClient()["healthsync"]


def _drain_all(db, sink):
    while drain(db, sink):
        pass


def test_documents_reach_mongo_with_latest_version(tmp_path, mongo_http, db, mdb):
    _drain_all(db, MongoSink(mongomock.MongoClient()["scratch"]))  # documents of other tests
    user = uuid.uuid4()
    devs = Devices(tmp_path, mongo_http)
    try:
        dev = devs.new(user)
        g = dev.store.family_graph.add({"user_id": user, "members": {"m1": {"relation": "mother"}}})
        ev = dev.store.health_events.add({"user_id": user, "event_type": "fall_alert", "data": {"g": 2.5},
                                          "occurred_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)})
        dev.run()
        dev.store.family_graph.update(g.id, members={"m2": {"relation": "father"}})
        dev.store.symptoms.add({"user_id": user, "description": "not a document", "severity": 1,
                                "recorded_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)})
        dev.run()
    finally:
        devs.close()
    _drain_all(db, MongoSink(mdb))
    doc = mdb.family_graph.find_one({"_id": str(g.id)})
    assert set(doc["members"]) == {"m1", "m2"} and doc["_user"] == str(user)
    assert mdb.health_events.find_one({"_id": str(ev.id)})["data"] == {"g": 2.5}
    assert "symptoms" not in mdb.list_collection_names()
    with db.session("service_role", {"role": "service_role"}) as conn:
        assert conn.execute("SELECT count(*) AS n FROM sync_doc_outbox").fetchone()["n"] == 0


class CrashAfterFirstCollection:
    """A sink that writes one collection, then dies (the process crashing between MongoDB and the delete)."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def upsert(self, collection, docs):
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("crash")
        self.inner.upsert(collection, docs)


def test_crash_mid_drain_loses_and_duplicates_nothing(tmp_path, mongo_http, db, mdb):
    _drain_all(db, MongoSink(mongomock.MongoClient()["scratch"]))
    user = uuid.uuid4()
    devs = Devices(tmp_path, mongo_http)
    try:
        dev = devs.new(user)
        when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        events = {str(dev.store.health_events.add({"user_id": user, "event_type": "note", "occurred_at": when}).id)
                  for _ in range(5)}
        dev.store.family_graph.add({"user_id": user, "members": {}})
        dev.run()
    finally:
        devs.close()
    with pytest.raises(RuntimeError):
        drain(db, CrashAfterFirstCollection(MongoSink(mdb)))
    _drain_all(db, MongoSink(mdb))
    _drain_all(db, MongoSink(mdb))
    assert {d["_id"] for d in mdb.health_events.find({"_user": str(user)})} == events
    assert mdb.health_events.count_documents({"_user": str(user)}) == 5
    assert mdb.family_graph.count_documents({"_user": str(user)}) == 1


def test_an_older_version_never_overwrites_a_newer_one(mdb):
    sink = MongoSink(mdb)
    sink.upsert("family_graph", [{"_id": "g", "_hlc": "002", "members": {"new": {}}}])
    sink.upsert("family_graph", [{"_id": "g", "_hlc": "001", "members": {"old": {}}}])
    sink.upsert("family_graph", [{"_id": "g", "_hlc": "002", "members": {"new": {}}}])
    assert mdb.family_graph.find_one({"_id": "g"})["members"] == {"new": {}}
    assert mdb.family_graph.count_documents({}) == 1


def test_drain_entry_point_needs_both_urls(monkeypatch):
    from protocol.errors import HealthSyncError
    from sync_server.mongo_sink import drain_forever

    monkeypatch.setenv("DATABASE_URL", "postgresql://nowhere/db")
    monkeypatch.delenv("MONGODB_URI", raising=False)
    with pytest.raises(HealthSyncError, match="MONGODB_URI"):
        drain_forever(once=True)
