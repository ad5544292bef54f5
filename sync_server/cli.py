"""`healthsync server …`: run the sync server, migrate its database, mint development tokens."""
from __future__ import annotations

import logging
import uuid
from enum import Enum
from typing import Optional

import typer

from protocol.cli_output import JsonOut, emit, handle_errors

app = typer.Typer(help="The sync server (FastAPI on Postgres with Supabase-style RLS).", no_args_is_help=True)


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
    secret: Optional[str] = Settings.from_env().jwt_secret
    if not secret:
        raise InputError("SUPABASE_JWT_SECRET is not set", hint="export SUPABASE_JWT_SECRET=<project JWT secret>")
    jwt = mint_token(secret, user_id, role.value, ttl)
    emit({"token": jwt, "user": str(user_id), "role": role.value, "ttl": ttl}, as_json,
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
