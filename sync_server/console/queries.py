"""What each console view reads, as SQL run on the signed-in user's connection (their role and claims: RLS decides
every row). Patient data read here is audited like the API's reads."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sync_server import audit, clinical_reads
from sync_server.auth import Principal

PAGE = 50


def my_patients(conn, principal: Principal, q: str = "", offset: int = 0) -> dict[str, Any]:
    """A page of the patients in the caller's care scope, by name. The users table's own read policy decides who
    is listed (clinic registrations, appointments, break-glass: 0051), walked in name order so a page of a 10,000-
    patient clinic checks only the rows it shows; `q` filters by name or record number. The total counts the scope
    (patients whose profile has not reached the server yet are counted but not listed)."""
    where, params = ["NOT u.deleted", "u.id <> auth.uid()"], []
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append("(u.full_name ILIKE %s OR EXISTS (SELECT 1 FROM registrations m WHERE m.user_id = u.id "
                     "AND m.mrn ILIKE %s))")
        params += [like, like]
    rows = conn.execute(
        "SELECT u.id, u.full_name, u.date_of_birth, u.sex, (SELECT r.mrn FROM registrations r WHERE r.user_id = u.id "
        "AND r.status = 'active' AND NOT r.deleted ORDER BY r.registered_at LIMIT 1) AS mrn FROM users u "
        f"WHERE {' AND '.join(where)} ORDER BY u.full_name, u.id LIMIT %s OFFSET %s",
        [*params, PAGE, offset]).fetchall()
    if q:
        total = offset + len(rows)
    else:
        total = conn.execute(
            "SELECT count(*) AS n FROM (SELECT r.user_id FROM registrations r WHERE r.status = 'active' AND NOT "
            "r.deleted AND r.clinic_id IN (SELECT app.my_clinics('{nurse,doctor,admin}')) "
            "UNION SELECT app.appointment_patients() UNION SELECT app.glass_patients()) s").fetchone()["n"]
    audit.record_many(conn, principal, "read", "users", [(r["id"], r["id"]) for r in rows],
                      detail={"view": "console:patients"})
    return {"items": rows, "total": total, "offset": offset, "page": PAGE}


def in_scope(conn, patient: uuid.UUID) -> bool:
    """Whether the caller may read this patient (the same test RLS applies)."""
    return bool(conn.execute("SELECT app.in_scope(%s) AS ok", (patient,)).fetchone()["ok"])


def chart(conn, principal: Principal, patient: uuid.UUID) -> dict[str, Any]:
    """Everything on a patient's chart, each part through the audited clinical read."""
    def page(table: str, **kw) -> list[dict[str, Any]]:
        return clinical_reads.list_records(conn, principal, table, user_id=patient, current_only=True,
                                           limit=500, **kw)["items"]

    profile = conn.execute("SELECT id, full_name, date_of_birth, sex FROM users WHERE id = %s AND NOT deleted",
                           (patient,)).fetchone()
    family = conn.execute("SELECT members FROM family_graph WHERE user_id = %s AND NOT deleted", (patient,)).fetchall()
    audit.record(conn, principal, "read", "family_graph", subject_id=patient, detail={"view": "console:chart"})
    metrics = page("health_metrics")
    series: dict[str, list[tuple[float, float]]] = {}
    for m in reversed(metrics):  # oldest first, as a chart draws them
        series.setdefault(m["metric_type"], []).append((m["recorded_at"].timestamp(), m["value"]))
    return {
        "profile": profile, "series": series, "labs": [m for m in metrics if m["source"] == "scan"],
        "symptoms": page("symptoms"), "therapy": page("therapy_sessions"), "predictions": page("predictions"),
        "medications": page("medications"), "family": [r["members"] for r in family],
    }


