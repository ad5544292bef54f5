"""A live voice session, free of any transport: PCM16 chunks in (any rate, any channels), partial transcripts
while the person speaks, the full analysis at the end — or of what arrived, when the stream breaks off."""
from __future__ import annotations

import base64
import binascii
import threading
import uuid
from dataclasses import dataclass

import numpy as np

from edge.store import Store
from edge.voice import audio as audio_stage
from edge.voice import transcribe as stt
from edge.voice.pipeline import AnalysisResult, AnalyzeOptions, analyze_audio
from edge.voice.triage import warm_up as triage_warm_up
from protocol.errors import InputError

PARTIAL_EVERY_S = 1.0  # a partial transcript for each new second of audio
MAX_CHANNELS = 8


@dataclass
class StreamFormat:
    """What the client said it will send."""

    sample_rate: int = audio_stage.SAMPLE_RATE
    channels: int = 1
    encoding: str = "pcm_s16le"

    @classmethod
    def from_message(cls, data: dict) -> StreamFormat:
        """Parse and check the `voice_stream_start` payload."""
        try:
            fmt = cls(int(data.get("sample_rate", audio_stage.SAMPLE_RATE)), int(data.get("channels", 1)),
                      str(data.get("encoding", "pcm_s16le")))
        except (TypeError, ValueError):
            raise InputError("sample_rate and channels must be integers") from None
        if fmt.encoding != "pcm_s16le":
            raise InputError(f"encoding {fmt.encoding!r} is not supported: send pcm_s16le (PCM16 little-endian)")
        if not 8_000 <= fmt.sample_rate <= 192_000:
            raise InputError(f"sample_rate {fmt.sample_rate} Hz is outside 8000–192000 Hz")
        if not 1 <= fmt.channels <= MAX_CHANNELS:
            raise InputError(f"channels {fmt.channels} is outside 1–{MAX_CHANNELS}")
        return fmt


class VoiceStream:
    """Buffers one utterance's audio and turns it into partial transcripts and a final stored analysis."""

    def __init__(self, store: Store, user_id: uuid.UUID, fmt: StreamFormat, options: AnalyzeOptions | None = None):
        self.store = store
        self.user_id = user_id
        self.fmt = fmt
        self.options = options or AnalyzeOptions()
        self._chunks: list[np.ndarray] = []
        self._frames = 0
        self._partial_at = 0  # frames the last partial transcript was started on
        self._last_partial: tuple[int, stt.Transcript] | None = None  # (frames covered, its transcript)
        self._lock = threading.Lock()
        triage_warm_up()  # triage (NLP + second opinion) is ready by the end of the utterance

    @property
    def seconds(self) -> float:
        """Audio received so far, in seconds."""
        return self._frames / self.fmt.sample_rate

    def add_chunk(self, chunk: bytes | str) -> None:
        """Append PCM16 bytes (or their base64 text); a bad chunk is refused whole and the buffer kept intact."""
        self.add_frames(self.decode_chunk(chunk))

    def decode_chunk(self, chunk: bytes | str) -> np.ndarray:
        """PCM16 bytes (or their base64 text) as float frames, without touching the buffer (safe on any thread)."""
        if not isinstance(chunk, (bytes, str)):
            raise InputError("voice_chunk audio must be base64 text or a binary frame of PCM16")
        if isinstance(chunk, str):
            try:
                chunk = base64.b64decode(chunk, validate=True)
            except (binascii.Error, ValueError):
                raise InputError("voice_chunk audio is not valid base64") from None
        return audio_stage.pcm16_to_float(chunk, self.fmt.channels)

    def add_frames(self, frames: np.ndarray) -> None:
        """Append decoded frames; refused whole past the stream's length limit."""
        if (self._frames + len(frames)) / self.fmt.sample_rate > audio_stage.MAX_SECONDS:
            raise InputError(f"the stream passed the {audio_stage.MAX_SECONDS / 60:.0f} min limit",
                             hint="end the utterance and start a new stream")
        with self._lock:
            self._chunks.append(frames)
            self._frames += len(frames)

    def samples(self) -> np.ndarray:
        """Everything received so far as 16 kHz mono float32."""
        with self._lock:
            raw = np.concatenate(self._chunks) if self._chunks else np.zeros((0, self.fmt.channels), np.float32)
        return audio_stage.to_mono_16k(raw, self.fmt.sample_rate)

    def partial_due(self) -> bool:
        """True when a new second of audio arrived since the last partial transcript."""
        return (self._frames - self._partial_at) / self.fmt.sample_rate >= PARTIAL_EVERY_S

    def partial_transcript(self) -> str:
        """Transcribe what has arrived so far (blocking: run it off the event loop)."""
        with self._lock:
            covered = self._partial_at = self._frames
        samples = self.samples()
        if len(samples) < audio_stage.MIN_SECONDS * audio_stage.SAMPLE_RATE:
            return ""
        transcript = stt.transcribe(samples, self.options.transcribe, model_dir=self.options.model_dir)
        self._last_partial = (covered, transcript)
        return transcript.text

    def finish(self, *, partial: bool = False) -> AnalysisResult:
        """Analyse and store the whole utterance (partial=True when the stream broke off before its end)."""
        options = AnalyzeOptions(**{**self.options.__dict__, "partial": partial})
        decoded = audio_stage.from_array(self.samples(), audio_stage.SAMPLE_RATE, "pcm_s16le stream")
        return analyze_audio(self.store, decoded, self.user_id, options, self._reusable_transcript(decoded))

    def _reusable_transcript(self, decoded: audio_stage.Audio) -> stt.Transcript | None:
        """The last partial transcript, when everything that arrived after it is silence: transcribing the whole
        utterance again would give the same words, and it is the slowest step between end of speech and result."""
        if self._last_partial is None or not self._last_partial[1].text:
            return None
        covered, transcript = self._last_partial
        tail_start = int(covered / self.fmt.sample_rate * audio_stage.SAMPLE_RATE)
        tail = decoded.samples[tail_start:]
        if stt.has_speech(tail):
            return None
        transcript.duration = decoded.duration
        return transcript
