"""`healthsync export …` commands: train, evaluate and package on-device models."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from protocol.cli_output import emit, handle_errors

app = typer.Typer(help="Model export: train, evaluate, export to ONNX, write manifests.", no_args_is_help=True)


def _default_models_dir() -> Path:
    from edge.twin.models import default_models_dir

    return default_models_dir()


@app.command("risk-models")
@handle_errors
def risk_models(
    output_dir: Optional[Path] = typer.Option(None, "--output-dir", help="Where the .onnx files and manifest.json go "
                                              "(default: $HEALTHSYNC_MODELS_DIR or the shipped models/ folder)."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Where the reliability plot PNG goes "
                                        "(default: reliability.png beside the manifest)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON output."),
):
    """Train the Pima diabetes models, print held-out AUC (95% CI) and Brier, draw a reliability plot, export to
    ONNX, check parity (≤1e-5), write the manifest."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from exporters.risk_models import export_risk_models
    from models.training import MODELS

    out = output_dir or _default_models_dir()
    total = 3 + 4 * len(MODELS)
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), disable=as_json) as progress:
        task = progress.add_task("export", total=total)

        def step(message: str) -> None:
            progress.update(task, description=message, advance=1)

        result = export_risk_models(out, step, plot_path=plot)
    data = {"manifest": str(result.manifest_path), "reliability_plot": str(result.plot_path),
            "parity_max_abs_diff": result.parity,
            "models": [{k: m[k] for k in ("name", "version", "file", "sha256")} | {
                k: m["metrics"][k] for k in ("n", "auc", "auc_ci95", "brier")} | {
                "calibration_slope": m["metrics"]["calibration"]["slope"],
                "calibration_intercept": m["metrics"]["calibration"]["intercept"]}
                for m in result.manifest["models"]]}

    def human(d):
        c = Console()
        for m in d["models"]:
            lo, hi = m["auc_ci95"]
            c.print(f"{m['name']} {m['version']} (held-out Pima.te, n={m['n']}): AUC {m['auc']:.3f} "
                    f"(95% CI {lo:.3f}–{hi:.3f}), Brier {m['brier']:.3f}, calibration slope "
                    f"{m['calibration_slope']:.2f} intercept {m['calibration_intercept']:+.2f}, "
                    f"parity {d['parity_max_abs_diff'][m['name']]:.2e} → {m['file']}")
        c.print(f"reliability plot written to {d['reliability_plot']}")
        c.print(f"manifest written to {d['manifest']}")

    emit(data, as_json, human)


@app.command("whisper")
@handle_errors
def whisper(
    src_dir: Path = typer.Argument(..., help="A CTranslate2 Whisper model directory (model.bin, config.json, "
                                   "tokenizer.json)."),
    output_dir: Optional[Path] = typer.Option(None, "--output-dir", help="Models folder to package into "
                                              "(default: $HEALTHSYNC_HOME/models)."),
    name: Optional[str] = typer.Option(None, "--name", help="Folder name for the model (default: SRC_DIR's name)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON output."),
):
    """Package a CTranslate2 Whisper model directory into the models folder with a manifest of file hashes."""
    from edge.config import data_dir
    from exporters.whisper import package

    out = package(src_dir, output_dir or data_dir() / "models", name)
    emit(out, as_json, lambda d: Console().print(f"packaged {len(d['files'])} files into {d['path']}"))


@app.command("triage-classifier")
@handle_errors
def triage_classifier(
    output_dir: Optional[Path] = typer.Option(None, "--output-dir", help="Where triage_redflag_svm.onnx and its "
                                              ".json go (default: the shipped models/ folder)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON output."),
):
    """Train triage's red-flag second opinion (MiniLM embeddings + SVM) on every dev utterance, print its
    leave-one-set-out figures, export to ONNX, check parity, write the manifest."""
    from exporters.triage_classifier import export_triage_classifier

    out = output_dir or Path(__file__).resolve().parents[1] / "models"
    console = Console(stderr=True)
    manifest = export_triage_classifier(out, lambda m: None if as_json else console.print(m))

    def human(m):
        c = Console()
        c.print(f"{m['name']} {m['version']}: {m['trained_on']['utterances']} utterances "
                f"({m['trained_on']['red_flags']} red flags), {m['support_vectors']} support vectors, "
                f"parity {m['parity_max_abs_diff']:.1e} → {m['file']}")
        for part, f in m["leave_one_set_out"].items():
            c.print(f"  without {part} (n={f['n']}): rules alone recall {f['rules_recall']:.1%} false alarms "
                    f"{f['rules_false_alarms']:.1%} → with the second opinion recall {f['recall']:.1%} "
                    f"false alarms {f['false_alarms']:.1%}")

    emit(manifest, as_json, human)
