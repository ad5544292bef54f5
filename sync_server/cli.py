"""`healthsync server …`: run the sync server, migrate its database, mint development tokens."""
from __future__ import annotations

import logging
import uuid
from enum import Enum
from typing import Optional

import typer

from protocol.cli_output import JsonOut, emit, handle_errors
from sync_server.user_cli import app as user_app

app = typer.Typer(help="The sync server (FastAPI on Postgres with Supabase-style RLS).", no_args_is_help=True)
app.add_typer(user_app, name="user")


class RoleChoice(str, Enum):
    patient = "patient"
    nurse = "nurse"
    doctor = "doctor"
    staff = "staff"
    admin = "admin"


@app.command()
@handle_errors
def run(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="TCP port.", min=1, max=65535),
    migrate_first: bool = typer.Option(True, "--migrate/--no-migrate", help="Apply pending migrations first."),
    log_level: str = typer.Option("INFO", help="Log level (JSON lines on stderr)."),
):
    """Serve the API with uvicorn (embedded Postgres when DATABASE_URL is unset)."""
    from dataclasses import replace

    import uvicorn

    from sync_server.app import create_app
    from sync_server.config import Settings
    from sync_server.logs import configure_logging, log_event
    from sync_server.migrate import migrate
    from sync_server.pg import ensure_database

    configure_logging(log_level.upper())
    settings = Settings.from_env()
    if not settings.jwt_secret and not settings.jwks_url:
        log_event(logging.WARNING, "no SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL: every token will be refused")
    url = ensure_database(settings.database_url, settings.data_dir)
    if migrate_first:
        migrate(url)
    app_ = create_app(replace(settings, database_url=url))
    # log_config=None: uvicorn's loggers propagate to our JSON handler; our middleware writes the access lines.
    uvicorn.run(app_, host=host, port=port, log_config=None, access_log=False)


@app.command("migrate")
@handle_errors
def migrate_cmd(as_json: bool = JsonOut):
    """Apply pending SQL migrations to DATABASE_URL (or the embedded Postgres)."""
    from sync_server.config import Settings
    from sync_server.migrate import discover, migrate
    from sync_server.pg import ensure_database

    settings = Settings.from_env()
    url = ensure_database(settings.database_url, settings.data_dir)
    applied = migrate(url)
    latest = discover()[-1].version
    emit({"applied": applied, "version": latest}, as_json,
         lambda d: typer.echo(f"applied {len(d['applied'])} migration(s); schema at version {d['version']}"))


@app.command()
@handle_errors
def token(
    user: str = typer.Option(..., "--user", help="The user's id (UUID) to put in `sub`."),
    role: RoleChoice = typer.Option(RoleChoice.patient, "--role", help="Application role (app_metadata.role)."),
    ttl: int = typer.Option(3600, "--ttl", help="Lifetime in seconds.", min=1, max=30 * 24 * 3600),
    clinic: Optional[str] = typer.Option(None, "--clinic", help="Clinic id (UUID) for app_metadata.clinic_id."),
    as_json: bool = JsonOut,
):
    """Mint a development JWT signed with SUPABASE_JWT_SECRET (for the demo and operators)."""
    from protocol.errors import InputError
    from sync_server.auth import mint_token
    from sync_server.config import Settings

    try:
        user_id = uuid.UUID(user)
    except ValueError:
        raise InputError(f"--user must be a UUID, got {user!r}") from None
    try:
        clinic_id = uuid.UUID(clinic) if clinic else None
    except ValueError:
        raise InputError(f"--clinic must be a UUID, got {clinic!r}") from None
    secret: Optional[str] = Settings.from_env().jwt_secret
    if not secret:
        raise InputError("SUPABASE_JWT_SECRET is not set", hint="export SUPABASE_JWT_SECRET=<project JWT secret>")
    jwt = mint_token(secret, user_id, role.value, ttl, clinic_id=clinic_id)
    emit({"token": jwt, "user": str(user_id), "role": role.value, "ttl": ttl,
          "clinic": str(clinic_id) if clinic_id else None}, as_json,
         lambda d: typer.echo(d["token"]))


@app.command("mongo-drain")
@handle_errors
def mongo_drain(
    once: bool = typer.Option(False, "--once", help="Drain what is queued now and exit."),
    interval: float = typer.Option(2.0, help="Seconds between drains when running continuously.", min=0.1),
    as_json: bool = JsonOut,
):
    """Copy family_graph and health_events documents to MongoDB (MONGODB_URI) from the server-side outbox."""
    from sync_server.mongo_sink import drain_forever

    drained = drain_forever(interval_s=interval, once=once)
    emit({"drained": drained}, as_json, lambda d: typer.echo(f"drained {d['drained']} documents"))


