"""CLI output shared by every `healthsync` command: domain errors as one clean line with a hint, and JSON output."""
from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console

from protocol.errors import HealthSyncError

console = Console(stderr=True)


def emit(data: Any, as_json: bool, human: Callable[[Any], None] | None = None) -> None:
    """Print data as JSON (for scripts) or through `human` (for people)."""
    if as_json or human is None:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        human(data)


def handle_errors(fn: Callable) -> Callable:
    """Decorator: a HealthSyncError becomes a one-line message (with its hint) and exit code 1, no traceback; with
    --json, stdout also gets `{"error": {code, message, hint}}` for the script reading it."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except HealthSyncError as exc:
            if kwargs.get("as_json"):
                sys.stdout.write(json.dumps({"error": exc.to_dict()}, default=str) + "\n")
            console.print(f"[red]error[/red] [{exc.code}] {exc.message}")
            errors = getattr(exc, "errors", None) or []
            for err in errors[1:]:
                console.print(f"  {err['field']}: {err['message']}")
            if exc.hint:
                console.print(f"hint: {exc.hint}")
            raise typer.Exit(1) from None

    return wrapper


JsonOut = typer.Option(False, "--json", help="Machine-readable JSON output.")
