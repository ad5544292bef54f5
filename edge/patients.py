"""Patients at a clinic device: registering them, finding them through a keyed blind index, checking them in, and
the one-time claim codes their phones use later.

The blind index holds HMAC-SHA256 values (under a key derived from the store's data key) of each patient's
normalised name tokens, date of birth and record numbers, mapped to the user id: a search computes the HMACs of
the query and looks them up, so finding a patient never decrypts every profile, and the index alone (without the
store key) reveals no name, date or number.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import unicodedata
import uuid
from typing import Any

from edge import auth_session
from edge.auth_session import ACTIVE_USER_META
from edge.store import Store
from protocol import claims
from protocol.claims import normal_code
from protocol.errors import DuplicateError, HealthSyncError, InputError, NotFoundError, ValidationError
from protocol.schema import Registration, User, utcnow

INDEX_KEY_LABEL = "patient-blind-index-v1"
CLAIM_KEY_LABEL = "patient-claim-code-v1"
CLAIM_TTL = dt.timedelta(days=7)
SESSION_USER_META = ACTIVE_USER_META  # the signed-in staff member or patient (edge sign-in), when any


def device_clinic(store: Store) -> uuid.UUID | None:
    """The clinic this device belongs to (`edge init --clinic`), or None on a personal device."""
    value = store.meta("clinic_id")
    return uuid.UUID(str(value)) if value else None


def acting_user(store: Store) -> uuid.UUID:
    """Who is acting now: the signed-in user, else the device's primary user."""
    token_user_id = auth_session.token_user(os.environ["HEALTHSYNC_TOKEN"]) if os.environ.get("HEALTHSYNC_TOKEN") \
        else None  # a given token counts as its user being signed in
    value = token_user_id or store.meta(SESSION_USER_META) or store.meta("user_id")
    if not value:
        raise HealthSyncError("no one is signed in on this device", hint="run `healthsync edge sign-in` first")
    return uuid.UUID(str(value))


def require_patient(store: Store, patient: uuid.UUID) -> User:
    """The patient's profile, or a NotFoundError that says how to find one."""
    try:
        return store.users.get(patient)
    except NotFoundError:
        raise NotFoundError(f"no patient {patient} on this device",
                            hint="find one with `healthsync edge patient find`, or register them") from None


# ---------------------------------------------------------------- blind index


