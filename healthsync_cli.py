"""The `healthsync` command: edge, server, export and demo sub-commands."""
from __future__ import annotations

import os

os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "healthsync-numba"))

import typer  # noqa: E402

from edge.cli import app as edge_app  # noqa: E402
from exporters.cli import app as export_app  # noqa: E402
from sync_server.cli import app as server_app  # noqa: E402

app = typer.Typer(help="HealthSync Edge: offline-first health platform.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(edge_app, name="edge")
app.add_typer(server_app, name="server")
app.add_typer(export_app, name="export")


@app.command()
def demo(
    workdir: str = typer.Option(None, help="Where the demo keeps its files (default: a temporary directory)."),
    serve: bool = typer.Option(False, "--serve", help="Instead: seed a clinic (staff, patients, a day of records) and "
                                                      "leave the sync server and the kiosk's edge serve running, "
                                                      "printing their URLs and the demo sign-ins, until Ctrl-C."),
):
    """Run the end-to-end demo on embedded defaults and print what it did (--serve: a clinic to click through)."""
    if serve:
        import tempfile
        from pathlib import Path

        from demo_kiosk import serve as serve_clinic

        serve_clinic(Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="healthsync-clinic-")))
        return
    from demo import run_demo

    run_demo(workdir)


if __name__ == "__main__":
    app()
