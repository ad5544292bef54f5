"""The doctor_performance materialized view (migration 0083): refreshed concurrently (readers never wait) by the
server's jobs, read by the directory."""
from __future__ import annotations

import uuid
from typing import Any

COLUMNS = ("doctor_id, user_id, full_name, specialty, rating, completed_appointments, bids, bids_won, win_rate, "
           "mean_time_to_first_bid_s, refreshed_at")


def refresh(conn) -> None:
    """REFRESH MATERIALIZED VIEW CONCURRENTLY (the login role, outside a transaction block)."""
    conn.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY doctor_performance")


def read(conn, doctor_id: uuid.UUID | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Rows of the view, best win rate first."""
    where, params = ("WHERE doctor_id = %s", [doctor_id]) if doctor_id else ("", [])
    return conn.execute(f"SELECT {COLUMNS} FROM doctor_performance {where} "
                        f"ORDER BY win_rate DESC NULLS LAST, doctor_id LIMIT %s", [*params, limit]).fetchall()
