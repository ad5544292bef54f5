"""Migrations: apply in order, are idempotent, refuse edited files, and N runners can start together."""
from __future__ import annotations

import threading

import pytest

from protocol.schema import METRICS
from sync_server import testing
from sync_server.migrate import MigrationError, discover, migrate


def test_files_are_numbered_and_ordered():
    versions = [m.version for m in discover()]
    assert versions[:9] == [f"{i:04d}" for i in range(1, 10)]
    assert versions == sorted(versions)


def test_rerun_applies_nothing(pg_url):
    assert migrate(pg_url) == []


def test_concurrent_runners_apply_each_file_once(pg_base_url):
    url = testing.create_database(pg_base_url, "hs_mig")
    try:
        results, errors = [], []

        def run():
            try:
                results.append(migrate(url))
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        applied = sorted(v for r in results for v in r)
        assert applied == [m.version for m in discover()]
    finally:
        testing.drop_database(pg_base_url, url)


def test_edited_migration_is_refused(pg_base_url, tmp_path):
    url = testing.create_database(pg_base_url, "hs_mig")
    try:
        (tmp_path / "0001_first.sql").write_text("CREATE TABLE t1 (x int);")
        assert migrate(url, tmp_path) == ["0001"]
        (tmp_path / "0001_first.sql").write_text("CREATE TABLE t1 (x bigint);")
        with pytest.raises(MigrationError, match="edited"):
            migrate(url, tmp_path)
    finally:
        testing.drop_database(pg_base_url, url)


def test_failed_migration_rolls_back_only_itself(pg_base_url, tmp_path):
    url = testing.create_database(pg_base_url, "hs_mig")
    try:
        (tmp_path / "0001_ok.sql").write_text("CREATE TABLE t1 (x int);")
        (tmp_path / "0002_bad.sql").write_text("CREATE TABLE t2 (x int); SELECT no_such_function();")
        with pytest.raises(MigrationError):
            migrate(url, tmp_path)
        import psycopg

        with psycopg.connect(url) as conn:
            assert [r[0] for r in conn.execute("SELECT version FROM schema_migrations")] == ["0001"]
            assert conn.execute("SELECT to_regclass('t2')").fetchone()[0] is None
    finally:
        testing.drop_database(pg_base_url, url)


def test_misnamed_file_is_refused(tmp_path):
    (tmp_path / "1_x.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN"):
        discover(tmp_path)


def test_metric_specs_mirror_the_edge_schema(db):
    with db.admin() as conn:
        rows = {r["metric_type"]: r for r in conn.execute("SELECT * FROM metric_specs")}
    assert set(rows) == set(METRICS)
    for name, spec in METRICS.items():
        assert (rows[name]["unit"], rows[name]["low"], rows[name]["high"]) == (spec.unit, spec.low, spec.high)


def test_every_edge_record_field_has_a_typed_column(db):
    from protocol.schema import TABLES

    with db.admin() as conn:
        rows = conn.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                            "WHERE table_schema = 'public'").fetchall()
    columns: dict[str, dict[str, str]] = {}
    for r in rows:
        columns.setdefault(r["table_name"], {})[r["column_name"]] = r["data_type"]
    for name, spec in TABLES.items():
        missing = set(spec.model.model_fields) - set(columns.get(name, {}))
        assert not missing, f"{name} lacks columns for {sorted(missing)}"
        sync_meta = {"hlc": "text", "col_clocks": "jsonb", "deleted": "boolean", "origin_device": "uuid",
                     "change_seq": "bigint"}
        assert {c: columns[name][c] for c in sync_meta} == sync_meta
        assert columns[name]["id"] == "uuid"
