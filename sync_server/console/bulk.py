"""Bulk import of doctors or patients from CSV with a validation report, and bulk export, under the admin's RLS.

An import first checks every row (the shared schemas, then the database's own constraints row by row inside
savepoints) and reports every bad row with its line, field and reason. By default nothing is imported while any row
is bad; `good_only` imports the good rows and still reports the bad ones.
"""
from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from typing import Any

from protocol.errors import HealthSyncError
from protocol.hlc import HybridLogicalClock
from protocol.schema import validate
from sync_server import audit, tenancy
from sync_server.auth import Principal

MAX_ROWS = 5000
COLUMNS = {
    "doctors": ("user_id", "full_name", "specialty", "languages", "price_min", "price_max"),
    "patients": ("full_name", "date_of_birth", "sex", "email", "phone", "mrn"),
}
REQUIRED = {"doctors": ("user_id", "full_name", "specialty"), "patients": ("full_name", "mrn")}


@dataclass
class Report:
    """What an import found and did: every bad row (line, field, reason) and how many rows went in."""

    kind: str
    rows: int = 0
    imported: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    applied: bool = False

    @property
    def bad_lines(self) -> int:
        return len({e["line"] for e in self.errors})


class _RowRefused(Exception):
    def __init__(self, field_name: str, reason: str):
        super().__init__(reason)
        self.field, self.reason = field_name, reason


def _read(kind: str, data: bytes, report: Report) -> list[tuple[int, dict[str, str]]]:
    """The CSV's rows keyed by header (line numbers as a spreadsheet shows them); header problems are errors."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.errors.append({"line": 1, "field": "file", "reason": "the file is not UTF-8 text"})
        return []
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED[kind] if c not in header]
    unknown = [h for h in header if h not in COLUMNS[kind]]
    if missing or unknown:
        reason = "; ".join(filter(None, [missing and f"missing column(s) {', '.join(missing)}",
                                         unknown and f"unknown column(s) {', '.join(unknown)}"]))
        expected = ", ".join(COLUMNS[kind])
        report.errors.append({"line": 1, "field": "header", "reason": f"{reason} (expected: {expected})"})
        return []
    reader.fieldnames = header
    rows = []
    for n, row in enumerate(reader, start=2):
        if n - 1 > MAX_ROWS:
            report.errors.append({"line": n, "field": "file", "reason": f"more than {MAX_ROWS} rows; split the file"})
            break
        rows.append((n, {k: (v or "").strip() for k, v in row.items() if k is not None}))
    report.rows = len(rows)
    return rows


def _number(row: dict[str, str], name: str) -> float | None:
    if not row.get(name):
        return None
    try:
        return float(row[name])
    except ValueError:
        raise _RowRefused(name, "not a number") from None


def _doctor(conn, clinic_id: uuid.UUID, row: dict[str, str]) -> None:
    for name in REQUIRED["doctors"]:
        if not row.get(name):
            raise _RowRefused(name, "required")
    try:
        user_id = uuid.UUID(row["user_id"])
    except ValueError:
        raise _RowRefused("user_id", "not a user id (UUID)") from None
    languages = [x for x in row.get("languages", "").replace(",", ";").split(";") if x.strip()]
    tenancy.add_doctor(conn, user_id, clinic_id, row["specialty"], name=row["full_name"], languages=languages,
                       price_min=_number(row, "price_min"), price_max=_number(row, "price_max"))


def _patient(conn, clinic_id: uuid.UUID, row: dict[str, str], hlc: HybridLogicalClock) -> None:
    if not row.get("full_name"):
        raise _RowRefused("full_name", "required")
    if not row.get("mrn"):
        raise _RowRefused("mrn", "required")
    if len(row["mrn"]) > 64:
        raise _RowRefused("mrn", "at most 64 characters")
    profile = validate("users", {k: row.get(k) or None for k in ("full_name", "date_of_birth", "sex", "email",
                                                                 "phone")})
    taken = conn.execute("SELECT 1 FROM registrations WHERE clinic_id = %s AND mrn = %s AND NOT deleted",
                         (clinic_id, row["mrn"])).fetchone()
    if taken:
        raise _RowRefused("mrn", "this record number is already registered at the clinic")
    stamp = hlc.now().encode()
    conn.execute("INSERT INTO registrations (id, clinic_id, user_id, mrn, status, hlc) VALUES (%s, %s, %s, %s, "
                 "'active', %s)", (tenancy.registration_id(clinic_id, profile.id), clinic_id, profile.id, row["mrn"],
                                   stamp))
    conn.execute("INSERT INTO users (id, email, full_name, date_of_birth, sex, phone, hlc, clinic_id) "
                 "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                 (profile.id, profile.email, profile.full_name, profile.date_of_birth, profile.sex, profile.phone,
                  stamp, clinic_id))


def import_csv(conn, principal: Principal, kind: str, clinic_id: uuid.UUID, data: bytes, *, good_only: bool,
               hlc: HybridLogicalClock) -> Report:
    """Check every row and import them all (none if any is bad, unless `good_only`), in the caller's transaction."""
    report = Report(kind)
    rows = _read(kind, data, report)
    seen: dict[str, int] = {}
    try:
        with conn.transaction():  # a savepoint: undone as a whole unless the import is applied
            for line, row in rows:
                key = row.get("user_id" if kind == "doctors" else "mrn", "")
                if key and key in seen:
                    report.errors.append({"line": line, "field": "user_id" if kind == "doctors" else "mrn",
                                          "reason": f"repeats line {seen[key]}"})
                    continue
                seen[key] = line
                try:
                    with conn.transaction():
                        if kind == "doctors":
                            _doctor(conn, clinic_id, row)
                        else:
                            _patient(conn, clinic_id, row, hlc)
                    report.imported += 1
                except _RowRefused as exc:
                    report.errors.append({"line": line, "field": exc.field, "reason": exc.reason})
                except HealthSyncError as exc:
                    report.errors.append({"line": line, "field": getattr(exc, "field", None) or "row",
                                          "reason": exc.message})
                except Exception as exc:  # a database refusal of this row only (translated below)
                    from sync_server.db import translate

                    refused = translate(exc)
                    report.errors.append({"line": line, "field": refused.field or "row", "reason": refused.message})
            if report.errors and not good_only:
                raise _Abandon()
    except _Abandon:
        report.imported = 0
        return report
    report.applied = report.imported > 0
    if report.applied:
        audit.record(conn, principal, "bulk_import", "users" if kind == "patients" else "doctors",
                     detail={"rows": report.imported, "bad_rows": report.bad_lines})
    return report


