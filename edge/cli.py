"""`healthsync edge …`: the edge runtime's commands, each a thin layer over the library."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edge import config
from edge.auth_cli import sign_in, sign_out
from edge.cli_common import Passphrase, StorePath, UserOpt, resolve_user
from edge.cli_common import open_store as open_cli_store
from edge.passphrase_cli import app as passphrase_app
from edge.patient_cli import consent_app, patient_app
from edge.sync_cli import app as sync_app
from edge.sync_cli import backup_command, restore_command
from edge.twin.cli import app as twin_app
from edge.vision.cli import scan, therapy_app
from edge.voice.cli import app as voice_app
from protocol.cli_output import JsonOut, emit, handle_errors
from protocol.schema import METRICS, TABLES, to_wire

app = typer.Typer(help="The edge runtime: local encrypted store, on-device pipelines, sync.", no_args_is_help=True)
metrics_app = typer.Typer(help="Health metrics in the local store.", no_args_is_help=True)
app.add_typer(metrics_app, name="metrics")
app.add_typer(voice_app, name="voice")
app.add_typer(twin_app, name="twin")
app.add_typer(therapy_app, name="therapy")
app.command("scan")(scan)
app.add_typer(sync_app, name="sync")
app.command("backup")(backup_command)
app.command("restore")(restore_command)
app.add_typer(passphrase_app, name="passphrase")
app.command("sign-in")(sign_in)
app.command("sign-out")(sign_out)

app.add_typer(patient_app, name="patient")
app.add_typer(consent_app, name="consent")


@app.command()
@handle_errors
def init(
    user_id: Optional[str] = typer.Option(None, "--user-id", help="Primary user's id (new UUIDv7 if omitted)."),
    email: Optional[str] = typer.Option(None, help="Primary user's email."),
    name: Optional[str] = typer.Option(None, help="Primary user's full name."),
    store_path: Optional[Path] = StorePath,
    clinic: Optional[str] = typer.Option(None, "--clinic", help="Make this a clinic device (kiosk) of the clinic "
                                                                "with this id; without it: a personal device."),
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Create an encrypted edge store and its primary user (a clinic device has none: staff sign in on it)."""
    path = store_path or config.store_path()
    if path.exists():
        from protocol.errors import HealthSyncError

        raise HealthSyncError(f"a store already exists at {path}", hint="use --store for another file")
    if clinic is not None:
        return _init_clinic_device(path, clinic, passphrase, as_json)
    with open_cli_store(path, passphrase, create=True, user_inputs=(name, email)) as store:
        # Only the values given: a device joining an existing user (--user-id, no name) sets nothing, so its
        # first sync takes the profile the server has instead of pushing nulls over it.
        given = {"id": user_id, "email": email, "full_name": name}
        user = store.users.add({k: v for k, v in given.items() if v is not None})
        store.set_meta("user_id", str(user.id))
        out = {"id": store.device_id, "store": str(path), "device_id": store.device_id, "user_id": str(user.id),
               "kind": "personal", "schema_version": store.schema_version}
    emit(out, as_json, lambda d: Console().print(f"initialised store {d['store']} (user {d['user_id']}, "
                                                 f"device {d['device_id']})"))


def _init_clinic_device(path: Path, clinic: str, passphrase: bool, as_json: bool) -> None:
    """A kiosk's store: no primary user; enrolled later by an admin or nurse of the clinic."""
    import uuid

    from protocol.errors import ValidationError

    try:
        clinic_id = str(uuid.UUID(clinic))
    except ValueError:
        raise ValidationError(f"--clinic must be a clinic id (UUID), got {clinic[:40]!r}", field="clinic") from None
    with open_cli_store(path, passphrase, create=True) as store:
        store.set_meta("clinic_id", clinic_id)
        out = {"id": store.device_id, "store": str(path), "device_id": store.device_id, "kind": "clinic",
               "clinic_id": clinic_id, "schema_version": store.schema_version}
    emit(out, as_json, lambda d: Console().print(f"initialised clinic device {d['device_id']} of clinic "
                                                 f"{d['clinic_id']} at {d['store']}; enroll it as an admin or "
                                                 "nurse of the clinic: healthsync edge sync enroll"))


