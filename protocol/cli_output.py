"""CLI output shared by every `healthsync` command: domain errors as one clean line with a hint, and JSON output."""
from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from protocol.errors import HealthSyncError

console = Console(stderr=True)


def emit(data: Any, as_json: bool, human: Callable[[Any], None] | None = None) -> None:
    """Print data as JSON (for scripts) or through `human` (for people)."""
    if as_json or human is None:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        human(data)


def handle_errors(fn: Callable) -> Callable:
    """Decorator: a HealthSyncError becomes a one-line message (with its hint) and exit code 1, no traceback; a
    command run with --json prints the error as JSON on stdout instead, so a script reads one stream."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except HealthSyncError as exc:
            if kwargs.get("as_json"):
                sys.stdout.write(json.dumps({"success": False, "error": exc.to_dict()}, default=str) + "\n")
                raise typer.Exit(1) from None
            # escape(): a message may quote a pattern such as [a-zA-Z_], which rich would take for markup.
            console.print(f"[red]error[/red] [{exc.code}] {escape(exc.message)}")
            errors = getattr(exc, "errors", None) or []
            for err in errors[1:]:
                console.print(f"  {escape(str(err['field']))}: {escape(str(err['message']))}")
            if exc.hint:
                console.print(f"hint: {escape(exc.hint)}")
            raise typer.Exit(1) from None

    return wrapper


JsonOut = typer.Option(False, "--json", help="Machine-readable JSON output.")