clinic_app = typer.Typer(help="Clinics (tenants).", no_args_is_help=True)
staff_app = typer.Typer(help="A clinic's staff (nurse, doctor, admin).", no_args_is_help=True)
doctor_app = typer.Typer(help="The doctor directory.", no_args_is_help=True)
app.add_typer(clinic_app, name="clinic")
app.add_typer(staff_app, name="staff")
app.add_typer(doctor_app, name="doctor")


class StaffRole(str, Enum):
    nurse = "nurse"
    doctor = "doctor"
    admin = "admin"


def _uuid(value: str, option: str) -> uuid.UUID:
    from protocol.errors import ValidationError

    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationError(f"{option} must be a UUID, got {value[:40]!r}", field=option.lstrip("-")) from None


def _operator_db():
    """The server's database as its login role (operators' commands), migrated first."""
    from sync_server.config import Settings
    from sync_server.db import Database
    from sync_server.migrate import migrate
    from sync_server.pg import ensure_database

    settings = Settings.from_env()
    url = ensure_database(settings.database_url, settings.data_dir)
    migrate(url)
    return Database(url, max_size=1)


def _as_operator(fn):
    db = _operator_db()
    try:
        with db.admin() as conn:
            return fn(conn)
    finally:
        db.close()


@clinic_app.command("create")
@handle_errors
def clinic_create(name: str = typer.Argument(..., help="The clinic's name."), as_json: bool = JsonOut):
    """Create a clinic; prints its id."""
    from sync_server import tenancy

    out = _as_operator(lambda conn: tenancy.create_clinic(conn, name))
    emit(out, as_json, lambda d: typer.echo(d["id"]))


@staff_app.command("add")
@handle_errors
def staff_add(
    clinic: str = typer.Option(..., "--clinic", help="The clinic's id."),
    user: str = typer.Option(..., "--user", help="The user's id."),
    role: StaffRole = typer.Option(..., "--role", help="nurse, doctor or admin."),
    as_json: bool = JsonOut,
):
    """Make a user staff of a clinic (and set their sign-in's app_metadata role and clinic when auth.users exists)."""
    from sync_server import tenancy

    clinic_id, user_id = _uuid(clinic, "--clinic"), _uuid(user, "--user")
    out = _as_operator(lambda conn: tenancy.add_staff(conn, clinic_id, user_id, role.value))
    emit(out, as_json, lambda d: typer.echo(f"{d['user_id']} is now {d['role']} at clinic {d['clinic_id']}"))


@staff_app.command("platform-admin")
@handle_errors
def staff_platform_admin(
    user: str = typer.Option(..., "--user", help="The sign-in user's id."),
    revoke: bool = typer.Option(False, "--revoke", help="Take the claim back."),
    as_json: bool = JsonOut,
):
    """Give a sign-in the platform-admin claim (app_metadata.platform_admin): they may create clinics in the console."""
    from sync_server import tenancy

    user_id = _uuid(user, "--user")
    out = _as_operator(lambda conn: tenancy.set_platform_admin(conn, user_id, not revoke))
    emit(out, as_json, lambda d: typer.echo(f"{d['user_id']} is {'now' if d['platform_admin'] else 'no longer'} "
                                            "a platform admin"))


@doctor_app.command("add")
@handle_errors
def doctor_add(
    user: str = typer.Option(..., "--user", help="The doctor's user id."),
    clinic: str = typer.Option(..., "--clinic", help="The clinic's id."),
    specialty: str = typer.Option(..., "--specialty", help="e.g. cardiology."),
    name: Optional[str] = typer.Option(None, "--name", help="Display name (default: the user's profile name)."),
    languages: str = typer.Option("", "--languages", help="Comma-separated language tags, e.g. en,fr."),
    price_min: Optional[float] = typer.Option(None, "--price-min", help="Lowest consultation price.", min=0),
    price_max: Optional[float] = typer.Option(None, "--price-max", help="Highest consultation price.", min=0),
    working_hours: Optional[str] = typer.Option(None, "--working-hours",
                                                help='JSON object, e.g. \'{"mon": ["09:00-17:00"]}\'.'),
    as_json: bool = JsonOut,
):
    """Create a doctor directory entry linked to a user at a clinic; prints its id."""
    import json

    from protocol.errors import ValidationError
    from sync_server import tenancy

    user_id, clinic_id = _uuid(user, "--user"), _uuid(clinic, "--clinic")
    hours = None
    if working_hours is not None:
        try:
            hours = json.loads(working_hours)
        except ValueError:
            raise ValidationError("--working-hours must be a JSON object", field="working_hours") from None
    out = _as_operator(lambda conn: tenancy.add_doctor(
        conn, user_id, clinic_id, specialty, name=name, languages=languages.split(",") if languages else [],
        price_min=price_min, price_max=price_max, working_hours=hours))
    emit(out, as_json, lambda d: typer.echo(d["id"]))
