"""Helpers shared by every CLI command: turning domain errors into clean messages, and JSON output."""
from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console

from edge.errors import HealthSyncError

console = Console(stderr=True)


def emit(data: Any, as_json: bool, human: Callable[[Any], None] | None = None) -> None:
    """Print data as JSON (for scripts) or through `human` (for people)."""
    if as_json or human is None:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        human(data)


def handle_errors(fn: Callable) -> Callable:
    """Decorator: a HealthSyncError becomes a one-line message (with its hint) and exit code 1, no traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except HealthSyncError as exc:
            console.print(f"[red]error[/red] [{exc.code}] {exc.message}")
            errors = getattr(exc, "errors", None) or []
            for err in errors[1:]:
                console.print(f"  {err['field']}: {err['message']}")
            if exc.hint:
                console.print(f"hint: {exc.hint}")
            raise typer.Exit(1) from None

    return wrapper


# Options every edge command shares, declared once.
StorePath = typer.Option(None, "--store", help="Store file (default: $HEALTHSYNC_HOME/edge.db).")
Passphrase = typer.Option(None, "--passphrase", envvar="HEALTHSYNC_PASSPHRASE", help="Store passphrase.",
                          show_envvar=True)
JsonOut = typer.Option(False, "--json", help="Machine-readable JSON output.")
UserOpt = typer.Option(None, "--user", help="User id (default: the store's primary user).")


def open_store(store_path, passphrase: str | None, create: bool = False):
    """Open the store for a command: --passphrase if given, else the key from the environment."""
    from edge import config
    from edge.keys import KeySource

    return config.open_store(store_path, KeySource(passphrase=passphrase) if passphrase else None, create=create)


def resolve_user(store, user: str | None):
    """The --user given (checked to be a UUID), else the store's primary user."""
    import uuid

    from edge import config
    from edge.errors import ValidationError

    if not user:
        return config.primary_user(store)
    try:
        return uuid.UUID(user)
    except ValueError:
        raise ValidationError(f"--user {user!r} is not a UUID", field="user") from None