def family_elements(patient: uuid.UUID, label: str, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The family graph (protocol.schema FamilyGraph: members keyed by id) as cytoscape elements: the patient, each
    relative with their conditions, and the relation as the edge."""
    nodes = [{"data": {"id": str(patient), "label": label, "kind": "patient"}}]
    edges = []
    for doc in documents:
        for member_id, m in sorted((doc or {}).items()):
            if not isinstance(m, dict):
                continue
            conditions = ", ".join(str(c.get("name") if isinstance(c, dict) else c)
                                   for c in (m.get("conditions") or [])[:4])
            name = str(m.get("name") or m.get("relation") or "relative") + ("" if m.get("living", True) else " †")
            nodes.append({"data": {"id": f"m-{member_id}", "label": f"{name}\n{conditions}".strip(),
                                   "kind": "member"}})
            edges.append({"data": {"id": f"e-{member_id}", "source": str(patient), "target": f"m-{member_id}",
                                   "label": str(m.get("relation") or "")}})
    return nodes + edges


def my_appointments(conn, days: int = 28) -> list[dict[str, Any]]:
    """The calling doctor's appointments from this week's Monday for `days` days (RLS: their own only)."""
    return conn.execute(
        "SELECT a.id, a.patient_id, a.scheduled_at, a.status, a.reason, u.full_name FROM appointments a "
        "JOIN doctors d ON d.id = a.doctor_id AND d.user_id = auth.uid() "
        "LEFT JOIN users u ON u.id = a.patient_id "
        "WHERE NOT a.deleted AND a.scheduled_at >= date_trunc('week', now()) "
        "AND a.scheduled_at < date_trunc('week', now()) + make_interval(days => %s) ORDER BY a.scheduled_at",
        (days,)).fetchall()


def calendar(rows: list[dict[str, Any]], today: dt.date, days: int = 28) -> list[list[dict[str, Any]]]:
    """Weeks of days (Monday first), each day with its appointments."""
    monday = today - dt.timedelta(days=today.weekday())
    by_day: dict[dt.date, list[dict[str, Any]]] = {}
    for r in rows:
        by_day.setdefault(r["scheduled_at"].astimezone(dt.UTC).date(), []).append(r)
    dates = [monday + dt.timedelta(days=i) for i in range(days)]
    return [[{"date": d, "today": d == today, "items": by_day.get(d, [])} for d in dates[w:w + 7]]
            for w in range(0, days, 7)]


def todays_queue(conn, principal: Principal) -> list[dict[str, Any]]:
    """Today's check-ins at the caller's clinics (UTC day), first come first, with minutes waited."""
    rows = conn.execute(
        "SELECT c.id, c.user_id, c.checked_in_at, u.full_name, "
        "floor(extract(epoch FROM now() - c.checked_in_at) / 60)::int AS waited_min FROM check_ins c "
        "LEFT JOIN users u ON u.id = c.user_id "
        "WHERE NOT c.deleted AND c.checked_in_at >= date_trunc('day', now()) "
        "AND c.clinic_id IN (SELECT app.my_clinics('{nurse,doctor,admin}')) ORDER BY c.checked_in_at, c.id",
    ).fetchall()
    audit.record_many(conn, principal, "read", "check_ins", [(r["id"], r["user_id"]) for r in rows],
                      detail={"view": "console:queue"})
    return rows


def quiet_minutes(conn) -> int:
    """After how long without contact a device counts as gone quiet (app.settings device_quiet_minutes, 60)."""
    row = conn.execute("SELECT (app.setting('device_quiet_minutes', '60'))::text::int AS m").fetchone()
    return row["m"]


DEVICE_ROWS = 200


def devices(conn, quiet_after_min: int) -> dict[str, Any]:
    """The caller's clinics' devices with their sync health, gone-quiet ones first (no contact for the threshold),
    at most DEVICE_ROWS of them with the totals; and the quarantined changes they reported."""
    rows = conn.execute(
        "WITH h AS (SELECT *, (revoked_at IS NULL AND last_seen_at < now() - make_interval(mins => %s)) AS quiet "
        "FROM app.device_health()) "
        "SELECT *, count(*) OVER () AS total, count(*) FILTER (WHERE quiet) OVER () AS quiet_total FROM h "
        "ORDER BY quiet DESC, last_seen_at DESC NULLS LAST, id LIMIT %s", (quiet_after_min, DEVICE_ROWS)).fetchall()
    quarantine = conn.execute(
        "SELECT h.id, h.name, q.value AS item FROM app.device_health() h, jsonb_array_elements(h.quarantine) q "
        "ORDER BY h.name, h.id LIMIT 500").fetchall()
    return {"rows": rows, "total": rows[0]["total"] if rows else 0,
            "quiet": rows[0]["quiet_total"] if rows else 0, "quarantine": quarantine}


def audit_log(conn, *, patient: uuid.UUID | None, staff: uuid.UUID | None, device: uuid.UUID | None,
              break_glass_only: bool, limit: int = 200) -> list[dict[str, Any]]:
    """Audit rows the caller may read (a clinic's admins: its patients and staff), newest first, filtered."""
    where, params = ["true"], []
    for clause, value in (("subject_id = %s", patient), ("actor = %s", staff), ("device_id = %s", device)):
        if value is not None:
            where.append(clause)
            params.append(value)
    if break_glass_only:
        where.append("break_glass")
    return conn.execute(
        f"SELECT at, actor, role, action, table_name, subject_id, device_id, break_glass, request_id FROM audit_log "
        f"WHERE {' AND '.join(where)} ORDER BY at DESC LIMIT %s", [*params, limit]).fetchall()


def metric_volumes(conn, days: int = 30) -> list[dict[str, Any]]:
    """Readings per day over the last `days` days at the caller's clinics (app.metric_volumes: admins, counts only)."""
    return conn.execute("SELECT day, n FROM app.metric_volumes(%s)", (days,)).fetchall()


FUNNEL = ("requested", "bid", "booked", "confirmed", "checked_in", "completed", "no_show", "cancelled", "expired")


def appointment_funnel(conn) -> list[dict[str, Any]]:
    """Appointments by status, in the marketplace's order (statuses a later migration adds show up too)."""
    rows = {r["status"]: r["n"] for r in conn.execute(
        "SELECT status, count(*) AS n FROM appointments WHERE NOT deleted GROUP BY status").fetchall()}
    ordered = [s for s in FUNNEL if s in rows] + sorted(s for s in rows if s not in FUNNEL)
    return [{"status": s, "n": rows[s]} for s in ordered]


def doctor_performance(conn) -> list[dict[str, Any]] | None:
    """The marketplace's doctor_performance materialized view when it exists (issue 11), else None."""
    if conn.execute("SELECT to_regclass('public.doctor_performance') IS NOT NULL AS x").fetchone()["x"] is False:
        return None
    return conn.execute("SELECT * FROM doctor_performance LIMIT 200").fetchall()


def clinic_admin_view(conn) -> dict[str, Any]:
    """The caller's clinics (as admin), their staff and their doctor directory entries."""
    clinics = conn.execute("SELECT c.id, c.name FROM clinics c WHERE c.id IN (SELECT app.my_clinics('{admin}')) "
                           "ORDER BY c.name").fetchall()
    staff = conn.execute("SELECT s.clinic_id, s.user_id, s.role, s.added_at, u.full_name FROM clinic_staff s "
                         "LEFT JOIN users u ON u.id = s.user_id "
                         "WHERE s.clinic_id IN (SELECT app.my_clinics('{admin}')) "
                         "ORDER BY s.role, s.added_at").fetchall()
    doctors = conn.execute("SELECT id, user_id, full_name, specialty, languages, price_min, price_max, available "
                           "FROM doctors WHERE NOT deleted AND clinic_id IN (SELECT app.my_clinics('{admin}')) "
                           "ORDER BY full_name").fetchall()
    return {"clinics": clinics, "staff": staff, "doctors": doctors}


def open_alerts(conn, principal: Principal, limit: int = 50) -> list[dict[str, Any]]:
    """Health alerts the caller may read (0082's policy: the patient's care team): the open ones first, then those
    acknowledged in the last day, newest first."""
    rows = conn.execute(
        "SELECT a.id, a.user_id, a.urgency, a.red_flags, a.raised_at, a.acknowledged_at, a.escalated_at, a.level, "
        "u.full_name FROM health_alerts a LEFT JOIN users u ON u.id = a.user_id "
        "WHERE a.acknowledged_at IS NULL OR a.acknowledged_at > now() - interval '1 day' "
        "ORDER BY a.acknowledged_at IS NOT NULL, a.raised_at DESC, a.id LIMIT %s", (limit,)).fetchall()
    audit.record_many(conn, principal, "read", "health_alerts", [(r["id"], r["user_id"]) for r in rows],
                      detail={"view": "console:alerts"})
    return rows


# The bids on request `a` that the caller may read (RLS: a doctor their own, the patient and their clinic all), as
# a JSON list oldest first, with the bidding doctor's directory name and specialty.
_BIDS = ("coalesce((SELECT jsonb_agg(jsonb_build_object('id', b.id, 'price', b.price, 'slot_start', b.slot_start, "
         "'slot_end', b.slot_end, 'note', b.note, 'status', b.status, 'doctor', d.full_name, "
         "'doctor_specialty', d.specialty) ORDER BY b.created_at, b.id) "
         "FROM appointment_bids b LEFT JOIN doctors d ON d.id = b.doctor_id WHERE b.appointment_id = a.id), '[]')")


def open_requests(conn, principal: Principal, limit: int = 100) -> list[dict[str, Any]]:
    """Care requests still open for bids that the caller may read (0080's policies: a doctor sees those they were
    matched to, clinic nurses and admins their patients'), each with the bids the caller may read (a doctor: their
    own; the patient's clinic: all), oldest request first."""
    rows = conn.execute(
        "SELECT a.id, a.patient_id, a.specialty, a.urgency, a.reason, a.created_at, a.expires_at, u.full_name, "
        f"{_BIDS} AS bids FROM appointments a LEFT JOIN users u ON u.id = a.patient_id "
        "WHERE NOT a.deleted AND a.status = 'requested' ORDER BY a.created_at, a.id LIMIT %s", (limit,)).fetchall()
    audit.record_many(conn, principal, "read", "appointments", [(r["id"], r["patient_id"]) for r in rows],
                      detail={"view": "console:requests"})
    return rows


LIVE_STATUSES = ("booked", "confirmed", "checked_in")


def my_care(conn, principal: Principal, limit: int = 50) -> dict[str, Any]:
    """The signed-in patient's own care: their requests still open, each with every bid on it (doctor, price, slot,
    note), newest first; and their booked appointments from today on, soonest first. `patient_id = auth.uid()`
    on top of RLS: a patient's page is about themselves, even where a policy would let them read more."""
    requests = conn.execute(
        f"SELECT a.id, a.specialty, a.urgency, a.reason, a.created_at, a.expires_at, {_BIDS} AS bids "
        "FROM appointments a WHERE a.patient_id = auth.uid() AND NOT a.deleted AND a.status = 'requested' "
        "ORDER BY a.created_at DESC, a.id LIMIT %s", (limit,)).fetchall()
    booked = conn.execute(
        "SELECT a.id, a.status, a.scheduled_at, a.ends_at, a.price, a.reason, a.specialty, d.full_name AS doctor "
        "FROM appointments a LEFT JOIN doctors d ON d.id = a.doctor_id "
        "WHERE a.patient_id = auth.uid() AND NOT a.deleted AND a.status = ANY(%s) "
        "AND coalesce(a.ends_at, a.scheduled_at) >= date_trunc('day', now()) "
        "ORDER BY a.scheduled_at, a.id LIMIT %s", (list(LIVE_STATUSES), limit)).fetchall()
    audit.record_many(conn, principal, "read", "appointments",
                      [(r["id"], principal.user_id) for r in [*requests, *booked]], detail={"view": "console:my-care"})
    return {"requests": requests, "booked": booked}
