"""The voice pipeline end to end: decode → transcribe → markers → triage → one stored symptom record (+ alert)."""
from __future__ import annotations

import base64
import io
import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from edge.store import Store
from edge.voice import audio as audio_stage
from edge.voice import markers as marker_stage
from edge.voice import transcribe as stt
from edge.voice.llm import choose_assessor
from edge.voice.triage import triage
from edge.voice.triage import warm_up as triage_warm_up
from protocol.errors import ForbiddenError, InputError, NotFoundError
from protocol.schema import new_id

log = logging.getLogger(__name__)

PIPELINE_VERSION = "voice-v2"
BASELINE_HISTORY = 30  # earlier sessions read for the personal baseline
MAX_DESCRIPTION = 5000  # the symptoms.description limit


@dataclass
class AnalyzeOptions:
    """How to run the pipeline: decoding options, audio keeping, baseline size, model directory."""

    transcribe: stt.TranscribeOptions = field(default_factory=stt.TranscribeOptions)
    keep_audio: bool | None = None  # None: follow the patient's audio consent; True: keep (needs the consent)
    min_baseline_sessions: int = marker_stage.MIN_BASELINE_SESSIONS
    model_dir: str | None = None
    partial: bool = False  # the stream ended early (disconnect): stored and marked as partial
    http_client: httpx.Client | None = None  # for the online assessor (tests hand a mock transport here)


@dataclass
class AnalysisResult:
    """What one utterance produced, and the ids of what was stored."""

    symptom_id: uuid.UUID
    transcript: stt.Transcript
    markers: marker_stage.VoiceMarkers
    stress: dict
    triage: dict
    alert_id: uuid.UUID | None
    audio_path: str | None
    model_versions: dict[str, str]
    timings: dict[str, float]
    partial: bool = False

    def to_dict(self) -> dict:
        """Plain data for JSON (the CLI's --json and the WebSocket's voice_analysis_result)."""
        return {
            "symptom_id": str(self.symptom_id),
            "transcript": self.transcript.text,
            "segments": [asdict(s) for s in self.transcript.segments],
            "markers": self.markers.to_dict(),
            "stress": self.stress,
            "triage": self.triage,
            "red_flags": self.triage["red_flags"],
            "alert_id": str(self.alert_id) if self.alert_id else None,
            "audio_path": self.audio_path,
            "model_versions": self.model_versions,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "partial": self.partial,
        }


def model_versions(options: AnalyzeOptions, llm_model: str | None) -> dict[str, str]:
    """Which models and rule sets produced a record (stored with it, for audit and re-analysis)."""
    import faster_whisper

    from edge.voice.triage import ENGINE_VERSION

    return {
        "pipeline": PIPELINE_VERSION,
        "stt": stt.model_name(options.model_dir),
        "faster_whisper": faster_whisper.__version__,
        "compute_type": "int8",
        "vad": "silero-vad (bundled with faster-whisper)" if options.transcribe.vad_filter else "none",
        "markers": marker_stage.MARKERS_VERSION,
        "triage": ENGINE_VERSION,
        "llm": llm_model or "none",
    }


def _consents(store: Store, user_id: uuid.UUID) -> tuple[bool, bool]:
    """(llm, audio) consent in force: the patient's latest consent records (the old profile flags for a store made
    before them); a user unknown to this device has given neither."""
    from edge import consent

    return consent.allowed(store, user_id, "llm"), consent.allowed(store, user_id, "audio")


def _baseline(store: Store, user_id: uuid.UUID) -> list[dict]:
    rows = store.symptoms.list(owner=user_id, limit=BASELINE_HISTORY)
    return [r.voice_analysis["markers"] for r in rows
            if r.voice_analysis and isinstance(r.voice_analysis.get("markers"), dict)
            and not r.voice_analysis.get("partial")]


def audio_dir(store: Store) -> Path:
    """Where kept (opted-in) recordings live: beside the store, sealed with the store's key."""
    return store.path.parent / "audio"


def _keep_audio(store: Store, audio: audio_stage.Audio, symptom_id: uuid.UUID) -> str:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, audio.samples, audio_stage.SAMPLE_RATE, format="FLAC")
    sealed = store.seal({"format": "flac", "rate": audio_stage.SAMPLE_RATE,
                         "data": base64.b64encode(buf.getvalue()).decode()}, f"audio:{symptom_id}")
    from edge.files import write_private

    # 0600 in a 0700 folder, and never a half-written recording under the final name.
    return str(write_private(audio_dir(store) / f"{symptom_id}.flac.sealed", sealed))


