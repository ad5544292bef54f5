"""health_metrics partitioned by year (migration 0091): the conversion keeps every row, policy, grant, trigger and
index; year-bounded reads touch one partition; any date has a partition; and an id stays unique across partitions,
so a push of a known id with another recorded_at is answered as before (one row, the merge rules unchanged)."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
import time
import uuid

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg.rows import dict_row

from protocol import changeset
from protocol.changeset import Change
from protocol.schema import new_id
from sync_server import reconcile, sync_service, testing
from sync_server.migrate import MIGRATIONS_DIR, discover, migrate

PARTITIONING = "0091"
COLS = "id, user_id, supersedes, metric_type, unit, value, recorded_at, source, notes, hlc, deleted, clinic_id"


def _utc(year: int, month: int = 6) -> dt.datetime:
    return dt.datetime(year, month, 1, 12, tzinfo=dt.UTC)


def _schema_facts(conn) -> dict:
    """What must survive the conversion, read from the catalogs."""
    one = "'public.health_metrics'::regclass"
    return {
        "columns": conn.execute("SELECT attname, format_type(atttypid, atttypmod), attnotnull, "
                                f"pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a LEFT JOIN pg_attrdef d "
                                f"ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = {one} "
                                "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum").fetchall(),
        "checks": conn.execute(f"SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = {one} "
                               "AND contype = 'c' ORDER BY 1").fetchall(),
        "policies": conn.execute("SELECT policyname, permissive, roles::text, cmd, qual, with_check FROM pg_policies "
                                 "WHERE tablename = 'health_metrics' ORDER BY 1").fetchall(),
        "table_grants": conn.execute("SELECT grantee, privilege_type FROM information_schema.role_table_grants "
                                     "WHERE table_name = 'health_metrics' ORDER BY 1, 2").fetchall(),
        "column_grants": conn.execute("SELECT grantee, column_name, privilege_type FROM "
                                      "information_schema.column_privileges WHERE table_name = 'health_metrics' "
                                      "ORDER BY 1, 2, 3").fetchall(),
        # A partitioned table's index prints as `ON ONLY` (it exists on each partition): the same definition.
        "indexes": conn.execute(f"SELECT c.relname, replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ') "
                                f"FROM pg_index i JOIN pg_class c "
                                f"ON c.oid = i.indexrelid WHERE i.indrelid = {one} AND NOT i.indisprimary "
                                "ORDER BY 1").fetchall(),
        "triggers": conn.execute(f"SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = {one} "
                                 "AND NOT tgisinternal ORDER BY 1").fetchall(),
        "rls": conn.execute(f"SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = {one}").fetchone(),
    }


def _rows_digest(conn) -> tuple[int, str, int]:
    """Count, a checksum over every column of every row (change_seq and clocks included) and the max change_seq."""
    return conn.execute("SELECT count(*), md5(coalesce(string_agg(row(t.*)::text, '|' ORDER BY t.id), '')), "
                        "max(t.change_seq) FROM health_metrics t").fetchone()


def _as(conn, user: uuid.UUID, role: str = "patient") -> None:
    conn.execute("SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
                 (json.dumps({"sub": str(user), "role": "authenticated", "app_metadata": {"role": role}}),))


def _scanned_partitions(conn, sql: str, params: tuple) -> set[str]:
    plan = conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0]
    found, stack = set(), [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        if node.get("Relation Name", "").startswith("health_metrics"):
            found.add(node["Relation Name"])
        stack.extend(node.get("Plans", []))
    return found


@pytest.fixture
def unpartitioned(pg_base_url, tmp_path):
    """A database migrated up to the migration before the partitioning, and the directory to finish it with."""
    directory = tmp_path / "migrations"
    directory.mkdir()
    for m in discover():
        if m.version < PARTITIONING:
            shutil.copy(m.path, directory / m.path.name)
    url = testing.create_database(pg_base_url, "hs_part")
    migrate(url, directory)
    yield url, directory
    testing.drop_database(pg_base_url, url)


def test_the_conversion_keeps_rows_policies_grants_triggers_and_indexes(unpartitioned):
    url, directory = unpartitioned
    alice, bob, clinic = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    years = [1950, 2019, 2021, 2024, 2025, 2150]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO clinics (id, name) VALUES (%s, 'North')", (clinic,))
        rows = [(uuid.uuid4(), owner, None, "heart_rate", "bpm", 60.0 + i, _utc(y), "device", f"n{i}", f"h{i}",
                 i % 5 == 0, clinic if owner == alice else uuid.UUID(int=0))
                for i, (owner, y) in enumerate((o, y) for o in (alice, bob) for y in years for _ in range(3))]
        rows.append((uuid.uuid4(), alice, rows[3][0], "heart_rate", "bpm", 99.0, _utc(2025), "manual", "fix", "hx",
                     False, clinic))  # a correction of a 2019 reading, made in 2025
        with conn.cursor().copy(f"COPY health_metrics ({COLS}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
        before, digest = _schema_facts(conn), _rows_digest(conn)

    shutil.copy(MIGRATIONS_DIR / "0091_health_metrics_by_year.sql", directory)
    assert migrate(url, directory) == [PARTITIONING]

    with psycopg.connect(url) as conn:
        assert _rows_digest(conn) == digest  # every row, every column, the same change_seq (pull cursors hold)
        after = _schema_facts(conn)
        for fact in ("columns", "checks", "policies", "table_grants", "column_grants", "indexes", "rls"):
            assert after[fact] == before[fact], fact
        old_triggers, new_triggers = dict(before["triggers"]), dict(after["triggers"])
        assert set(old_triggers) <= set(new_triggers)
        for name, definition in old_triggers.items():
            if name == "health_metrics_supersedes_owner":  # now told which table to search (every partition)
                assert new_triggers[name] == definition.replace("check_supersedes_owner()",
                                                                "check_supersedes_owner('health_metrics')")
            else:
                assert new_triggers[name] == definition
        assert conn.execute("SELECT relkind FROM pg_class WHERE oid = 'health_metrics'::regclass").fetchone()[0] == "p"
        assert conn.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'health_metrics_pkey'"
                            ).fetchone()[0] == "PRIMARY KEY (id, recorded_at)"
        # Each row in its year's partition; 1950 and 2150 (outside the created years) in the default one.
        placed = dict(conn.execute("SELECT extract(year FROM recorded_at)::int, string_agg(DISTINCT "
                                   "tableoid::regclass::text, ',') FROM health_metrics GROUP BY 1").fetchall())
        assert placed == {1950: "health_metrics_default", 2019: "health_metrics_y2019",
                          2021: "health_metrics_y2021", 2024: "health_metrics_y2024", 2025: "health_metrics_y2025",
                          2150: "health_metrics_default"}
        assert conn.execute("SELECT count(*) FROM app.health_metric_ids").fetchone()[0] == len(rows)

        # RLS still decides: Alice sees her rows only, Bob none of hers.
        _as(conn, alice)
        assert conn.execute("SELECT count(*) FROM health_metrics").fetchone()[0] == \
            sum(1 for r in rows if r[1] == alice)
        _as(conn, bob)
        assert conn.execute("SELECT count(*) FROM health_metrics WHERE user_id = %s", (alice,)).fetchone()[0] == 0
        conn.rollback()

        # A year-bounded read (the API's query shape, as the patient) plans one partition only.
        _as(conn, alice)
        scanned = _scanned_partitions(
            conn, "SELECT id, value FROM health_metrics t WHERE NOT t.deleted AND t.user_id = %s "
                  "AND t.recorded_at >= %s AND t.recorded_at < %s ORDER BY t.recorded_at DESC",
            (alice, _utc(2024, 1).replace(day=1, hour=0), _utc(2025, 1).replace(day=1, hour=0)))
        assert scanned == {"health_metrics_y2024"}
        conn.rollback()


def test_a_far_past_or_far_future_reading_lands_in_the_default_partition(db):
    with db.admin() as conn:
        for when in (dt.datetime(1901, 3, 1, tzinfo=dt.UTC), dt.datetime(2300, 3, 1, tzinfo=dt.UTC)):
            row = conn.execute("INSERT INTO health_metrics (id, user_id, metric_type, unit, value, recorded_at, hlc) "
                               "VALUES (%s, %s, 'heart_rate', 'bpm', 70, %s, 'h') RETURNING tableoid::regclass::text "
                               "AS part", (uuid.uuid4(), uuid.uuid4(), when)).fetchone()
            assert row["part"] == "health_metrics_default"
        this_year = dt.datetime.now(dt.UTC).year
        row = conn.execute("INSERT INTO health_metrics (id, user_id, metric_type, unit, value, recorded_at, hlc) "
                           "VALUES (%s, %s, 'heart_rate', 'bpm', 70, now(), 'h') RETURNING tableoid::regclass::text "
                           "AS part", (uuid.uuid4(), uuid.uuid4())).fetchone()
        assert row["part"] == f"health_metrics_y{this_year}"


def test_an_id_stays_unique_across_partitions_for_every_writer(db):
    taken = uuid.uuid4()
    insert = ("INSERT INTO health_metrics (id, user_id, metric_type, unit, value, recorded_at, hlc) "
              "VALUES (%s, %s, 'heart_rate', 'bpm', 70, %s, 'h')")
    with db.admin() as conn:
        conn.execute(insert, (taken, uuid.uuid4(), _utc(2024)))
    with pytest.raises(Exception) as err, db.admin() as conn:
        conn.execute(insert, (taken, uuid.uuid4(), _utc(2025)))  # another year's partition: no shared index
    assert err.value.code == "DUPLICATE" and "health_metrics_pkey" in err.value.message
    with db.admin() as conn:
        # A reading moved to another year keeps its id (a cross-partition UPDATE deletes and inserts), and the id
        # itself never changes.
        conn.execute("UPDATE health_metrics SET recorded_at = %s WHERE id = %s", (_utc(2026), taken))
        assert conn.execute("SELECT count(*) AS n FROM health_metrics WHERE id = %s", (taken,)).fetchone()["n"] == 1
        assert conn.execute("SELECT count(*) AS n FROM app.health_metric_ids WHERE id = %s",
                            (taken,)).fetchone()["n"] == 1
    with pytest.raises(Exception) as err, db.admin() as conn:
        conn.execute("UPDATE health_metrics SET id = %s WHERE id = %s", (uuid.uuid4(), taken))
    assert err.value.code == "VALIDATION_FAILED"
    with db.admin() as conn:  # a deleted row releases its id
        conn.execute("DELETE FROM health_metrics WHERE id = %s", (taken,))
        assert conn.execute("SELECT count(*) AS n FROM app.health_metric_ids WHERE id = %s",
                            (taken,)).fetchone()["n"] == 0
        conn.execute(insert, (taken, uuid.uuid4(), _utc(2027)))


def test_a_correction_cannot_supersede_another_patients_reading_of_another_year(db):
    alice, bob, original = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with db.admin() as conn:
        conn.execute("INSERT INTO health_metrics (id, user_id, metric_type, unit, value, recorded_at, hlc) "
                     "VALUES (%s, %s, 'heart_rate', 'bpm', 70, %s, 'h')", (original, alice, _utc(2024)))
    claims = {"sub": str(bob), "role": "authenticated", "app_metadata": {"role": "patient"}}
    with pytest.raises(Exception) as err, db.session("authenticated", claims) as conn:
        conn.execute("INSERT INTO health_metrics (id, user_id, supersedes, metric_type, unit, value, recorded_at, hlc)"
                     " VALUES (%s, %s, %s, 'heart_rate', 'bpm', 71, %s, 'h')", (uuid.uuid4(), bob, original,
                                                                             _utc(2025)))
    assert err.value.code == "VALIDATION_FAILED" and err.value.field == "supersedes"


# ---------------------------------------------------------------- the same id pushed twice


class _Phone:
    """An enrolled device of one user that pushes health metrics through the real push path."""

    def __init__(self, db, server_key, user: uuid.UUID | None = None):
        self.db, self.server_key = db, server_key
        self.user, self.device, self.signer = str(user or uuid.uuid4()), str(uuid.uuid4()), Ed25519PrivateKey.generate()
        with db.session("authenticated", self.claims) as conn:
            sync_service.enroll(conn, self.user, self.device, changeset.raw_public(self.signer), b"\x01" * 32,
                                "phone", server_key)
        self.i = 0

    @property
    def claims(self) -> dict:
        return {"sub": self.user, "role": "authenticated", "app_metadata": {"role": "patient"}}

    def change(self, pk: str, recorded_at: dt.datetime, value: float = 70.0) -> Change:
        self.i += 1
        doc = {"id": pk, "user_id": self.user, "metric_type": "heart_rate", "unit": "bpm", "value": value,
               "recorded_at": recorded_at.isoformat(), "source": "device"}
        hlc = f"{int(time.time() * 1000) - 1000:015d}:{self.i:06d}:{self.device}"
        return Change(str(new_id()), "health_metrics", pk, "insert", doc, hlc)

    def push(self, *changes: Change) -> list[tuple[str, str | None]]:
        blob = changeset.seal(list(changes), device_id=self.device, user_id=self.user, signing_key=self.signer,
                              server_public_key=changeset.raw_public(self.server_key))[1]
        with self.db.session("authenticated", self.claims) as conn:
            out = sync_service.push(conn, blob, reconcile.Caller(self.user), self.server_key)
        return [(r["status"], r.get("code")) for r in out["receipts"]]


@pytest.fixture(scope="module")
def server_key():
    return changeset.new_server_key()


def _stored(db, pk: str) -> list[dict]:
    with db.admin() as conn:
        conn.row_factory = dict_row
        return conn.execute("SELECT user_id::text, value, recorded_at FROM health_metrics WHERE id = %s",
                            (pk,)).fetchall()


def test_a_replay_with_another_recorded_at_is_a_duplicate_and_keeps_the_first_row(db, server_key):
    phone = _Phone(db, server_key)
    pk = str(new_id())
    assert phone.push(phone.change(pk, _utc(2024), 70)) == [("accepted", None)]
    # The edited reading moved to another year, replayed by the same device, then by the user's second device.
    assert phone.push(phone.change(pk, _utc(2025), 71)) == [("duplicate", None)]
    tablet = _Phone(db, server_key, uuid.UUID(phone.user))
    assert tablet.push(tablet.change(pk, _utc(2023), 72)) == [("duplicate", None)]
    assert _stored(db, pk) == [{"user_id": phone.user, "value": 70.0, "recorded_at": _utc(2024)}]


def test_another_users_push_of_a_taken_id_is_refused_whatever_its_year(db, server_key):
    alice, mallory = _Phone(db, server_key), _Phone(db, server_key)
    pk = str(new_id())
    assert alice.push(alice.change(pk, _utc(2024))) == [("accepted", None)]
    assert mallory.push(mallory.change(pk, _utc(2026), 90)) == [("rejected", "SYNC_REJECTED_RLS")]
    assert _stored(db, pk) == [{"user_id": alice.user, "value": 70.0, "recorded_at": _utc(2024)}]


def test_one_id_twice_in_one_changeset_keeps_the_first_record(db, server_key):
    phone = _Phone(db, server_key)
    pk = str(new_id())
    # As with ON CONFLICT DO NOTHING before the partitioning: the first record is stored; the second names a row
    # that now exists and is answered like a later push of it, `duplicate` (never `accepted`: it was not stored).
    assert phone.push(phone.change(pk, _utc(2024), 70), phone.change(pk, _utc(2025), 71)) == \
        [("accepted", None), ("duplicate", None)]
    assert _stored(db, pk) == [{"user_id": phone.user, "value": 70.0, "recorded_at": _utc(2024)}]


def test_a_concurrent_push_of_the_same_id_by_another_user_waits_and_is_refused(db, server_key, pg_url):
    alice, mallory = _Phone(db, server_key), _Phone(db, server_key)
    pk = str(new_id())
    receipts: list = []
    with psycopg.connect(pg_url) as holder:  # Alice's insert, not yet committed
        holder.execute("INSERT INTO health_metrics (id, user_id, metric_type, unit, value, recorded_at, hlc) "
                       "VALUES (%s, %s, 'heart_rate', 'bpm', 70, %s, 'h')", (pk, alice.user, _utc(2024)))
        pusher = threading.Thread(target=lambda: receipts.append(mallory.push(mallory.change(pk, _utc(2026), 90))))
        pusher.start()
        with psycopg.connect(pg_url, autocommit=True) as watcher:  # bounded wait for the push to block
            waiting = False
            for _ in range(200):
                waiting = watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                          "AND wait_event_type = 'Lock'").fetchone()[0] > 0
                if waiting:
                    break
                time.sleep(0.05)
        assert waiting and pusher.is_alive()  # on the registry's key, as it waited on the primary key before
        holder.commit()
    pusher.join(30)
    assert receipts == [[("rejected", "SYNC_REJECTED_RLS")]]
    assert _stored(db, pk) == [{"user_id": alice.user, "value": 70.0, "recorded_at": _utc(2024)}]
