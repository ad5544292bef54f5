"""Options and helpers shared by the edge CLI commands (the store, its passphrase, the user)."""
from __future__ import annotations

import typer

# Options every edge command shares, declared once.
StorePath = typer.Option(None, "--store", help="Store file (default: $HEALTHSYNC_HOME/edge.db).")
Passphrase = typer.Option(None, "--passphrase", envvar="HEALTHSYNC_PASSPHRASE", help="Store passphrase.",
                          show_envvar=True)
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
    from protocol.errors import ValidationError

    if not user:
        return config.primary_user(store)
    try:
        return uuid.UUID(user)
    except ValueError:
        raise ValidationError(f"--user {user!r} is not a UUID", field="user") from None