def load_kept_audio(store: Store, symptom_id: uuid.UUID | str) -> audio_stage.Audio:
    """Read back a kept recording (decrypting it with the store's key)."""
    import soundfile as sf

    path = audio_dir(store) / f"{symptom_id}.flac.sealed"
    if not path.exists():
        raise NotFoundError(f"no kept audio for symptom {symptom_id}")
    doc = store.unseal(path.read_bytes(), f"audio:{symptom_id}")
    samples, rate = sf.read(io.BytesIO(base64.b64decode(doc["data"])), dtype="float32")
    return audio_stage.from_array(samples, rate, "flac")


def analyze_audio(store: Store, audio: audio_stage.Audio, user_id: uuid.UUID,
                  options: AnalyzeOptions | None = None, transcript: stt.Transcript | None = None) -> AnalysisResult:
    """Run every stage on decoded audio and store the result; silence or noise is refused and stores nothing.

    `transcript`, when given, is this audio's transcript already made with the same options (a live stream's last
    partial) and is used instead of transcribing again."""
    options = options or AnalyzeOptions()
    timings: dict[str, float] = {}
    if audio_stage.is_silent(audio):
        raise InputError("the audio is silent: no speech to analyse")
    llm_consent, audio_opt_in = _consents(store, user_id)
    keep = audio_opt_in if options.keep_audio is None else options.keep_audio
    if keep and not audio_opt_in:
        raise ForbiddenError("the patient has not opted in to keeping audio recordings (no audio consent)",
                             hint="record it with `healthsync edge consent grant audio --patient ID`, or run "
                                  "without --keep-audio")

    triage_warm_up()  # builds triage (NLP + second opinion) on another core while Whisper transcribes
    t = time.perf_counter()
    reused = transcript is not None
    if transcript is None:
        transcript = stt.transcribe(audio.samples, options.transcribe, model_dir=options.model_dir)
    timings["transcribe"] = time.perf_counter() - t
    if not transcript.text:
        raise InputError("no speech was recognised in the audio (silence or noise only)",
                         hint="speak closer to the microphone, in a quieter place")

    t = time.perf_counter()
    measured = marker_stage.extract(audio.samples)
    stress = marker_stage.stress_vs_baseline(measured, _baseline(store, user_id), options.min_baseline_sessions)
    timings["markers"] = time.perf_counter() - t

    t = time.perf_counter()
    assessor = choose_assessor(llm_consent, http_client=options.http_client)
    result = assessor.assess(transcript.text, triage(transcript.text, transcript.words()))
    timings["triage"] = time.perf_counter() - t
    versions = model_versions(options, getattr(assessor, "model", None))

    t = time.perf_counter()
    symptom_id = new_id()
    audio_path = _keep_audio(store, audio, symptom_id) if keep else None
    triage_doc = result.to_dict()
    voice_analysis = {"markers": measured.to_dict(), "stress": stress, "partial": options.partial,
                      "transcript_from_stream_partial": reused, "duration_s": round(audio.duration, 3),
                      "speech_s": round(transcript.speech_seconds, 3)}
    alert_id = None
    try:
        with store.transaction():  # the symptom and its alert are stored together or not at all
            store.symptoms.add({
                "id": symptom_id, "user_id": user_id, "description": transcript.text[:MAX_DESCRIPTION],
                "severity": result.severity, "duration_days": result.duration_days,
                "voice_analysis": voice_analysis, "triage": triage_doc, "model_versions": versions,
                "audio_path": audio_path,
            })
            if result.red_flags:
                alert = store.health_events.add({
                    "user_id": user_id, "event_type": "health_alert",
                    "data": {"source": "voice", "symptom_id": str(symptom_id), "urgency": result.urgency,
                             "red_flags": [{"id": f.id, "title": f.title} for f in result.red_flags],
                             "advice": result.advice},
                })
                alert_id = alert.id
    except BaseException:
        if audio_path:
            Path(audio_path).unlink(missing_ok=True)
        raise
    timings["store"] = time.perf_counter() - t
    return AnalysisResult(symptom_id, transcript, measured, stress, triage_doc, alert_id, audio_path, versions,
                          timings, options.partial)


def analyze_file(store: Store, path: str | os.PathLike, user_id: uuid.UUID,
                 options: AnalyzeOptions | None = None) -> AnalysisResult:
    """Decode an audio file and run the pipeline on it."""
    t = time.perf_counter()
    decoded = audio_stage.load_file(path)
    decode_s = time.perf_counter() - t
    result = analyze_audio(store, decoded, user_id, options)
    result.timings = {"decode": decode_s, **result.timings}
    return result
