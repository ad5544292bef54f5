"""`make demo` stays true: the whole demo runs against a fresh Postgres database and syncs two devices."""
from __future__ import annotations

import re

import pytest

from sync_server.testing import create_database, drop_database

pytestmark = [pytest.mark.e2e, pytest.mark.heavy]


@pytest.fixture
def fresh_database(pg_base_url, monkeypatch):
    url = create_database(pg_base_url, prefix="hs_demo")
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    drop_database(pg_base_url, url)


def test_demo_runs_every_stage(fresh_database, tmp_path, capsys, monkeypatch):
    from demo import console, run_demo

    monkeypatch.setattr(console, "width", 200)
    run_demo(str(tmp_path))
    out = capsys.readouterr().out
    assert "refused bad input as expected" in out
    assert "RED FLAG" in out  # the chest-pain utterance raised its alert
    assert "pce_ascvd_10y" in out and "(cached)" in out
    assert "stored as health metrics" in out
    assert "stored therapy session" in out
    assert "/health: ok" in out
    assert "0 rejected" in out and "outbox now 0 pending" in out
    assert "server stopped (exit 0)" in out
    assert "demo finished" in out
    pushed = int(re.search(r"kiosk pushed: (\d+) accepted", out).group(1))
    pulled = int(re.search(r"phone pulled (\d+) rows", out).group(1))
    assert pushed > 20 and pulled == pushed  # the phone holds everything the kiosk wrote
