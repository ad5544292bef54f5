"""`healthsync export …` commands: train, evaluate and package on-device models."""
import typer

app = typer.Typer(help="Model export: train, evaluate, export to ONNX, write manifests.", no_args_is_help=True)
