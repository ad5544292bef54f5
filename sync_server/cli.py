"""`healthsync server …` commands."""
import typer

app = typer.Typer(help="The sync server (FastAPI).", no_args_is_help=True)