@metrics_app.command("add")
@handle_errors
def metrics_add(
    metric_type: str = typer.Argument(..., help=f"One of: {', '.join(sorted(METRICS))}; or SpO2, HbA1c, BP."),
    value: str = typer.Argument(..., help="The measured value; blood pressure as 120/80; a negative number after "
                                          "`--` (metrics add stress_score -- -1.5)."),
    unit: Optional[str] = typer.Option(None, help="Unit of VALUE (default: the metric's canonical unit); any case, "
                                                  "e.g. F, lb, mg/dl, mmol/L."),
    recorded_at: Optional[dt.datetime] = typer.Option(None, help="When it was measured (default: now)."),
    notes: Optional[str] = typer.Option(None),
    user: Optional[str] = UserOpt,
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """Record one validated health metric (a blood pressure 120/80 records systolic and diastolic together)."""
    from protocol.metric_input import parse

    readings = parse(metric_type, value, unit)  # a typo is refused before the passphrase is asked
    with open_cli_store(store_path, passphrase) as store:
        user_id = resolve_user(store, user)
        with store.transaction():  # both halves of a blood pressure, or neither
            rows = []
            for r in readings:
                data = {"user_id": user_id, "metric_type": r.metric_type, "value": r.value, "unit": r.unit,
                        "notes": notes, "source": "manual"}
                if recorded_at:
                    data["recorded_at"] = recorded_at
                rows.append(to_wire(store.health_metrics.add(data)))

    def human(items):
        for d in items:
            Console().print(f"recorded {d['metric_type']} = {d['value']:g} {d['unit']} ({d['id']})")

    emit(rows[0] if len(rows) == 1 else rows, as_json, lambda d: human(rows))


@metrics_app.command("list")
@handle_errors
def metrics_list(
    metric_type: Optional[str] = typer.Option(None, "--type", help="Only this metric type."),
    since: Optional[dt.datetime] = typer.Option(None, help="Only at or after this time."),
    limit: int = typer.Option(50, min=1, max=10_000),
    user: Optional[str] = UserOpt,
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
    as_json: bool = JsonOut,
):
    """List health metrics, newest first."""
    filters = {"metric_type": metric_type} if metric_type else {}
    with open_cli_store(store_path, passphrase) as store:
        rows = store.health_metrics.list(owner=resolve_user(store, user), since=since, limit=limit,
                                         **filters)
    data = [to_wire(r) for r in rows]

    def human(items):
        table = Table("recorded at", "type", "value", "unit", "source", "notes")
        for m in items:
            table.add_row(m["recorded_at"], m["metric_type"], f"{m['value']:g}", m["unit"], m["source"],
                          escape(m["notes"] or ""))
        Console().print(table)

    emit(data, as_json, human)


@app.command("export")
@handle_errors
def export(
    fmt: str = typer.Option("json", "--format", help="json (every table) or csv (one table)."),
    table: Optional[str] = typer.Option(None, help="Table to export (default: all for json, health_metrics "
                                                    "for csv)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="File to write (default: stdout)."),
    store_path: Optional[Path] = StorePath,
    passphrase: bool = Passphrase,
):
    """Export decrypted records (contains PHI: handle the output accordingly)."""
    from protocol.errors import ValidationError

    if fmt not in ("json", "csv"):
        raise ValidationError(f"unknown format {fmt!r}: use json or csv", field="format")
    names = [table] if table else (list(TABLES) if fmt == "json" else ["health_metrics"])
    with open_cli_store(store_path, passphrase) as store:
        data = {n: [to_wire(r) for r in store.repo(n).list(limit=10**9)] for n in names}
    if fmt == "json":
        text = json.dumps(data, indent=2)
    else:
        rows = data[names[0]]
        buf = io.StringIO()
        fields = list(TABLES[names[0]].model.model_fields)
        writer = csv.DictWriter(buf, fieldnames=fields)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in r.items()})
        text = buf.getvalue()
    if output:
        from edge.files import write_private

        write_private(output, text)  # 0600 from the start: it holds decrypted PHI
        Console(stderr=True).print(f"wrote {sum(len(v) for v in data.values())} records to {output}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


@app.command()
@handle_errors
def info(store_path: Optional[Path] = StorePath, passphrase: bool = Passphrase, as_json: bool = JsonOut):
    """Show the store's path, device, schema version and record counts."""
    with open_cli_store(store_path, passphrase) as store:
        data = {"store": str(store.path), "device_id": store.device_id, "schema_version": store.schema_version,
                "user_id": store.meta("user_id"), "counts": {n: store.repo(n).count() for n in TABLES}}
    emit(data, as_json, lambda d: Console().print_json(data=d))




@app.command()
@handle_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (the kiosk UI is local)."),
    port: int = typer.Option(8765, help="Port."),
    idle_lock: Optional[float] = typer.Option(None, "--idle-lock", min=5, help="Lock the kiosk app after this many "
                                              "idle seconds (default: $HEALTHSYNC_KIOSK_IDLE_S, else 120)."),
):
    """Run the edge's local API (HTTP + WebSocket) and the kiosk app at / (API docs at /docs, served locally)."""
    import uvicorn

    from edge.api import create_app

    uvicorn.run(create_app(idle_s=idle_lock), host=host, port=port, log_level="info")

