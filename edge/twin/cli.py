"""`healthsync edge twin …` commands."""
import typer

app = typer.Typer(help="Health twin: risk equations, ONNX risk models, simulation.", no_args_is_help=True)
