"""Test helpers: one clinical record of each kind written as the login role (as a kiosk's sync would store it)."""
from __future__ import annotations

import datetime as dt
import json
import uuid

HASH = "ab" * 32


def _insert(db, table: str, row: dict) -> uuid.UUID:
    row = {"id": uuid.uuid4(), "hlc": "seed", **row}
    cols = ", ".join(row)
    marks = ", ".join("%s::jsonb" if isinstance(v, dict) else "%s" for v in row.values())
    values = [json.dumps(v) if isinstance(v, dict) else v for v in row.values()]
    with db.admin() as conn:
        conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", values)
    return row["id"]


def record(db, table: str, patient: uuid.UUID, at: dt.datetime | None = None, **extra) -> uuid.UUID:
    """A plausible row of `table` for the patient (fields overridable); returns its id."""
    at = at or dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    base = {
        "health_metrics": {"metric_type": "heart_rate", "unit": "bpm", "value": 72.0, "recorded_at": at},
        "symptoms": {"description": "chest pain since this morning", "severity": 7, "recorded_at": at,
                     "triage": {"urgency": "emergency", "specialty": "cardiology", "red_flag": True},
                     "voice_analysis": {"transcript": "chest pain since this morning",
                                        "uncertain_words": ["morning"]}},
        "therapy_sessions": {"exercise": "squat", "reps": 12, "score": 81.5, "duration_s": 90.0, "started_at": at},
        "predictions": {"disease": "diabetes", "probability": 0.23, "confidence": 0.8, "model_name": "pima",
                        "model_version": "1.0", "inputs_hash": HASH, "created_at": at},
        "medications": {"name": "metformin", "strength": 500.0, "unit": "mg", "frequency": "BD", "route": "oral",
                        "recorded_at": at},
        "check_ins": {"checked_in_at": at},  # `at` defaults to an hour ago: pass now for "today"
    }[table]
    return _insert(db, table, {"user_id": patient, **base, **extra})
