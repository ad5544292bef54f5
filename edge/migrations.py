"""Forward-only schema migrations of the edge SQLite store, applied in order when a store opens."""
from __future__ import annotations

from protocol.schema import TABLES


def _table_sql(name: str, index: tuple[str, ...]) -> str:
    cols = "".join(f",\n  {c} TEXT" for c in index)
    idx = "".join(f"\nCREATE INDEX ix_{name}_{c} ON {name}(owner, {c});" for c in index)
    return f"""
CREATE TABLE {name} (
  id TEXT PRIMARY KEY,
  owner TEXT{cols},
  supersedes TEXT,
  payload BLOB NOT NULL,        -- AES-256-GCM sealed JSON of the whole record (PHI)
  hlc TEXT NOT NULL,            -- clock of the latest change applied to the row
  clocks TEXT NOT NULL DEFAULT '{{}}',  -- per-column (or per-member) clocks for LWW merges
  deleted INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX ix_{name}_owner ON {name}(owner);
CREATE INDEX ix_{name}_supersedes ON {name}(supersedes) WHERE supersedes IS NOT NULL;{idx}
"""


# The tables version 1 created. Frozen: a table added later gets its own migration, so that v1 means the same
# schema for every store, whenever it was created.
V1_TABLES = ("users", "doctors", "health_metrics", "symptoms", "appointments", "therapy_sessions", "predictions",
             "family_graph", "health_events")


def _v1() -> str:
    tables = "".join(_table_sql(name, TABLES[name].index) for name in V1_TABLES)
    return f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY) STRICT;
{tables}
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY,      -- no AUTOINCREMENT: seq only orders pending changes
  change_id TEXT NOT NULL UNIQUE,
  tbl TEXT NOT NULL,
  row_id TEXT NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
  columns BLOB,                 -- sealed JSON of the changed columns
  hlc TEXT NOT NULL
) STRICT;
"""


V2 = """
CREATE TABLE quarantine (
  change_id TEXT PRIMARY KEY,
  tbl TEXT NOT NULL,
  row_id TEXT NOT NULL,
  op TEXT NOT NULL,
  columns BLOB,
  hlc TEXT NOT NULL,
  code TEXT NOT NULL,
  reason TEXT NOT NULL,
  quarantined_at TEXT NOT NULL
) STRICT;
CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT) STRICT;
"""



def _v3_medications() -> str:
    """Version 3: the medications table (read from prescription scans)."""
    return _table_sql("medications", TABLES["medications"].index)


# Index i holds the migration that takes the store from version i to i + 1.
MIGRATIONS: list[str] = [_v1(), V2, _v3_medications()]
LATEST = len(MIGRATIONS)
