"""What a shared clinic device keeps: the patients in its scope (seen on it within a window, or with an
appointment today), and the purge of every other patient's rows, once all of them have synced.

The purge destroys the patient's own data key (edge/patient_keys.py), then deletes their rows with SQLite's
secure_delete on and the WAL truncated, so their bytes leave the files too.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from edge import patients
from edge.store import Store
from protocol.errors import InputError, ValidationError
from protocol.schema import TABLES, utcnow

DEFAULT_WINDOW_DAYS = 14
LOCAL_TABLES = ("patient_keys", "patient_index", "kiosk_seen", "claim_codes")  # keyed by user_id, never synced


def _owned_tables() -> list[str]:
    return [name for name, spec in TABLES.items() if spec.owner is not None]


def in_scope(store: Store, window_days: int, now: dt.datetime) -> set[str]:
    """Patients this device keeps: seen on it within the window (and not withdrawn here), with an appointment
    today (UTC), and the device's own and signed-in users."""
    since = (now - dt.timedelta(days=window_days)).astimezone(dt.UTC).isoformat()
    keep = {r[0] for r in store.query("SELECT user_id FROM kiosk_seen WHERE last_seen_at >= ? AND "
                                      "purge_requested=0", (since,))}
    start = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    withdrawn = {r[0] for r in store.query("SELECT user_id FROM kiosk_seen WHERE purge_requested=1")}
    keep |= {str(a.patient_id) for a in store.appointments.list(since=start, until=start + dt.timedelta(days=1),
                                                                 limit=100_000)} - withdrawn
    keep |= {str(v) for v in (store.meta("user_id"), store.meta(patients.SESSION_USER_META)) if v}
    return keep


def unsynced(store: Store, patient: str) -> int:
    """How many of the patient's rows have a change not yet acknowledged by the server (pending or quarantined)."""
    n = 0
    for table in _owned_tables():
        for queue in ("outbox", "quarantine"):
            n += store.query(f"SELECT count(*) FROM {queue} q JOIN {table} t ON t.id=q.row_id WHERE q.tbl=? "
                             "AND t.owner=?", (table, patient))[0][0]
    return n


def purge(store: Store, *, window_days: int = DEFAULT_WINDOW_DAYS, now: dt.datetime | None = None,
          dry_run: bool = False) -> dict[str, Any]:
    """Delete the rows of every patient outside this clinic device's scope whose changes have all synced; a
    patient with anything pending or quarantined waits (their rows may be the only copy). Returns who went and
    who waits."""
    if patients.device_clinic(store) is None:
        raise InputError("purge is for clinic devices: this one belongs to no clinic", field="store",
                         hint="a personal device keeps its user's data")
    if window_days < 0:
        raise ValidationError("--window-days must be 0 or more", field="window_days")
    now = now or utcnow()
    keep = in_scope(store, window_days, now)
    owners: set[str] = set()
    for table in (*_owned_tables(),):
        owners |= {r[0] for r in store.query(f"SELECT DISTINCT owner FROM {table} WHERE owner IS NOT NULL")}
    owners |= {r[0] for r in store.query("SELECT user_id FROM kiosk_seen")}
    purged, waiting = [], []
    for patient in sorted(owners - keep):
        pending = unsynced(store, patient)
        if pending:
            waiting.append({"patient_id": patient, "unsynced_changes": pending})
        else:
            purged.append({"patient_id": patient, "rows": 0 if dry_run else _delete(store, patient)})
    if purged and not dry_run:
        store.query("PRAGMA wal_checkpoint(TRUNCATE)")  # no copy of a deleted page is left in the WAL
    return {"window_days": window_days, "kept": len(keep & owners), "purged": purged, "waiting": waiting,
            "dry_run": dry_run}


def _delete(store: Store, patient: str) -> int:
    """Delete one patient's rows, zeroing the freed bytes (no outbox capture: the server keeps its copy)."""
    from edge.voice.pipeline import audio_dir

    uuid.UUID(patient)
    store.query("PRAGMA secure_delete=ON")
    removed = 0
    symptoms = [r[0] for r in store.query("SELECT id FROM symptoms WHERE owner=?", (patient,))]
    with store.transaction() as conn:
        store.patient_keys.destroy(conn, patient)  # crypto-shred first: any copy of their rows is now unreadable
        for table in _owned_tables():
            # Their ids and clocks stay (no PHI): the server still shows these rows to the kiosk, and the checksums
            # must keep agreeing, or every round would re-pull them only to purge them again.
            conn.execute("INSERT OR REPLACE INTO kiosk_purged(tbl, id, hlc, deleted, user_id) SELECT ?, id, hlc, "
                         f"deleted, owner FROM {table} WHERE owner=?", (table, patient))
            removed += conn.execute(f"DELETE FROM {table} WHERE owner=?", (patient,)).rowcount
        for table in LOCAL_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE user_id=?", (patient,))
    for symptom in symptoms:  # recordings kept with the patient's audio consent go with their rows
        (audio_dir(store) / f"{symptom}.flac.sealed").unlink(missing_ok=True)
    return removed


def after_sync(store: Store, window_days: int = DEFAULT_WINDOW_DAYS) -> dict[str, Any] | None:
    """The purge a clinic device runs after each sync round (what just synced may now go); None on a personal
    device, which keeps its user's data."""
    if patients.device_clinic(store) is None:
        return None
    return purge(store, window_days=window_days)
