"""Stage 1, decode: any audio file or PCM stream → 16 kHz mono float32, with clear limits on what is accepted."""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from protocol.errors import InputError, MissingDependencyError

SAMPLE_RATE = 16_000  # what Whisper and the voice markers expect
MIN_SECONDS = 0.3  # shorter than a syllable: nothing to transcribe
MAX_SECONDS = 600.0  # a consultation utterance, not a recording session; refused before decoding
MAX_FILE_BYTES = 200 * 1024 * 1024
# Signals quieter than this (peak, full scale = 1.0) are digital silence, not a quiet voice (−80 dBFS).
SILENCE_PEAK = 1e-4


@dataclass
class Audio:
    """Decoded audio: mono float32 samples at SAMPLE_RATE, plus where it came from."""

    samples: np.ndarray
    source_rate: int
    source_channels: int
    source_format: str

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / SAMPLE_RATE


def _soundfile():
    try:
        import soundfile
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise MissingDependencyError("soundfile", "voice") from None
    return soundfile


def _check_duration(seconds: float, what: str) -> None:
    if seconds > MAX_SECONDS:
        raise InputError(
            f"{what} is {seconds / 60:.1f} min long; the limit is {MAX_SECONDS / 60:.0f} min",
            hint="split the recording into shorter utterances",
        )


def to_mono_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Average channels (frames × channels in) and resample to SAMPLE_RATE with soxr (high quality)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=1, dtype=np.float32)
    if rate != SAMPLE_RATE and len(samples):
        import soxr

        samples = soxr.resample(samples, rate, SAMPLE_RATE).astype(np.float32, copy=False)
    return np.ascontiguousarray(samples)


def _finish(samples: np.ndarray, rate: int, channels: int, fmt: str) -> Audio:
    audio = Audio(to_mono_16k(samples, rate), rate, channels, fmt)
    if audio.duration < MIN_SECONDS:
        raise InputError(f"audio is {audio.duration:.2f} s long; at least {MIN_SECONDS} s of speech is needed")
    if not np.all(np.isfinite(audio.samples)):
        raise InputError("audio contains NaN or infinite samples")
    return audio


def _check_size(path: Path, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path.name} is {size / 2**20:.0f} MiB; the limit is {MAX_FILE_BYTES / 2**20:.0f} MiB")


def load_file(path: str | os.PathLike) -> Audio:
    """Decode WAV/FLAC/OGG (libsndfile) or MP3 and other containers (PyAV); refuse bad or oversized input."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no audio file at {path}")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path.name} is empty (0 bytes)")
    sf = _soundfile()
    try:
        info = sf.info(str(path))
    except sf.LibsndfileError as exc:
        _check_size(path, size)
        return _load_with_av(path, str(exc))
    # The header says how long it is: refuse a 2-hour file without reading its samples.
    if info.samplerate <= 0 or info.frames <= 0:
        raise InputError(f"{path.name} has no audio frames (header: {info.samplerate} Hz, {info.frames} frames)")
    _check_duration(info.frames / info.samplerate, path.name)
    _check_size(path, size)
    try:
        samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise InputError(f"{path.name} is corrupt: {exc}") from None
    if len(samples) == 0:
        raise InputError(f"{path.name} has no audio frames (truncated after the header?)")
    return _finish(samples, rate, info.channels, info.format)


def _load_with_av(path: Path, sndfile_reason: str) -> Audio:
    """Containers libsndfile cannot open (MP4/M4A, WebM, some MP3s) go through PyAV, as faster-whisper does."""
    try:
        import av
    except ImportError:
        raise InputError(f"{path.name}: unsupported audio format ({sndfile_reason})") from None
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise InputError(f"{path.name}: unsupported or corrupt audio (no audio stream in it)")
            stream = container.streams.audio[0]
            if container.duration is not None:
                _check_duration(container.duration / 1_000_000, path.name)
            rate, channels, fmt = stream.rate, stream.channels, container.format.name
    except InputError:
        raise
    except Exception as exc:  # PyAV raises a family of FFmpeg errors; all mean the same to the user
        raise InputError(f"{path.name}: unsupported or corrupt audio ({sndfile_reason}; ffmpeg: {exc})") from None
    from faster_whisper.audio import decode_audio

    try:
        samples = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    except Exception as exc:
        raise InputError(f"{path.name}: could not decode audio ({exc})") from None
    _check_duration(len(samples) / SAMPLE_RATE, path.name)
    audio = _finish(samples, SAMPLE_RATE, channels or 1, fmt)  # decode_audio already resampled to 16 kHz mono
    audio.source_rate = rate or SAMPLE_RATE
    return audio


def load_bytes(data: bytes, name: str = "upload") -> Audio:
    """Decode an uploaded audio file held in memory (WAV/FLAC/OGG)."""
    if not data:
        raise InputError(f"{name} is empty (0 bytes)")
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{name} is {len(data) / 2**20:.0f} MiB; the limit is {MAX_FILE_BYTES / 2**20:.0f} MiB")
    sf = _soundfile()
    try:
        info = sf.info(io.BytesIO(data))
    except sf.LibsndfileError as exc:
        raise InputError(f"{name}: unsupported or corrupt audio ({exc})") from None
    if info.samplerate <= 0 or info.frames <= 0:
        raise InputError(f"{name} has no audio frames")
    _check_duration(info.frames / info.samplerate, name)
    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise InputError(f"{name} is corrupt: {exc}") from None
    return _finish(samples, rate, info.channels, info.format)


def pcm16_to_float(chunk: bytes, channels: int = 1) -> np.ndarray:
    """Little-endian PCM16 bytes (interleaved channels) → frames × channels float32 in [-1, 1)."""
    if len(chunk) % (2 * channels):
        raise InputError(f"PCM16 chunk of {len(chunk)} bytes is not a whole number of {channels}-channel frames")
    return (np.frombuffer(chunk, dtype="<i2").astype(np.float32) / 32768.0).reshape(-1, channels)


def from_array(samples: np.ndarray, rate: int, fmt: str = "pcm") -> Audio:
    """Wrap samples already in memory (frames, or frames × channels) after the same checks as a file."""
    samples = np.asarray(samples)
    if rate <= 0 or rate > 384_000:
        raise InputError(f"sample rate {rate} Hz is not supported")
    _check_duration(len(samples) / rate, "audio")
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    return _finish(samples, rate, channels, fmt)


def is_silent(audio: Audio) -> bool:
    """True when the signal is digital silence (no voice could be in it)."""
    return float(np.max(np.abs(audio.samples), initial=0.0)) < SILENCE_PEAK
