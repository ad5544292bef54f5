"""Plain-SQL migration runner: files `migrations/NNNN_name.sql` applied in order, each in its own transaction."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from protocol.codes import ErrorCode
from protocol.errors import HealthSyncError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same for every instance migrating the same database.
ADVISORY_LOCK_KEY = 0x48534D4947  # "HSMIG"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(HealthSyncError):
    """A migration file is malformed, was edited after being applied, or failed to apply."""

    code = ErrorCode.MIGRATION_FAILED


@dataclass(frozen=True)
class Migration:
    """One SQL file: its version (the 4-digit prefix), name, text and checksum."""

    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file in version order; refuses duplicate versions and misnamed .sql files."""
    found: dict[str, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"migration file {path.name} is not named NNNN_lower_snake.sql")
        if m.group(1) in found:
            other = found[m.group(1)].path.name
            raise MigrationError(f"two migrations share version {m.group(1)}: {other}, {path.name}")
        found[m.group(1)] = Migration(m.group(1), m.group(2), path)
    return [found[v] for v in sorted(found)]


_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    text PRIMARY KEY,
  name       text NOT NULL,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)"""


def migrate(url: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations and refresh reference data; returns the versions applied now."""
    import psycopg

    migrations = discover(directory)
    applied_now: list[str] = []
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            # Session-level lock: N instances starting together migrate one after another.
            conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
            try:
                conn.execute(_CREATE_TABLE)
                done = {v: c for v, c in conn.execute("SELECT version, checksum FROM schema_migrations")}
                for mig in migrations:
                    if mig.version in done:
                        if done[mig.version] != mig.checksum:
                            raise MigrationError(
                                f"migration {mig.version}_{mig.name} was edited after it was applied",
                                hint="never edit an applied migration; add a new one",
                            )
                        continue
                    with conn.transaction():
                        conn.execute(mig.sql)
                        conn.execute(
                            "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                            (mig.version, mig.name, mig.checksum),
                        )
                    applied_now.append(mig.version)
                with conn.transaction():
                    sync_metric_specs(conn)
                    sync_appointment_transitions(conn)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    except psycopg.Error as exc:
        step = f" while applying {applied_now[-1] if applied_now else 'migrations'}"
        raise MigrationError(f"database error{step}: {type(exc).__name__}: {exc.diag.message_primary or exc}") from exc
    return applied_now


def sync_metric_specs(conn) -> None:
    """Mirror protocol.schema.METRICS into metric_specs so the database bounds check equals the pydantic one."""
    from protocol.schema import METRICS

    exists = conn.execute("SELECT to_regclass('public.metric_specs') IS NOT NULL").fetchone()[0]
    if not exists:
        return
    conn.execute("DELETE FROM metric_specs WHERE NOT (metric_type = ANY(%s))", (list(METRICS),))
    for name, spec in METRICS.items():
        conn.execute(
            "INSERT INTO metric_specs (metric_type, unit, low, high) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (metric_type) DO UPDATE SET unit = EXCLUDED.unit, low = EXCLUDED.low, high = EXCLUDED.high",
            (name, spec.unit, spec.low, spec.high),
        )


def sync_appointment_transitions(conn) -> None:
    """Mirror protocol.appointments.TRANSITIONS into app.appointment_transitions (the trigger of 0016 reads it)."""
    from protocol.appointments import sql_rows

    exists = conn.execute("SELECT to_regclass('app.appointment_transitions') IS NOT NULL").fetchone()[0]
    if not exists:
        return
    conn.execute("DELETE FROM app.appointment_transitions")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO app.appointment_transitions (from_status, to_status, role) VALUES (%s, %s, %s)",
                        sql_rows())


def current_version(conn) -> str | None:
    """The highest applied migration version, or None on an unmigrated database."""
    exists = conn.execute("SELECT to_regclass('public.schema_migrations') IS NOT NULL").fetchone()
    exists = exists[0] if not isinstance(exists, dict) else next(iter(exists.values()))
    if not exists:
        return None
    row = conn.execute("SELECT max(version) AS v FROM schema_migrations").fetchone()
    return row["v"] if isinstance(row, dict) else row[0]
