"""`healthsync edge voice …` commands."""
import typer

app = typer.Typer(help="Voice AI doctor: speech → transcript → voice markers → triage.", no_args_is_help=True)
