"""Claim codes between the devices and the server: a clinic device files the digest of each code it showed when it
next syncs, and a patient's phone redeems a code to take its record over (POST /v1/patients/claim; the server
side is sync_server/claims.py). The codes themselves are issued by edge/patients.py.

On the phone the claim runs on a fresh store, signed in with the patient's new account and not yet enrolled: the
server moves that sign-in to the patient's id (the id the kiosk minted for the record), the store's primary user
becomes that id, and the next `sync enroll` + `sync run` bring the record down.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from edge import auth_session
from edge.store import Store
from protocol.errors import HealthSyncError, InputError, RemoteError
from protocol.schema import TABLES, utcnow

# Refusals that one claim waits out (its registration has not reached the server yet, or it is not in the filer's
# clinic): it is filed again at the next sync, and the rest go on.
_WAIT_STATUS = {403, 404, 409, 422}


def file_pending(store: Store, call: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """File every claim digest the server does not have yet (`call` is the sync client's authenticated request);
    an expired or used code's digest is simply erased."""
    now = utcnow()
    rows = store.query("SELECT code_hash, user_id, clinic_id, expires_at, server_digest, used_at FROM claim_codes "
                       "WHERE server_digest IS NOT NULL")
    filed, waiting, reason = 0, 0, None
    for code_hash, patient, clinic, expires, sealed, used in rows:
        if used is None and dt.datetime.fromisoformat(expires) > now:
            try:
                call("POST", "/v1/patients/claims", json={
                    "patient_id": patient, "clinic_id": clinic, "expires_at": expires,
                    "code_digest": store.unseal(sealed, f"claim|{code_hash}")})
            except RemoteError as exc:
                if exc.http_status not in _WAIT_STATUS:
                    raise
                waiting, reason = waiting + 1, f"[{exc.code}] {exc.message}"
                continue
            filed += 1
        with store.transaction() as conn:
            conn.execute("UPDATE claim_codes SET server_digest=NULL, filed_at=? WHERE code_hash=?",
                         (now.isoformat(), code_hash))
    return {"filed": filed, "waiting": waiting, "reason": reason}


def check_fresh(store: Store) -> str:
    """The store's primary user, when the store may adopt a claimed record: a personal device, not enrolled, and
    holding nothing but that user's empty profile from `edge init`."""
    from edge.device_keys import server_pin

    if store.meta("clinic_id"):
        raise InputError("a claim code is redeemed on the patient's own phone, not on a clinic device",
                         field="store", hint="run it on a personal device (edge init without --clinic)")
    try:
        server_pin(store)
    except HealthSyncError:
        pass
    else:
        raise InputError("this device is already enrolled: claim on a new store, before `sync enroll`",
                         field="store", hint="healthsync edge init --store NEW.db, sign in, then claim")
    primary = store.meta("user_id")
    rows = sum(store.repo(name).count() for name in TABLES)
    if not primary or rows > 1:
        raise InputError("this store already holds records: claim on a new store", field="store",
                         hint="healthsync edge init --store NEW.db, sign in, then claim")
    return str(primary)


def adopt(store: Store, old_user: str, answer: dict[str, Any], auth_url: str) -> str:
    """After the server accepted the claim: keep the patient's new session, drop the sign-in that became them, and
    make the patient the store's primary user (the empty profile of `edge init` goes; the pull brings theirs)."""
    from edge.auth_client import Tokens

    patient = str(answer["patient_id"])
    signed_in = auth_session.active_session(store)
    session = answer.get("session")
    if session:
        tokens = Tokens(session["access_token"], session["refresh_token"], int(session["expires_at"]),
                        int(session["expires_in"]), session["user"])
        if signed_in and str(signed_in["user"]["id"]) != patient:
            auth_session.remove(store, str(signed_in["user"]["id"]))
        auth_session.save_sign_in(store, tokens, auth_url)
    with store.transaction() as conn:
        if old_user != patient:
            conn.execute("DELETE FROM outbox WHERE tbl='users' AND row_id=?", (old_user,))
            conn.execute("DELETE FROM users WHERE id=?", (old_user,))
        conn.execute("UPDATE meta SET value=? WHERE key='user_id'", (patient,))
    store.patient_keys.reset()
    return patient


def adopt_signed_in(store: Store, user_id: str) -> dict[str, Any]:
    """The email path: the clinic registered the patient's email, so the sign-in made with it already carries the
    record's id (sync_server.claims.registered_patient_for); this fresh store takes that id as its user."""
    old_user = check_fresh(store)
    patient = adopt(store, old_user, {"patient_id": user_id}, auth_url="")
    return {"id": patient, "patient_id": patient, "signed_in": True,
            "next": "healthsync edge sync enroll --server URL, then healthsync edge sync run"}


def redeem(store: Store, code: str, call: Callable[..., dict[str, Any]], auth_url: str) -> dict[str, Any]:
    """Redeem a claim code from this (fresh) phone; returns the patient's id and what to do next."""
    old_user = check_fresh(store)
    answer = call("POST", "/v1/patients/claim", json={"code": code})
    patient = adopt(store, old_user, answer, auth_url)
    return {"id": patient, "patient_id": patient, "signed_in": bool(answer.get("session")),
            "next": "healthsync edge sync enroll --server URL, then healthsync edge sync run"}
