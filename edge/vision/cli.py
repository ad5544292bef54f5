"""`healthsync edge therapy …` and `healthsync edge scan` commands."""
import typer

therapy_app = typer.Typer(help="Physiotherapy with pose tracking.", no_args_is_help=True)
