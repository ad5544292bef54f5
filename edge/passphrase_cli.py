"""`healthsync edge passphrase change`: re-wrap the store's data key under a new passphrase."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from edge.cli_common import StorePath, key_source, prompt_secret, read_stdin_line
from protocol.cli_output import JsonOut, emit, handle_errors

app = typer.Typer(help="The store's passphrase.", no_args_is_help=True)


@app.command("change")
@handle_errors
def change(
    store_path: Optional[Path] = StorePath,
    from_stdin: bool = typer.Option(False, "--passphrase-stdin",
                                    help="Read the current passphrase, then the new one, from the first two lines "
                                         "of standard input (for scripts)."),
    as_json: bool = JsonOut,
):
    """Change the store's passphrase: the current one is checked, the data key re-wrapped in one transaction; no
    record is re-encrypted."""
    from edge import config
    from edge.keys import KeySource
    from edge.passphrase import check_strength
    from edge.store import Store
    from protocol.errors import NotFoundError, ValidationError

    path = store_path or config.store_path()
    if not path.exists():
        raise NotFoundError(f"no store at {path}", hint="run `healthsync edge init` first")
    old = KeySource(passphrase=read_stdin_line("current passphrase")) if from_stdin else key_source(False)
    with Store.open(path, old) as store:  # a wrong current passphrase stops here, before a new one is asked for
        try:
            user = store.users.get(store.meta("user_id") or "")
        except NotFoundError:
            user = None  # no primary user to count as guessable words
    new = read_stdin_line("new passphrase") if from_stdin else prompt_secret("New store passphrase", confirm=True)
    if new == old.passphrase:
        raise ValidationError("the new passphrase is the current one", field="passphrase")
    check_strength(new, (user.full_name, user.email) if user else ())
    Store.change_key(path, old, KeySource(passphrase=new))
    emit({"store": str(path), "changed": True}, as_json,
         lambda d: Console().print(f"passphrase changed for {d['store']} (the data key was re-wrapped)"))
