"""Options and helpers shared by the edge CLI commands (the store, its passphrase, the user, the access token).

The store's passphrase never travels on the command line (where any local user reads it in the process list): it
comes from HEALTHSYNC_KEY / HEALTHSYNC_PASSPHRASE, from standard input with --passphrase-stdin (scripts), or from a
hidden prompt. The access token still may, with --token (kept for scripts that use it); --token-file (a 0600 file, or
standard input) and HEALTHSYNC_TOKEN keep it out.
"""
from __future__ import annotations

import sys

import typer

# Options every edge command shares, declared once.
StorePath = typer.Option(None, "--store", help="Store file (default: $HEALTHSYNC_HOME/edge.db).")
Passphrase = typer.Option(False, "--passphrase-stdin",
                          help="Read the store passphrase from the first line of standard input (for scripts); "
                               "otherwise HEALTHSYNC_PASSPHRASE / HEALTHSYNC_KEY, else a hidden prompt.")
# The subject of a record: on a clinic device the patient being seen, on a phone its own user (--user: the old name).
UserOpt = typer.Option(None, "--patient", "--user", help="Patient (user) id (default: the store's primary user).")
# The access token of a command that talks to the server; without one, HEALTHSYNC_TOKEN, else the signed-in session
# (edge.token_provider reads the variable, so it is not an envvar here: it would count as --token given).
Token = typer.Option(None, "--token", help="The user's access token (Supabase JWT). Other local users see it in the "
                                           "process list: prefer --token-file or HEALTHSYNC_TOKEN.")
TokenFile = typer.Option(None, "--token-file", metavar="PATH",
                         help="Read the access token from PATH (owner-only: chmod 600), or from standard input "
                              "with `-`.")

_NO_KEY_HINT = "set HEALTHSYNC_PASSPHRASE (or HEALTHSYNC_KEY), pipe it with --passphrase-stdin, or run in a terminal"


def read_stdin_line(what: str = "passphrase") -> str:
    """One line of standard input without its line ending; an empty one is an error."""
    from protocol.errors import StoreLockedError

    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise StoreLockedError(f"--passphrase-stdin: no {what} on standard input", hint=_NO_KEY_HINT)
    return line


def given_token(token: str | None, token_file: str | None, *, passphrase_stdin: bool = False) -> str | None:
    """The token a command was given (--token, or read with --token-file), or None for HEALTHSYNC_TOKEN / the
    signed-in session. Called before the store is opened: a bad option is refused having touched nothing."""
    from edge.token_provider import read_token_file
    from protocol.errors import InputError

    if token_file is None:
        return token
    if token is not None:
        raise InputError("give --token or --token-file, not both", field="token_file",
                         hint="keep --token-file (--token shows in the process list)")
    if token_file == "-" and passphrase_stdin:
        raise InputError("--token-file - and --passphrase-stdin both read standard input", field="token_file",
                         hint="put the token in a file (chmod 600), or the passphrase in HEALTHSYNC_PASSPHRASE")
    return read_token_file(token_file)


def prompt_secret(label: str, *, confirm: bool = False) -> str:
    """A hidden prompt (twice when `confirm`); no input at all is a clean error, not a hang or a traceback."""
    from protocol.errors import StoreLockedError

    try:
        # Two entries that differ are asked again; end of input (or Ctrl-C) ends here.
        return typer.prompt(label, hide_input=True, confirmation_prompt=confirm, err=True)  # stdout stays data
    except typer.Abort:
        raise StoreLockedError(f"no {label.lower()} given", hint=_NO_KEY_HINT) from None


def key_source(from_stdin: bool, *, new: bool = False, user_inputs: tuple[str | None, ...] = ()):
    """The key for a command: --passphrase-stdin, else the environment, else a hidden prompt. With `new` (a store
    being created) a prompt asks twice and a passphrase from anywhere must pass the strength check."""
    from edge.keys import ENV_KEY, ENV_PASSPHRASE, KeySource
    from edge.passphrase import check_strength

    if from_stdin:
        keys = KeySource(passphrase=read_stdin_line())
    elif _env(ENV_KEY) or _env(ENV_PASSPHRASE):
        keys = KeySource.from_env()
    else:
        keys = KeySource(passphrase=prompt_secret("New store passphrase" if new else "Store passphrase",
                                                  confirm=new))
    if new and keys.passphrase is not None:
        check_strength(keys.passphrase, user_inputs)
    return keys


def _env(name: str) -> str | None:
    import os

    return os.environ.get(name) or None


def open_store(store_path, passphrase_stdin: bool, create: bool = False, user_inputs: tuple[str | None, ...] = ()):
    """Open the store for a command, with the key from key_source()."""
    from edge import config
    from protocol.errors import NotFoundError

    path = store_path or config.store_path()
    if not create and not path.exists():  # say so before asking for a passphrase
        raise NotFoundError(f"no store at {path}", hint="run `healthsync edge init` first")
    keys = key_source(passphrase_stdin, new=create, user_inputs=user_inputs)
    return config.open_store(path, keys, create=create)


def resolve_user(store, user: str | None):
    """The --patient (--user) given, checked to be a UUID, else the store's primary user (on a personal device;
    a clinic device needs it named)."""
    import uuid

    from edge import config
    from protocol.errors import ValidationError

    if not user:
        from edge.patients import device_clinic
        from protocol.errors import InputError

        if device_clinic(store) is not None:
            # A shared clinic device has no "own" patient: a default would file a patient's data under the staff.
            raise InputError("on a clinic device, name the patient", field="patient",
                             hint="pass --patient ID (find it with `healthsync edge patient find`)")
        return config.primary_user(store)
    try:
        return uuid.UUID(user)
    except ValueError:
        raise ValidationError(f"--patient {user!r} is not a UUID", field="patient") from None
