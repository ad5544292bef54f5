"""`healthsync edge sync …`: enroll, run (once or --watch), status, and the quarantine of rejected changes."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from edge.cli_common import Passphrase, StorePath, Token, TokenFile, given_token, open_store
from protocol.cli_output import JsonOut, emit, handle_errors
from protocol.errors import AuthError

app = typer.Typer(help="Sync the local store with the sync server.", no_args_is_help=True)
quarantine_app = typer.Typer(help="Changes the server rejected: list, retry or discard them.", no_args_is_help=True)
app.add_typer(quarantine_app, name="quarantine")


@app.command()
@handle_errors
def enroll(
    server: str = typer.Option(..., "--server", help="Sync server URL, e.g. https://sync.example.org."),
    name: Optional[str] = typer.Option(None, "--name", help="A name for this device."),
    token: Optional[str] = Token,
    token_file: Optional[str] = TokenFile,
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Register this device's keys with the server and pin the server's key."""
    from edge.sync_client import SyncClient
    from edge.token_provider import token_source

    token = given_token(token, token_file, passphrase_stdin=passphrase)
    with open_store(store_path, passphrase) as store:
        with SyncClient(store, token_source(store, token), server_url=server) as client:
            pin = client.enroll(server, name)
        out = {"server": pin.url, "user_id": pin.user_id, "device_id": store.device_id,
               "server_public_key": pin.public_key.hex()}
    emit(out, as_json, lambda d: Console().print(f"enrolled device {d['device_id']} with {d['server']}"))


