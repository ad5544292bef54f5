"""The server's periodic jobs, bounded and run by one instance at a time: expire untaken requests, escalate
unacknowledged alerts, refresh `doctor_performance`, prune old events.

Each round takes a transaction-scoped advisory lock, so with N instances a round runs once; each job touches a
bounded number of rows per round (the next round takes the rest).
"""
from __future__ import annotations

import logging
import time

from sync_server.events.relay import _connect, _Loop

logger = logging.getLogger(__name__)
JOBS_LOCK_KEY = 0x48534A42  # "HSJB"


def run_round(conn, *, refresh_performance: bool = False, retention_days: float = 7.0) -> dict[str, int] | None:
    """One round of every job in one transaction (the login role's connection); None when another instance holds
    the round. Returns what each job did."""
    from sync_server import alerts
    from sync_server.marketplace import booking, performance

    with conn.transaction():
        if not conn.execute("SELECT pg_try_advisory_xact_lock(%s) AS ok", (JOBS_LOCK_KEY,)).fetchone()["ok"]:
            return None
        done = {"expired": booking.expire_due(conn), "escalated": alerts.escalate_due(conn)}
        # The highest seq pruned is kept (0093): a socket resuming from before it is told EVENTS_PRUNED.
        done["pruned"] = conn.execute(
            "WITH gone AS (DELETE FROM event_log WHERE seq IN (SELECT seq FROM event_log WHERE at < "
            "now() - make_interval(secs => %s) ORDER BY seq LIMIT 10000) RETURNING seq), "
            "mark AS (UPDATE event_relay_state SET pruned_upto = greatest(pruned_upto, (SELECT max(seq) FROM gone)) "
            "WHERE id = 1 AND EXISTS (SELECT 1 FROM gone)) "
            "SELECT count(*) AS n FROM gone", (retention_days * 86400,)).fetchone()["n"]
    if refresh_performance:  # outside the round's transaction: CONCURRENTLY may not run inside one
        performance.refresh(conn)
        done["refreshed"] = 1
    return done


class Jobs(_Loop):
    """Runs a round every `jobs_interval_s`; refreshes the materialized view every `perf_refresh_s`."""

    def __init__(self, db_url: str, settings):
        super().__init__("server-jobs")
        self.db_url, self.settings = db_url, settings
        self.last_refresh = time.monotonic()

    def session(self) -> None:
        with _connect(self.db_url) as conn:
            conn.execute("RESET ROLE")  # the login role: it owns the view it refreshes
            while not self.stopping.wait(self.settings.jobs_interval_s):
                due = time.monotonic() - self.last_refresh >= self.settings.perf_refresh_s
                done = run_round(conn, refresh_performance=due, retention_days=self.settings.event_retention_days)
                if due:
                    self.last_refresh = time.monotonic()
                if done and any(done.values()):
                    logger.info("jobs round: %s", done)
