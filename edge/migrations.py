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


# The tables of v1 and their index columns, frozen: v1 must create the same schema for ever (tables added later
# come in their own migration, which a v1 store also runs).
V1_TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("users", ()),
    ("doctors", ("specialty",)),
    ("health_metrics", ("metric_type", "recorded_at")),
    ("symptoms", ("recorded_at",)),
    ("appointments", ("doctor_id", "status", "scheduled_at")),
    ("therapy_sessions", ("exercise", "started_at")),
    ("predictions", ("disease", "inputs_hash")),
    ("family_graph", ()),
    ("health_events", ("event_type", "occurred_at")),
)


def _tables(names: tuple[str, ...]) -> str:
    """The SQL of tables as protocol.schema declares them now (for the migration that adds them)."""
    return "".join(_table_sql(n, TABLES[n].index) for n in names)


def _v1() -> str:
    tables = "".join(_table_sql(name, index) for name, index in V1_TABLES)
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

# The clinic (issue 10): consents, check-ins and registrations sync; the blind index of patients (HMAC values →
# user id: find a patient without decrypting every profile), when each patient was last seen on this device (what
# a shared kiosk keeps), and the hashes of one-time claim codes.
KIOSK = _tables(("consents", "check_ins", "registrations")) + """
CREATE TABLE patient_index (
  blind TEXT NOT NULL,          -- hex HMAC-SHA256 of a normalised name token, date of birth or record number
  user_id TEXT NOT NULL,
  field TEXT NOT NULL CHECK (field IN ('name', 'dob', 'mrn')),  -- which kind of value (re-indexing replaces it)
  PRIMARY KEY (blind, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX ix_patient_index_user ON patient_index(user_id);
CREATE TABLE kiosk_seen (
  user_id TEXT PRIMARY KEY,
  last_seen_at TEXT NOT NULL,   -- UTC ISO time of the latest registration or check-in on this device
  purge_requested INTEGER NOT NULL DEFAULT 0  -- share withdrawn: purge once synced, whatever the window
) STRICT;
CREATE TABLE patient_keys (
  user_id TEXT PRIMARY KEY,
  wrapped BLOB NOT NULL         -- the patient's data key, sealed by the store's data key
) STRICT;
CREATE TABLE claim_codes (
  code_hash TEXT PRIMARY KEY,   -- hex HMAC-SHA256 of the code: the code itself is shown once, never stored
  user_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
) STRICT;
"""

# Version 4: the medications table (read from prescription scans).
MEDICATIONS = _tables(("medications",))

# Version 5: the per-table `(owner)` index goes wherever an `(owner, column)` index exists: that index answers every
# owner lookup by its prefix, and the duplicate cost each row written a fourth B-tree insert (measured with
# callgrind: 4 % of a bulk pull's apply). users and family_graph have no other index and keep theirs.
DROP_REDUNDANT_OWNER_INDEXES = "".join(
    f"DROP INDEX IF EXISTS ix_{t}_owner;\n"
    for t in ("appointments", "check_ins", "consents", "doctors", "health_events", "health_metrics", "medications",
              "predictions", "registrations", "symptoms", "therapy_sessions"))

# Version 6: a clinic device files each claim code's digest with the server (POST /v1/patients/claims) when it
# next syncs; until then the digest waits here, sealed (a SHA-256 of a 50-bit code in clear could be brute-forced
# from a stolen file), and it is erased once the server has it: `server_digest` holds the sealed
# protocol.claims.code_digest(code), NULL once filed (`filed_at`).
# And the rows a kiosk purged while the server still shows them to it (a withdrawn registration, a patient not seen
# within the window): ids and clocks only, no PHI, so the device's checksums keep matching the server's and the next
# round does not re-pull the table only to purge the same rows again (edge/pull.local_checksums).
CLAIM_FILING = """
ALTER TABLE claim_codes ADD COLUMN clinic_id TEXT;
ALTER TABLE claim_codes ADD COLUMN server_digest BLOB;
ALTER TABLE claim_codes ADD COLUMN filed_at TEXT;
CREATE TABLE kiosk_purged (
  tbl TEXT NOT NULL,
  id TEXT NOT NULL,
  hlc TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  PRIMARY KEY (tbl, id)
) STRICT, WITHOUT ROWID;
"""

# Index i holds the migration that takes the store from version i to i + 1.
MIGRATIONS: list[str] = [_v1(), V2, KIOSK, MEDICATIONS, DROP_REDUNDANT_OWNER_INDEXES, CLAIM_FILING]
LATEST = len(MIGRATIONS)
