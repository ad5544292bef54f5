"""A bug in the merge path fails the request (logged, INTERNAL_ERROR, nothing written) instead of turning into
per-row SYNC_REJECTED_DB receipts that quarantine honest changes (issue 9, item 15).

Before, reconcile caught every Exception around the inserts and writes: both tests got 200 with a rejection
receipt per change (checked by reverting the fix once).
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid

import pytest

from edge import outbox
from edge.device_keys import device_keys, server_pin
from protocol import changeset
from sync_server import reconcile, testing


def _boom(*args, **kwargs):
    raise TypeError("injected bug")


def _push_pending(dev, http, user):
    pin, keys = server_pin(dev.store), device_keys(dev.store)
    data = changeset.seal(outbox.pending(dev.store), device_id=dev.store.device_id, user_id=pin.user_id,
                          signing_key=keys.signing, server_public_key=pin.public_key)[1]
    return http.post("/v1/sync/push", content=data, headers=testing.auth(user))


def _rows(db, table, column, user):
    with db.session("service_role", {"role": "service_role"}) as conn:
        return conn.execute(f"SELECT count(*) AS n FROM {table} WHERE {column}=%s", (user,)).fetchone()["n"]


@pytest.mark.parametrize(("target", "table", "column", "write"), [
    ("_row_values", "symptoms", "user_id",  # the observation paths (VALUES, COPY, row-by-row fallback)
     lambda s, u: s.symptoms.add({"user_id": u, "description": "ache", "severity": 2,
                                  "recorded_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)})),
    ("_write", "users", "id",  # the locked merge path of mutable rows
     lambda s, u: s.users.add({"id": u, "full_name": "Ada"})),
])
def test_bug_in_the_merge_path_is_an_internal_error_not_a_rejection(devices, http, db, monkeypatch, caplog,
                                                                      target, table, column, write):
    user = uuid.uuid4()
    dev = devices.new(user)
    write(dev.store, user)
    monkeypatch.setattr(reconcile, target, _boom)
    with caplog.at_level(logging.ERROR):
        resp = _push_pending(dev, http, user)
    body = resp.json()
    assert (resp.status_code, body["error"]["code"]) == (500, "INTERNAL_ERROR")
    assert "receipts" not in (body.get("data") or {})
    # Logged with its type (never its text: it may quote PHI).
    assert [(r.message, r.error_type) for r in caplog.records if r.levelno >= logging.ERROR] == \
        [("unhandled error", "TypeError")]
    assert _rows(db, table, column, user) == 0
    monkeypatch.undo()
    assert dev.run().accepted == 1  # the change was not quarantined: once the bug is gone it goes through
    assert _rows(db, table, column, user) == 1