@app.command()
@handle_errors
def run(
    watch: bool = typer.Option(False, "--watch", help="Keep syncing; back off while the server is unreachable."),
    interval: float = typer.Option(10.0, "--interval", help="Seconds between rounds in --watch mode."),
    batch_size: int = typer.Option(2000, "--batch-size", min=1, max=50_000, help="Changes per pushed changeset."),
    purge_window_days: int = typer.Option(14, "--purge-window-days", min=0,
                                          help="On a clinic device: after each round, purge synced patients not "
                                               "seen within this many days."),
    token: Optional[str] = Token,
    token_file: Optional[str] = TokenFile,
    max_rounds: Optional[int] = typer.Option(None, "--max-rounds", min=1, hidden=True,
                                             help="Stop --watch after this many rounds (tests, scripts)."),
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Push pending changes and pull the server's; with --watch, forever. Exits 1 when the push failed or the server
    rejected changes (they wait in the quarantine)."""
    from edge.kiosk import after_sync as kiosk_after_sync
    from edge.sync_client import SyncClient, SyncOptions
    from edge.token_provider import token_source

    token = given_token(token, token_file, passphrase_stdin=passphrase)
    auth_said = once_per_outage()

    def show(result, error):
        if error is not None:
            if isinstance(error, AuthError):
                auth_said(error)
            else:
                Console(stderr=True).print(f"[yellow]server unreachable[/yellow]: {error.message}; backing off")
            return
        auth_said(None)
        out = result.to_dict()
        if (purged := kiosk_after_sync(store, purge_window_days)) is not None:
            out["kiosk_purge"] = purged  # a clinic device drops the patients whose data just synced out of scope
        emit(out, as_json, lambda d: Console().print(
            f"pushed {d['accepted']} accepted, {d['duplicate']} duplicate, {d['superseded']} superseded, "
            f"{d['rejected']} rejected; "
            f"pulled {d['pulled']}"))
        if purged and purged["purged"] and not as_json:
            Console(stderr=True).print(f"purged {len(purged['purged'])} synced patient(s) outside this clinic "
                                       "device's scope")
        if result.push_error:
            err = result.push_error
            Console(stderr=True).print(f"[red]push failed[/red] [{err['code']}] {err['message']} (the pull ran)"
                                       + (f"\nhint: {err['hint']}" if err.get("hint") else ""))
        if result.rejected:
            Console(stderr=True).print(f"[red]{result.rejected} change(s) rejected[/red] by the server and kept in "
                                       "the quarantine: see why with `healthsync edge sync quarantine list`, then "
                                       "fix, retry or discard each")
        if (result.claims or {}).get("waiting"):
            Console(stderr=True).print(f"{result.claims['waiting']} claim code(s) not filed yet "
                                       f"({result.claims['reason']}); they are filed again at the next sync")

    with open_store(store_path, passphrase) as store, \
            SyncClient(store, token_source(store, token), options=SyncOptions(batch_size=batch_size)) as client:
        if watch:
            client.watch(interval, max_rounds=max_rounds, on_round=show)
        else:
            result = client.run()
            show(result, None)
            if result.push_error or result.rejected:  # a script must notice what the server refused
                raise typer.Exit(1)


def once_per_outage():
    """A reporter that prints a refused sign-in once (one line with its code) and again only after a round
    succeeded in between; the watch loop keeps retrying quietly meanwhile."""
    said = {"yes": False}

    def report(error: AuthError | None) -> None:
        if error is None:
            said["yes"] = False
        elif not said["yes"]:
            said["yes"] = True
            hint = f" ({error.hint})" if error.hint else ""
            Console(stderr=True).print(f"[red]error[/red] [{error.code}] {error.message}{hint}; changes stay "
                                       "queued, syncing resumes after sign-in", soft_wrap=True)

    return report


@app.command()
@handle_errors
def status(store_path: Optional[Path] = StorePath, passphrase: bool = Passphrase, as_json: bool = JsonOut):
    """Pending, quarantined and last-synced figures."""
    from edge.sync_client import status as sync_status

    with open_store(store_path, passphrase) as store:
        out = sync_status(store)
    emit(out, as_json, lambda d: Console().print(
        f"pending {d['pending']}, quarantined {d['quarantined']}, superseded {d['superseded']}, "
        f"last synced {d['last_synced_at'] or 'never'}"
        + (f" (last error: {d['last_error']})" if d["last_error"] else "")))


@quarantine_app.command("list")
@handle_errors
def quarantine_list(store_path: Optional[Path] = StorePath, passphrase: bool = Passphrase,
                    as_json: bool = JsonOut):
    """Rejected changes with the server's reason."""
    from edge import outbox

    with open_store(store_path, passphrase) as store:
        items = [q.__dict__ for q in outbox.quarantined(store)]

    def human(rows):
        for r in rows:
            Console().print(f"{r['change_id']}  {r['table']} {r['op']} {r['row_id']}  [{r['code']}] {r['reason']}")
        if not rows:
            Console().print("quarantine is empty")

    emit(items, as_json, human)


@quarantine_app.command("retry")
@handle_errors
def quarantine_retry(change_id: str = typer.Argument(..., help="Change id from `quarantine list`."),
                     store_path: Optional[Path] = StorePath, passphrase: bool = Passphrase,
                     as_json: bool = JsonOut):
    """Put a rejected change back in the outbox for the next sync."""
    from edge import outbox

    with open_store(store_path, passphrase) as store:
        outbox.retry(store, change_id)
    emit({"change_id": change_id, "retried": True}, as_json, lambda d: Console().print(f"requeued {change_id}"))


@quarantine_app.command("fix")
@handle_errors
def quarantine_fix(change_id: str = typer.Argument(..., help="Change id from `quarantine list`."),
                   assignments: list[str] = typer.Option(..., "--set", help="FIELD=VALUE (JSON or text); repeatable."),
                   store_path: Optional[Path] = StorePath, passphrase: bool = Passphrase,
                   as_json: bool = JsonOut):
    """Correct a rejected change (validated like any write) and queue it for the next sync."""
    import json

    from edge import outbox
    from protocol.errors import ValidationError

    changes = {}
    for item in assignments:
        field, sep, raw = item.partition("=")
        if not sep or not field:
            raise ValidationError(f"--set {item!r} is not FIELD=VALUE", field="set")
        try:
            changes[field] = json.loads(raw)
        except json.JSONDecodeError:
            changes[field] = raw
    with open_store(store_path, passphrase) as store:
        new_id = outbox.fix(store, change_id, changes)
    emit({"change_id": change_id, "fixed": True, "new_change_id": new_id}, as_json,
         lambda d: Console().print(f"fixed {change_id}; queued as {d['new_change_id']}"))


@quarantine_app.command("discard")
@handle_errors
def quarantine_discard(change_id: str = typer.Argument(..., help="Change id from `quarantine list`."),
                       store_path: Optional[Path] = StorePath, passphrase: bool = Passphrase,
                       as_json: bool = JsonOut):
    """Drop a rejected change for good."""
    from edge import outbox

    with open_store(store_path, passphrase) as store:
        outbox.discard(store, change_id)
    emit({"change_id": change_id, "discarded": True}, as_json, lambda d: Console().print(f"discarded {change_id}"))


# ---------------------------------------------------------------- backup / restore
# Registered by edge/cli.py as `healthsync edge backup` and `healthsync edge restore`.


@handle_errors
def backup_command(
    replica: Optional[str] = typer.Option(None, "--replica",
                                          help="Replica directory or s3:// URL (default: $HEALTHSYNC_BACKUP)."),
    watch: bool = typer.Option(False, "--watch", help="Replicate continuously instead of once."),
    store_path: Optional[Path] = StorePath,
    as_json: bool = JsonOut,
):
    """Back up the encrypted store with litestream (once, or continuously with --watch)."""
    from edge import backup, config

    path = store_path or config.store_path()
    target = replica or str(backup.default_replica_dir())
    cfg = path.parent / "litestream.yml"
    if watch:
        raise typer.Exit(backup.backup_forever(path, target, cfg))
    backup.backup_once(path, target, cfg)
    emit({"store": str(path), "replica": target}, as_json,
         lambda d: Console().print(f"backed up {d['store']} to {d['replica']}"))


@handle_errors
def restore_command(
    out: Path = typer.Argument(..., help="Where to write the restored store (must not exist)."),
    replica: Optional[str] = typer.Option(None, "--replica",
                                          help="Replica directory or s3:// URL (default: $HEALTHSYNC_BACKUP)."),
    source: Optional[Path] = typer.Option(None, "--source", help="The store path the replica was made from."),
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Restore a store from its litestream replica, check its integrity and that it opens with your key."""
    from edge import backup, config
    from edge.cli_common import key_source

    keys = key_source(passphrase)
    target = replica or str(backup.default_replica_dir())
    report = backup.restore(target, out, keys, out.parent / "litestream-restore.yml",
                            source_path=source or config.store_path())
    emit(report.__dict__, as_json, lambda d: Console().print(
        f"restored {d['path']} (integrity {d['integrity']}, device {d['device_id']})"))
