"""`healthsync edge voice …` commands."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from edge.cli_common import Passphrase, StorePath, UserOpt, open_store, resolve_user
from protocol.cli_output import JsonOut, emit, handle_errors

app = typer.Typer(help="Voice AI doctor: speech → transcript → voice markers → triage.", no_args_is_help=True)


def _human(d: dict) -> None:
    from rich.console import Console

    out = Console()
    t = d["triage"]
    out.print(f"[bold]transcript[/bold]  {d['transcript']}")
    m = d["markers"]
    fmt = lambda v, spec: "–" if v is None else format(v, spec)  # noqa: E731
    out.print(f"[bold]voice[/bold]       F0 {fmt(m['f0_mean_hz'], '.0f')} ± {fmt(m['f0_sd_hz'], '.0f')} Hz · "
              f"jitter {fmt(m['jitter_local'] and m['jitter_local'] * 100, '.2f')} % · "
              f"shimmer {fmt(m['shimmer_local'] and m['shimmer_local'] * 100, '.2f')} % · "
              f"HNR {fmt(m['hnr_db'], '.1f')} dB · rate {fmt(m['speaking_rate'], '.1f')} syll/s · "
              f"pauses {m['pause_ratio'] * 100:.0f} %")
    s = d["stress"]
    out.print("[bold]stress[/bold]      " + (f"index {s['stress_index']} ({s.get('level')}) vs own baseline"
                                             if s["status"] == "ok" else s["message"]))
    out.print(f"[bold]symptoms[/bold]    {', '.join(t['symptoms']) or 'none recognised'}"
              + (f" (denied: {', '.join(t['negated'])})" if t["negated"] else ""))
    dur = f", for {t['duration_days']:g} day(s)" if t["duration_days"] is not None else ""
    out.print(f"[bold]triage[/bold]      {t['urgency']} · severity {t['severity']}/10{dur} · see: {t['specialty']}")
    for flag in d["red_flags"]:
        out.print(f"[bold red]RED FLAG[/bold red]    {flag['title']} — {flag['advice']}")
    if not d["red_flags"]:
        out.print(f"[bold]advice[/bold]      {t['advice']}")
    out.print(f"stored symptom {d['symptom_id']}" + (f" · alert {d['alert_id']}" if d["alert_id"] else "")
              + (" · audio kept (encrypted)" if d["audio_path"] else ""))


@app.command("analyze")
@handle_errors
def analyze(
    file: Path = typer.Argument(..., help="Audio file: WAV, FLAC, OGG or MP3 (any rate, any channels, ≤ 10 min)."),
    user: Optional[str] = UserOpt,
    keep_audio: Optional[bool] = typer.Option(
        None, "--keep-audio/--no-keep-audio",
        help="Keep the recording, encrypted (needs the user's audio opt-in). Default: follow the opt-in."),
    model: Optional[str] = typer.Option(None, "--model", envvar="HEALTHSYNC_WHISPER_MODEL",
                                        help="CTranslate2 Whisper model directory (default: bundled tiny.en)."),
    store_path: Optional[Path] = StorePath,
    passphrase: Optional[str] = Passphrase,
    as_json: bool = JsonOut,
):
    """Transcribe a recording, measure voice markers, triage it and store a symptom record."""
    from edge.voice.pipeline import AnalyzeOptions, analyze_file

    with open_store(store_path, passphrase) as store:
        user_id = resolve_user(store, user)
        result = analyze_file(store, file, user_id, AnalyzeOptions(keep_audio=keep_audio, model_dir=model))
    emit(result.to_dict(), as_json, _human)