def name_tokens(name: str) -> list[str]:
    """A name's search tokens: accents removed, case folded, split on anything not a letter or digit."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return sorted(set(re.findall(r"[^\W_]+", plain.casefold())))


def normal_mrn(mrn: str) -> str:
    """A record number as compared: letters and digits only, upper case ("ab-12 3" = "AB123")."""
    return re.sub(r"[^0-9A-Z]", "", mrn.upper())


def _blind(store: Store, field: str, value: str) -> str:
    return hmac.new(store.subkey(INDEX_KEY_LABEL), f"{field}:{value}".encode(), hashlib.sha256).hexdigest()


def index_terms(name: str | None, dob: dt.date | None, mrn: str | None) -> list[tuple[str, str]]:
    """The (field, normalised value) pairs a patient is found by."""
    terms = [("name", t) for t in name_tokens(name or "")]
    if dob:
        terms.append(("dob", dob.isoformat()))
    if mrn and normal_mrn(mrn):
        terms.append(("mrn", normal_mrn(mrn)))
    return terms


def _index(store: Store, conn, patient: uuid.UUID | str, terms: list[tuple[str, str]]) -> None:
    conn.executemany("INSERT OR IGNORE INTO patient_index(blind, user_id, field) VALUES (?, ?, ?)",
                     [(_blind(store, f, v), str(patient), f) for f, v in terms])


def index_pulled(store: Store, conn, table: str, records: list[Any], deleted: list[bool]) -> None:
    """Keep the blind index in step with profiles and registrations arriving by pull (a patient registered at
    another of the clinic's devices is found here too): a profile's name and date of birth are replaced, a
    registration's record number added; a deleted profile leaves the index."""
    if table == "users":
        conn.executemany("DELETE FROM patient_index WHERE user_id=? AND field IN ('name', 'dob')",
                         [(str(r.id),) for r in records])
        for r, gone in zip(records, deleted, strict=True):
            if not gone:
                _index(store, conn, r.id, index_terms(r.full_name, r.date_of_birth, None))
    elif table == "registrations":
        for r, gone in zip(records, deleted, strict=True):
            if not gone and r.mrn:
                _index(store, conn, r.user_id, index_terms(None, None, r.mrn))


INDEXED_TABLES = ("users", "registrations")


def _lookup(store: Store, field: str, value: str) -> set[str]:
    rows = store.query("SELECT user_id FROM patient_index WHERE blind=?", (_blind(store, field, value),))
    return {r[0] for r in rows}


def find(store: Store, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Patients matching a record number, a date of birth (YYYY-MM-DD) or every name token of the query."""
    query = query.strip()
    if not query:
        raise InputError("the search is empty", field="query", hint="give a name, a date of birth or a number")
    found: set[str] = set()
    if normal_mrn(query):
        found |= _lookup(store, "mrn", normal_mrn(query))
    try:
        found |= _lookup(store, "dob", dt.date.fromisoformat(query).isoformat())
    except ValueError:
        pass  # not a date
    tokens = name_tokens(query)
    if tokens:
        matches = [_lookup(store, "name", t) for t in tokens]
        found |= set.intersection(*matches)
    return [describe(store, uuid.UUID(u)) for u in sorted(found)[:limit]]


def describe(store: Store, patient: uuid.UUID) -> dict[str, Any]:
    """What a search result or a listing shows of a patient (decrypting only their rows)."""
    user = require_patient(store, patient)
    regs = store.registrations.list(owner=patient)
    return {"id": str(user.id), "full_name": user.full_name,
            "date_of_birth": user.date_of_birth.isoformat() if user.date_of_birth else None, "sex": user.sex,
            "registrations": [{"clinic_id": str(r.clinic_id), "mrn": r.mrn, "status": r.status} for r in regs]}


# ---------------------------------------------------------------- registering and checking in


def set_registration(store: Store, patient: uuid.UUID, clinic_id: uuid.UUID, status: str,
                     mrn: str | None = None) -> Registration:
    """Create or change the patient's registration at a clinic (one row per clinic and patient, merged per
    column); a withdrawal on this clinic's own device asks for the patient's purge."""
    with store.transaction() as conn:
        reg_id = Registration(user_id=patient, clinic_id=clinic_id).id
        try:
            store.registrations.get(reg_id)
        except NotFoundError:
            row = store.registrations.add({"user_id": patient, "clinic_id": clinic_id, "status": status,
                                           **({"mrn": mrn} if mrn else {})})
        else:
            row = store.registrations.update(reg_id, status=status, **({"mrn": mrn} if mrn else {}))
        if clinic_id == device_clinic(store):  # withdrawn here: purge once synced; given again: keep
            conn.execute("UPDATE kiosk_seen SET purge_requested=? WHERE user_id=?",
                         (int(status == "withdrawn"), str(patient)))
    return row


def _seen(conn, patient: uuid.UUID, at: dt.datetime) -> None:
    conn.execute("INSERT INTO kiosk_seen(user_id, last_seen_at) VALUES (?, ?) ON CONFLICT(user_id) DO UPDATE SET "
                 "last_seen_at=max(last_seen_at, excluded.last_seen_at), purge_requested=0",
                 (str(patient), at.astimezone(dt.UTC).isoformat()))


def register(store: Store, *, name: str, dob: dt.date, sex: str, mrn: str | None = None,
             email: str | None = None) -> dict[str, Any]:
    """Register a patient: their profile (its id becomes their sign-in user id when they claim it), the blind
    index, a registration and share consent at this device's clinic (when it has one), and a one-time claim code
    (only its keyed hash is kept)."""
    from edge import consent

    if mrn is not None and not normal_mrn(mrn):
        raise ValidationError(f"--mrn {mrn!r} has no letters or digits", field="mrn")
    if mrn and _lookup(store, "mrn", normal_mrn(mrn)):
        raise DuplicateError(f"record number {mrn} already belongs to a patient on this device", field="mrn")
    clinic = device_clinic(store)
    with store.transaction() as conn:
        user = store.users.add({"full_name": name, "date_of_birth": dob, "sex": sex, "role": "patient",
                                **({"email": email.strip().lower()} if email else {})})
        _index(store, conn, user.id, index_terms(name, dob, mrn))
        if clinic is not None:
            set_registration(store, user.id, clinic, "active", mrn)
            consent.record(store, user.id, "share", True, clinic_id=clinic)
        _seen(conn, user.id, utcnow())
        code, expires = _issue_claim(store, conn, user.id, clinic)
    return {**describe(store, user.id), "claim_code": code, "claim_expires_at": expires.isoformat()}


def check_in(store: Store, patient: uuid.UUID, clinic_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Record the patient's arrival at the clinic (this device's unless named)."""
    clinic_id = clinic_id or device_clinic(store)
    if clinic_id is None:
        raise InputError("a check-in names the clinic", field="clinic",
                         hint="pass --clinic ID (this device belongs to no clinic)")
    require_patient(store, patient)
    with store.transaction() as conn:
        row = store.check_ins.add({"user_id": patient, "clinic_id": clinic_id, "recorded_by": acting_user(store)})
        _seen(conn, patient, row.checked_in_at)
    return {"id": str(row.id), "patient_id": str(patient), "clinic_id": str(clinic_id),
            "checked_in_at": row.checked_in_at.isoformat(), "recorded_by": str(row.recorded_by)}


def today(store: Store, recent: int = 20, now: dt.datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Today's check-ins (UTC day) and the patients seen most recently on this device."""
    now = now or utcnow()
    start = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = store.check_ins.list(since=start, limit=1000)
    checked = [{"check_in_id": str(r.id), "checked_in_at": r.checked_in_at.isoformat(),
                "clinic_id": str(r.clinic_id), **_maybe(store, r.user_id)} for r in rows]
    seen = store.query("SELECT user_id, last_seen_at FROM kiosk_seen ORDER BY last_seen_at DESC LIMIT ?", (recent,))
    return {"checked_in_today": checked,
            "recent": [{"last_seen_at": at, **_maybe(store, uuid.UUID(u))} for u, at in seen]}


def _maybe(store: Store, patient: uuid.UUID) -> dict[str, Any]:
    try:
        return describe(store, patient)
    except NotFoundError:
        return {"id": str(patient), "full_name": None}  # a check-in pulled for a patient whose profile is not here


# ---------------------------------------------------------------- claim codes


def _claim_hash(store: Store, code: str) -> str:
    return hmac.new(store.subkey(CLAIM_KEY_LABEL), normal_code(code).encode(), hashlib.sha256).hexdigest()


def _issue_claim(store: Store, conn, patient: uuid.UUID, clinic: uuid.UUID | None) -> tuple[str, dt.datetime]:
    """A new code for the patient; on a clinic device its digest waits (sealed) to be filed with the server at the
    next sync (edge/claims.py), so the patient's phone can redeem it there."""
    raw = "".join(secrets.choice(claims.ALPHABET) for _ in range(claims.LENGTH))
    now = utcnow()
    code_hash = _claim_hash(store, raw)
    digest = store.seal(claims.code_digest(raw), f"claim|{code_hash}") if clinic is not None else None
    conn.execute("INSERT INTO claim_codes(code_hash, user_id, created_at, expires_at, clinic_id, server_digest) "
                 "VALUES (?, ?, ?, ?, ?, ?)", (code_hash, str(patient), now.isoformat(),
                                               (now + CLAIM_TTL).isoformat(), str(clinic) if clinic else None, digest))
    return f"{raw[:5]}-{raw[5:]}", now + CLAIM_TTL


def redeem_claim(store: Store, code: str, now: dt.datetime | None = None) -> uuid.UUID:
    """The patient a claim code was issued for, marking it used: once only, and only before it expires."""
    now = now or utcnow()
    with store.transaction() as conn:
        row = conn.execute("SELECT user_id, expires_at, used_at FROM claim_codes WHERE code_hash=?",
                           (_claim_hash(store, code),)).fetchone()
        if row is None or row[2] is not None or dt.datetime.fromisoformat(row[1]) <= now:
            # One answer for unknown, used and expired: the answer tells a guesser nothing.
            raise NotFoundError("this claim code is not valid (unknown, used or expired)",
                                hint="ask the clinic for a new code")
        conn.execute("UPDATE claim_codes SET used_at=? WHERE code_hash=?", (now.isoformat(), _claim_hash(store, code)))
    return uuid.UUID(row[0])
