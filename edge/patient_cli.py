"""`healthsync edge patient …` and `healthsync edge consent …`: patients at a clinic device, and consents."""
from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from edge.cli_common import Passphrase, StorePath, Token, TokenFile, UserOpt, given_token, open_store, resolve_user
from protocol.cli_output import JsonOut, emit, handle_errors
from protocol.consent import KINDS

patient_app = typer.Typer(help="Patients at a clinic device: register, find, check in, purge.", no_args_is_help=True)
consent_app = typer.Typer(help="Consents: audio, llm, image_ai, share (per clinic).", no_args_is_help=True)

PatientArg = typer.Argument(..., help="The patient's id (from `patient find` or `patient register`).")
ClinicOpt = typer.Option(None, "--clinic", help="Clinic id (default: this device's clinic).")


def _uuid(value: str | None, field: str) -> uuid.UUID | None:
    from protocol.errors import ValidationError

    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationError(f"--{field} {value!r} is not a UUID", field=field) from None


def _patients_table(rows: list[dict], title: str) -> None:
    table = Table("id", "name", "date of birth", "sex", "record numbers", title=title)
    for r in rows:
        mrns = ", ".join(g["mrn"] for g in r.get("registrations", []) if g["mrn"])
        table.add_row(r["id"], r.get("full_name") or "–", r.get("date_of_birth") or "–", r.get("sex") or "–", mrns)
    Console().print(table)