class _Abandon(Exception):
    """Leave the import's savepoint without keeping anything."""


def export_csv(conn, principal: Principal, kind: str) -> str:
    """The caller's clinics' doctors or registered patients as CSV (RLS decides), audited per patient exported."""
    out = io.StringIO()
    writer = csv.writer(out)
    if kind == "doctors":
        rows = conn.execute("SELECT user_id, full_name, specialty, array_to_string(languages, ';') AS languages, "
                            "price_min, price_max FROM doctors WHERE NOT deleted AND clinic_id IN "
                            "(SELECT app.my_clinics('{admin}')) ORDER BY full_name").fetchall()
    else:
        rows = conn.execute(
            "SELECT u.full_name, u.date_of_birth, u.sex, u.email, u.phone, r.mrn, r.user_id AS id FROM registrations r "
            "LEFT JOIN users u ON u.id = r.user_id AND NOT u.deleted WHERE r.status = 'active' AND NOT r.deleted "
            "AND r.clinic_id IN (SELECT app.my_clinics('{admin}')) ORDER BY u.full_name, r.mrn").fetchall()
        audit.record_many(conn, principal, "export", "users", [(r["id"], r["id"]) for r in rows],
                          detail={"view": "console:export"})
    writer.writerow(COLUMNS[kind])
    for r in rows:
        writer.writerow(["" if r[c] is None else r[c] for c in COLUMNS[kind]])
    return out.getvalue()
