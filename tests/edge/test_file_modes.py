"""Every file holding PHI is owner-only: the store and its -wal/-shm, exports, reports, kept audio (0600), in
0700 directories. Each test sets the common umask 022 first, under which the files used to come out 0644."""
from __future__ import annotations

import os
import stat
import uuid

import pytest
from typer.testing import CliRunner

from edge.files import write_private
from edge.keys import KeySource
from edge.store import Store


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def usual_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _write_some(store, user):
    for v in (60, 61, 62):
        store.health_metrics.add({"user_id": user, "metric_type": "heart_rate", "value": v})


def test_store_wal_and_shm_are_0600_in_a_0700_directory(tmp_path, store_key):
    """Before: edge.db and its -wal/-shm were 0644 (readable by every local user), the new directory 0755."""
    path = tmp_path / "home" / "fresh" / "edge.db"
    with Store.open(path, store_key, create=True) as store:
        _write_some(store, uuid.uuid4())
        wal, shm = path.with_name("edge.db-wal"), path.with_name("edge.db-shm")
        assert wal.exists() and shm.exists()  # WAL mode, open: both are there while data is written
        assert (mode(path), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700


def test_a_store_made_before_is_narrowed_on_open(tmp_path, store_key):
    path = tmp_path / "edge.db"
    with Store.open(path, store_key, create=True) as store:
        _write_some(store, uuid.uuid4())
    os.chmod(path, 0o644)  # as older versions left it
    with Store.open(path, store_key) as store:
        _write_some(store, uuid.uuid4())
        assert mode(path) == 0o600 and mode(path.with_name("edge.db-wal")) == 0o600


def test_the_data_directory_an_older_version_made_is_narrowed(tmp_path, monkeypatch):
    from edge import config

    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    monkeypatch.setenv("HEALTHSYNC_HOME", str(home))
    config.open_store(keys=KeySource(raw_key=bytes(32)), create=True).close()
    assert mode(home) == 0o700 and mode(home / "edge.db") == 0o600


def test_write_private_is_0600_atomic_and_narrows_an_existing_file(tmp_path):
    target = tmp_path / "out" / "export.json"
    write_private(target, "first")
    assert mode(target) == 0o600 and mode(target.parent) == 0o700 and target.read_text() == "first"
    os.chmod(target, 0o644)
    write_private(target, b"second")
    assert mode(target) == 0o600 and target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["export.json"]  # no temporary file left


def test_cli_export_file_is_0600(tmp_path, monkeypatch):
    from healthsync_cli import app

    monkeypatch.setenv("HEALTHSYNC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HEALTHSYNC_KEY", "11" * 32)
    runner = CliRunner()
    assert runner.invoke(app, ["edge", "init"]).exit_code == 0
    assert runner.invoke(app, ["edge", "metrics", "add", "heart_rate", "64"]).exit_code == 0
    for fmt in ("json", "csv"):
        out = tmp_path / f"export.{fmt}"
        r = runner.invoke(app, ["edge", "export", "--format", fmt, "-o", str(out)])
        assert r.exit_code == 0, r.output
        assert mode(out) == 0o600 and "heart_rate" in out.read_text()
    assert mode(tmp_path / "home") == 0o700 and mode(tmp_path / "home" / "edge.db") == 0o600


def test_html_report_is_0600(tmp_path):
    from edge.twin import report

    path = report.save(tmp_path / "reports" / "risk.html", [], {"scenarios": {}})
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_kept_audio_is_0600(tmp_path, store_key):
    pytest.importorskip("soundfile")
    import numpy as np

    from edge.voice import audio as audio_stage
    from edge.voice import pipeline

    with Store.open(tmp_path / "edge.db", store_key, create=True) as store:
        clip = audio_stage.from_array(np.zeros(16000, dtype=np.float32), audio_stage.SAMPLE_RATE, "test")
        sid = uuid.uuid4()
        path = pipeline._keep_audio(store, clip, sid)
        assert mode(path) == 0o600 and mode(pipeline.audio_dir(store)) == 0o700
        assert len(pipeline.load_kept_audio(store, sid).samples) == 16000


def test_the_passphrase_is_never_an_argv_option():
    """No edge command takes the passphrase as an argument (any local user reads argv in the process list)."""
    import typer

    from healthsync_cli import app

    def options(cmd):
        if hasattr(cmd, "commands"):
            for sub in cmd.commands.values():
                yield from options(sub)
        else:
            for p in cmd.params:
                yield cmd.name, p

    found = [(name, p.opts) for name, p in options(typer.main.get_command(app))
             if any("passphrase" in o for o in p.opts) and not p.is_flag]
    assert found == []