@patient_app.command("register")
@handle_errors
def register(
    name: str = typer.Option(..., "--name", help="The patient's full name."),
    dob: dt.datetime = typer.Option(..., "--dob", formats=["%Y-%m-%d"], help="Date of birth (YYYY-MM-DD)."),
    sex: str = typer.Option(..., "--sex", help="female or male (sex at birth, as the risk equations use)."),
    mrn: Optional[str] = typer.Option(None, "--mrn", help="The clinic's medical record number."),
    email: Optional[str] = typer.Option(None, "--email", help="The patient's email: a sign-in made later with it "
                                                              "takes this record (no code needed)."),
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Register a patient (and at this device's clinic); prints their one-time claim code."""
    from edge import patients
    from protocol.errors import ValidationError

    if sex not in ("female", "male"):
        raise ValidationError(f"--sex {sex!r}: use female or male", field="sex")
    with open_store(store_path, passphrase) as store:
        out = patients.register(store, name=name, dob=dob.date(), sex=sex, mrn=mrn, email=email)

    def human(d):
        Console().print(f"registered {d['full_name']} ({d['id']})\nclaim code for the patient's phone: "
                        f"[bold]{d['claim_code']}[/bold] (valid until {d['claim_expires_at'][:16]}, shown once)")

    emit(out, as_json, human)


@patient_app.command("find")
@handle_errors
def find(
    query: str = typer.Argument(..., help="A name (every word must match), a date of birth YYYY-MM-DD or a "
                                          "record number."),
    limit: int = typer.Option(20, min=1, max=1000),
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Find patients by name, date of birth or record number (through the keyed blind index)."""
    from edge import patients

    with open_store(store_path, passphrase) as store:
        rows = patients.find(store, query, limit)
    emit(rows, as_json, lambda d: _patients_table(d, f"{len(d)} patient(s) matching {query!r}"))


@patient_app.command("list")
@handle_errors
def list_patients(
    recent: int = typer.Option(20, "--recent", min=0, max=1000, help="How many recently seen patients."),
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Today's check-ins and the patients seen most recently on this device."""
    from edge import patients

    with open_store(store_path, passphrase) as store:
        data = patients.today(store, recent)

    def human(d):
        _patients_table(d["checked_in_today"], f"checked in today: {len(d['checked_in_today'])}")
        _patients_table(d["recent"], "recently seen")

    emit(data, as_json, human)


@patient_app.command("check-in")
@handle_errors
def check_in(
    patient: str = PatientArg,
    clinic: Optional[str] = ClinicOpt,
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Record a patient's arrival at the clinic."""
    from edge import patients

    with open_store(store_path, passphrase) as store:
        out = patients.check_in(store, _uuid(patient, "patient"), _uuid(clinic, "clinic"))
    emit(out, as_json, lambda d: Console().print(f"checked in {d['patient_id']} at {d['checked_in_at'][:16]}"))


@patient_app.command("purge")
@handle_errors
def purge(
    window_days: int = typer.Option(14, "--window-days", help="Keep patients seen on this device this many days."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say who would go; delete nothing."),
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Delete the data of patients outside this clinic device's scope, once all of it has synced."""
    from edge import kiosk

    with open_store(store_path, passphrase) as store:
        out = kiosk.purge(store, window_days=window_days, dry_run=dry_run)

    def human(d):
        verb = "would purge" if d["dry_run"] else "purged"
        Console().print(f"{verb} {len(d['purged'])} patient(s); kept {d['kept']}; waiting for sync: "
                        f"{len(d['waiting'])}")
        for w in d["waiting"]:
            Console().print(f"  {w['patient_id']}: {w['unsynced_changes']} change(s) not yet synced")

    emit(out, as_json, human)


def _consent_command(granted: bool):
    def command(
        kind: str = typer.Argument(..., help=f"One of: {', '.join(KINDS)}."),
        patient: Optional[str] = UserOpt,
        clinic: Optional[str] = ClinicOpt,
        text_version: Optional[str] = typer.Option(None, "--text-version",
                                                   help="The consent text shown (default: the current one)."),
        store_path: Optional[Path] = StorePath,
        passphrase: bool = Passphrase,
        as_json: bool = JsonOut,
    ):
        from edge import consent

        with open_store(store_path, passphrase) as store:
            row = consent.record(store, resolve_user(store, patient), kind, granted,
                                 clinic_id=_uuid(clinic, "clinic"), text_version=text_version)
        emit(consent.to_dict(row), as_json, lambda d: Console().print(
            f"{'granted' if d['granted'] else 'withdrew'} {d['kind']} consent (text {d['text_version']}) for "
            f"{row.user_id}"))

    command.__doc__ = ("Record the patient's consent (who, when, which text)." if granted else
                       "Withdraw a consent (share: the registration at that clinic ends).")
    return handle_errors(command)


consent_app.command("grant")(_consent_command(True))
consent_app.command("withdraw")(_consent_command(False))


@consent_app.command("list")
@handle_errors
def consent_list(
    patient: Optional[str] = UserOpt,
    kind: Optional[str] = typer.Option(None, "--kind", help="Only this kind."),
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """A patient's consent records, newest first."""
    from edge import consent
    from protocol.consent import text

    if kind:
        text(kind)  # an unknown kind is an error
    with open_store(store_path, passphrase) as store:
        rows = [consent.to_dict(r) for r in consent.history(store, resolve_user(store, patient), kind)]

    def human(d):
        table = Table("at", "kind", "clinic", "granted", "text", "by")
        for r in d:
            table.add_row(r["at"][:19], r["kind"], r["clinic_id"] or "–", "yes" if r["granted"] else "withdrawn",
                          r["text_version"], r["by"])
        Console().print(table)

    emit(rows, as_json, human)


@patient_app.command("claim")
@handle_errors
def claim(
    code: Optional[str] = typer.Argument(None, help="The one-time code the clinic's kiosk showed (XXXXX-XXXXX); "
                                                    "without it: the sign-in already is the record's (the clinic "
                                                    "registered this email)."),
    server: Optional[str] = typer.Option(None, "--server", help="The sync server (default: the one you signed in "
                                                                "at, when it is also the auth server)."),
    token: Optional[str] = Token,
    token_file: Optional[str] = TokenFile,
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """On the patient's phone: take over the record the clinic registered (a fresh store, signed in, not enrolled)."""
    import os

    from edge import auth_session, claims
    from edge.sync_client import SyncClient
    from edge.token_provider import token_source
    from protocol.errors import InputError

    token = given_token(token, token_file, passphrase_stdin=passphrase)
    with open_store(store_path, passphrase) as store:
        if code is None:
            out = claims.adopt_signed_in(store, auth_session.signed_in_user(store, token))
            emit(out, as_json, lambda d: Console().print(f"this device now holds patient record {d['id']}; next: "
                                                         "healthsync edge sync enroll, then healthsync edge sync run"))
            return
        session = auth_session.active_session(store) or {}
        url = server or (None if os.environ.get("SUPABASE_URL") else session.get("auth_url"))
        if not url:
            raise InputError("no sync server to claim at", field="server", hint="pass --server URL")
        with SyncClient(store, token_source(store, token), server_url=url) as client:
            out = claims.redeem(store, code, client.call, session.get("auth_url") or url)
    emit(out, as_json, lambda d: Console().print(
        f"claimed patient record {d['id']}; next: healthsync edge sync enroll --server {url}, then "
        "healthsync edge sync run"))
