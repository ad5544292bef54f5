"""`healthsync server user …`: sign-in users of the embedded development auth service."""
from __future__ import annotations

import sys
from typing import Optional

import typer

from protocol.cli_output import JsonOut, emit, handle_errors

app = typer.Typer(help="Sign-in users of the embedded (development) Supabase Auth service.", no_args_is_help=True)


def read_password(from_stdin: bool, *, prompt: str = "Password") -> str:
    """The password from one line of stdin (--password-stdin), else typed twice at a hidden prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=True)


@app.command("add")
@handle_errors
def add(
    email: str = typer.Option(..., "--email", help="The user's email (their sign-in name)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin (one line)."),
    name: Optional[str] = typer.Option(None, "--name", help="Full name (user_metadata.full_name)."),
    as_json: bool = JsonOut,
):
    """Create an email + password user in the embedded auth (DATABASE_URL or the embedded Postgres); prints the id. A
    patient a clinic registered with this email is linked: the user takes their record's id."""
    from protocol.passwords import check_password_strength
    from sync_server import auth_users
    from sync_server.claims import registered_patient_for
    from sync_server.config import Settings
    from sync_server.db import Database
    from sync_server.migrate import migrate
    from sync_server.pg import ensure_database

    email = auth_users.normalise_email(email)
    password = read_password(password_stdin)
    check_password_strength(password, user_inputs=[email, email.partition("@")[0], *(name or "").split()])
    settings = Settings.from_env()
    url = ensure_database(settings.database_url, settings.data_dir)
    migrate(url)
    db = Database(url, max_size=1)
    try:
        with db.session("service_role", {"role": "service_role"}) as conn:
            # A patient a clinic registered with this email: the sign-in takes their record's id (docs/clinic.md).
            patient = registered_patient_for(conn, email)
            user = auth_users.create_user(conn, email, password, full_name=name, user_id=patient)
    finally:
        db.close()
    emit({"id": str(user.id), "email": user.email, "linked_patient": patient is not None}, as_json,
         lambda d: typer.echo(d["id"]))
