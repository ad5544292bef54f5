"""Consents on the device: granting and withdrawing (append-only records that sync), the current state of each,
and the one check every consent-gated feature calls."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from edge import patients
from edge.store import Store
from protocol import consent as texts
from protocol.errors import InputError, NotFoundError, ValidationError
from protocol.schema import Consent, utcnow

# The profile flag each kind was read from before consent records existed (stores made by the earlier version).
PROFILE_FLAGS = {"audio": "audio_opt_in", "llm": "llm_consent", "image_ai": "image_ai_consent"}


@dataclass(frozen=True)
class ConsentState:
    """A patient's current consent of one kind (and clinic, for share), and where the answer came from."""

    kind: str
    granted: bool
    source: str  # "record" (a consent record) or "profile" (the old flag) or "none"
    record: Consent | None = None


def record(store: Store, patient: uuid.UUID, kind: str, granted: bool, *, clinic_id: uuid.UUID | None = None,
           text_version: str | None = None, at: dt.datetime | None = None) -> Consent:
    """Record a consent given or withdrawn by the acting user, naming the text version shown. Withdrawing `share`
    for a clinic also withdraws the registration there (and, on that clinic's device, schedules the purge)."""
    version, _ = texts.text(kind, text_version)
    if kind == "share":
        clinic_id = clinic_id or patients.device_clinic(store)
        if clinic_id is None:
            raise InputError("a share consent names the clinic", field="clinic",
                             hint="pass --clinic ID (this device belongs to no clinic)")
    elif clinic_id is not None:
        raise ValidationError(f"a {kind} consent names no clinic (only share does)", field="clinic")
    patients.require_patient(store, patient)
    with store.transaction():
        row = store.consents.add({"user_id": patient, "kind": kind, "clinic_id": clinic_id, "granted": granted,
                                  "text_version": version, "recorded_by": patients.acting_user(store),
                                  "recorded_at": at or utcnow()})
        if kind == "share":
            patients.set_registration(store, patient, clinic_id, "active" if granted else "withdrawn")
    return row


def history(store: Store, patient: uuid.UUID, kind: str | None = None) -> list[Consent]:
    """A patient's consent records, newest first (by recorded_at, then id: the contract's order)."""
    filters = {"kind": kind} if kind else {}
    return store.consents.list(owner=patient, limit=10_000, **filters)


def current(store: Store, patient: uuid.UUID, kind: str, clinic_id: uuid.UUID | None = None) -> ConsentState:
    """The consent in force: the latest record of the kind (for share: for that clinic); without any, the profile
    flag of a store made before consent records; else not granted."""
    texts.text(kind)  # an unknown kind is an error, not a silent "no"
    for row in history(store, patient, kind):
        if kind != "share" or row.clinic_id == clinic_id:
            return ConsentState(kind, row.granted, "record", row)
    flag = PROFILE_FLAGS.get(kind)
    if flag:
        try:
            if getattr(store.users.get(patient), flag):
                return ConsentState(kind, True, "profile")
        except NotFoundError:
            pass  # a user unknown to this device has given nothing
    return ConsentState(kind, False, "none")


def allowed(store: Store, patient: uuid.UUID, kind: str) -> bool:
    """Whether the patient's consent of this kind is in force (the check of every consent-gated feature)."""
    return current(store, patient, kind).granted


def to_dict(row: Consent) -> dict:
    """A consent record as `consent list --json` shows it."""
    return {"id": str(row.id), "kind": row.kind, "granted": row.granted, "at": row.recorded_at.isoformat(),
            "by": str(row.recorded_by), "text_version": row.text_version,
            "clinic_id": str(row.clinic_id) if row.clinic_id else None}
