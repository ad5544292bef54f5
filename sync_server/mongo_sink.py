"""MongoDB copy of `family_graph` and `health_events` documents, drained from the server-side outbox.

Reconcile writes each accepted document version into `sync_doc_outbox` in the same transaction as the row
(so no write is ever missing from the drain). `drain` reads a batch under a row lock, upserts it into the sink,
and deletes it only after the sink acknowledged. A crash in between re-sends the batch; the upsert is keyed by
document id and guarded by the HLC, so a re-send (or an old version arriving late) changes nothing.
"""
from __future__ import annotations

from typing import Any, Protocol

from protocol.errors import MissingDependencyError


class DocumentSink(Protocol):
    """Somewhere documents are kept by id: `upsert` must be idempotent and never let an older HLC win."""

    def upsert(self, collection: str, docs: list[dict[str, Any]]) -> None: ...


class MongoSink:
    """A DocumentSink on a pymongo Database (MongoDB Atlas in production)."""

    def __init__(self, database):
        self.db = database

    @classmethod
    def from_uri(cls, uri: str, database: str = "healthsync") -> MongoSink:
        """Connect with pymongo (lazily: no I/O until the first write)."""
        try:
            import pymongo
        except ImportError:
            raise MissingDependencyError("pymongo", "server") from None
        return cls(pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)[database])

    def upsert(self, collection: str, docs: list[dict[str, Any]]) -> None:
        from pymongo.errors import DuplicateKeyError

        coll = self.db[collection]
        for d in docs:
            try:
                coll.replace_one({"_id": d["_id"], "_hlc": {"$lte": d["_hlc"]}}, d, upsert=True)
            except DuplicateKeyError:
                # A newer version is already there: the guarded filter misses and the upsert's insert hits the
                # unique _id. That is the intended outcome (an old version never wins).
                pass


def drain(db, sink: DocumentSink, batch: int = 500, max_batches: int | None = None) -> int:
    """Move documents from `sync_doc_outbox` to the sink, oldest first; returns how many rows were drained."""
    total, batches = 0, 0
    while max_batches is None or batches < max_batches:
        batches += 1
        with db.session("service_role", {"role": "service_role"}) as conn:
            rows = conn.execute("SELECT id, collection, doc_id, hlc, doc, user_id FROM sync_doc_outbox ORDER BY id "
                                "LIMIT %s FOR UPDATE SKIP LOCKED", (batch,)).fetchall()
            if not rows:
                return total
            latest: dict[tuple[str, str], dict[str, Any]] = {}
            for r in rows:
                key = (r["collection"], str(r["doc_id"]))
                if key not in latest or r["hlc"] > latest[key]["_hlc"]:
                    latest[key] = {**r["doc"], "_id": str(r["doc_id"]), "_hlc": r["hlc"],
                                   "_user": str(r["user_id"])}
            for collection in sorted({c for c, _ in latest}):
                sink.upsert(collection, [d for (c, _), d in latest.items() if c == collection])
            conn.execute("DELETE FROM sync_doc_outbox WHERE id = ANY(%s)", ([r["id"] for r in rows],))
            total += len(rows)
    return total


def drain_forever(interval_s: float = 2.0, once: bool = False) -> int:
    """Drain with settings from the environment (DATABASE_URL, MONGODB_URI); `python -m sync_server.mongo_sink`."""
    import time

    from protocol.errors import HealthSyncError
    from sync_server.config import Settings
    from sync_server.db import Database

    settings = Settings.from_env()
    if not settings.database_url or not settings.mongodb_uri:
        raise HealthSyncError("DATABASE_URL and MONGODB_URI must both be set to drain documents to MongoDB")
    db, sink, total = Database(settings.database_url, max_size=2), MongoSink.from_uri(settings.mongodb_uri), 0
    try:
        while True:
            total += drain(db, sink)
            if once:
                return total
            time.sleep(interval_s)
    finally:
        db.close()


if __name__ == "__main__":
    import sys

    print(drain_forever(once="--once" in sys.argv))
