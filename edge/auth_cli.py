"""`healthsync edge sign-in` and `healthsync edge sign-out`: Supabase Auth sessions kept sealed in the store."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from edge.cli_common import Passphrase, StorePath, open_store
from protocol.cli_output import JsonOut, emit, handle_errors

SecretStdin = typer.Option(False, "--password-stdin",
                           help="Read the password (or with --pin, the PIN) from stdin; with --set-pin, the PIN is the "
                                "next line.")


def _secret(from_stdin: bool, prompt: str, *, confirm: bool = False) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


def auth_url_for(store, given: str | None) -> str:
    """--auth-url, else SUPABASE_URL, else the sync server this device enrolled with."""
    from edge.device_keys import server_pin
    from protocol.errors import HealthSyncError, InputError

    url = given or os.environ.get("SUPABASE_URL")
    if not url:
        try:
            url = server_pin(store).url
        except HealthSyncError:
            url = None
    if not url:
        raise InputError("no auth server to sign in with",
                         hint="pass --auth-url URL, set SUPABASE_URL, or enroll the device (edge sync enroll)")
    return url


def _describe(record: dict) -> dict:
    user = record["user"]
    return {"id": str(user["id"]), "user_id": str(user["id"]), "email": user.get("email"),
            "role": (user.get("app_metadata") or {}).get("role") or "patient",
            "clinic_id": (user.get("app_metadata") or {}).get("clinic_id"),
            "expires_at": record["expires_at"], "pin_set": bool(record.get("pin"))}


@handle_errors
def sign_in(
    email: Optional[str] = typer.Option(None, "--email", help="Your sign-in email."),
    password_stdin: bool = SecretStdin,
    auth_url: Optional[str] = typer.Option(None, "--auth-url",
                                           help="Supabase project URL (default: SUPABASE_URL, else the sync server)."),
    pin: bool = typer.Option(False, "--pin", help="Unlock a staff member already signed in here with their PIN."),
    set_pin: bool = typer.Option(False, "--set-pin", help="Also set a short PIN for unlocking on this kiosk."),
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Sign in with email + password (Supabase Auth), or with --pin; the session is kept sealed in the store."""
    from edge import auth_session
    from edge.auth_client import SupabaseAuth
    from protocol.errors import InputError

    with open_store(store_path, passphrase) as store:
        if pin:
            if set_pin:
                raise InputError("--pin unlocks with a PIN; --set-pin sets one at a password sign-in", field="pin")
            record = auth_session.unlock_with_pin(store, _secret(password_stdin, "PIN"), email)
            out = {**_describe(record), "method": "pin"}
        else:
            if not email:
                raise InputError("--email is required (or use --pin)", field="email")
            url = auth_url_for(store, auth_url)
            password = _secret(password_stdin, "Password")
            # Checked before the password is sent, so a bad PIN does not cost a sign-in.
            new_pin = _secret(password_stdin, "New PIN (4-8 digits)", confirm=True) if set_pin else None
            pin_hash = auth_session.hash_pin(new_pin) if new_pin is not None else None
            with SupabaseAuth(url) as auth:
                tokens = auth.sign_in(email, password)
            record = auth_session.save_sign_in(store, tokens, url, pin_hash)
            out = {**_describe(record), "method": "password", "auth_url": url}
    emit(out, as_json, lambda d: Console().print(
        f"signed in as {d['email']} ({d['role']}) by {d['method']}; the session is sealed in the store"
        + ("; PIN unlock is set" if d["pin_set"] and set_pin else "")))


@handle_errors
def sign_out(
    email: Optional[str] = typer.Option(None, "--email", help="Whose session to end (default: the active one)."),
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """End a session: revoke its refresh token on the auth server and erase it (and its PIN) from the store."""
    from edge import auth_session
    from edge.token_provider import SessionTokens
    from protocol.errors import HealthSyncError, NotFoundError

    with open_store(store_path, passphrase) as store:
        uid = auth_session.find_user(store, email) if email else (auth_session.load(store)["active"])
        if not uid:
            raise NotFoundError("nobody is signed in on this device" if not email else
                                "that email is not signed in on this device")
        record = auth_session.load(store)["sessions"][uid]
        revoked, note = False, None
        try:
            from edge.auth_client import SupabaseAuth

            state = auth_session.load(store)
            if state["active"] != uid:  # the token source refreshes the active session; point it at this one
                state = None
            access = SessionTokens(store).token() if state else record["access_token"]
            with SupabaseAuth(record["auth_url"]) as auth:
                auth.sign_out(access)
            revoked = True
        except HealthSyncError as exc:
            note = exc.message  # the local session is erased anyway; the server's expires on its own
        auth_session.remove(store, uid)
    out = {"user_id": uid, "email": record["user"].get("email"), "revoked_on_server": revoked, "note": note}
    emit(out, as_json, lambda d: Console().print(
        f"signed out {d['email']}" + ("" if d["revoked_on_server"] else f" on this device ({d['note']})")))
