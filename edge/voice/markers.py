"""Stage 3, voice markers: pitch, perturbation, noise, energy and timing measures (Praat via parselmouth, librosa),
and stress as z-scores against the same person's own earlier sessions.

Energy and pauses are framed with numpy rather than librosa: librosa's numba JIT costs ~13 s on first use and
~1.5 s per process for what is an RMS over 25 ms frames."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from edge.voice.audio import SAMPLE_RATE
from protocol.errors import MissingDependencyError

MARKERS_VERSION = "markers-v1 (praat-parselmouth)"
PITCH_FLOOR, PITCH_CEILING = 75.0, 500.0  # Praat's defaults for adult voices
FRAME_S, HOP_S = 0.025, 0.010
# Pitch every 20 ms instead of Praat's 10 ms default: on the fixtures F0 mean/SD, jitter and shimmer agree to three
# significant figures, and the pitch pass — most of the markers' cost — takes half the time.
PITCH_STEP_S = 0.02
MIN_BASELINE_SESSIONS = 3
# Markers that move with acute arousal/stress in the literature (higher F0 and F0 variability, louder, faster),
# each with the sign it contributes to the stress index. Jitter/shimmer/HNR are reported, not scored: they mostly
# reflect voice quality and recording conditions, not stress.
STRESS_MARKERS = {"f0_mean_hz": 1.0, "f0_sd_hz": 1.0, "rms_db": 1.0, "speaking_rate": 1.0}
CAVEATS = [
    "Voice markers screen, they do not diagnose: a cold, the microphone, the room and reading aloud all move them.",
    "Stress is relative to this person's own earlier recordings, never to population norms.",
    "Jitter, shimmer and HNR are validated on sustained vowels; on running speech they are indicative only.",
]


@dataclass
class VoiceMarkers:
    """Acoustic measures of one utterance (None where the audio gave no voiced speech to measure)."""

    duration_s: float
    f0_mean_hz: float | None
    f0_sd_hz: float | None
    jitter_local: float | None  # fraction (0.01 = 1 %)
    shimmer_local: float | None  # fraction
    hnr_db: float | None
    rms_db: float  # mean RMS energy, dB relative to full scale
    voiced_fraction: float
    speaking_rate: float | None  # syllable nuclei per second of total time (de Jong & Wempe 2009)
    articulation_rate: float | None  # syllable nuclei per second of sounding time
    syllables: int
    pause_ratio: float  # share of the time between first and last sound that is silent pauses ≥ 0.25 s

    def to_dict(self) -> dict:
        """Plain rounded values for storage and JSON."""
        return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _parselmouth():
    try:
        import parselmouth
        from parselmouth.praat import call
    except ImportError:
        raise MissingDependencyError("praat-parselmouth", "voice") from None
    return parselmouth, call


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def extract(samples: np.ndarray, rate: int = SAMPLE_RATE) -> VoiceMarkers:
    """Measure the voice markers of 16 kHz mono float32 samples."""
    parselmouth, call = _parselmouth()

    sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=rate)
    pitch = sound.to_pitch_ac(time_step=PITCH_STEP_S, pitch_floor=PITCH_FLOOR, pitch_ceiling=PITCH_CEILING)
    f0 = pitch.selected_array["frequency"]
    voiced = f0 > 0
    f0_mean = f0_sd = jitter = shimmer = hnr = None
    if voiced.sum() >= 3:
        f0_mean, f0_sd = float(f0[voiced].mean()), float(f0[voiced].std())
        points = call([sound, pitch], "To PointProcess (cc)")
        # Praat's standard settings: period 0.1–20 ms, max period factor 1.3, max amplitude factor 1.6.
        jitter = _finite(call(points, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3))
        shimmer = _finite(call([sound, points], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6))
        # HNR from the autocorrelation peak r of each voiced frame: 10·log10(r / (1 − r)) (Boersma 1993), the
        # quantity Praat's Harmonicity reports, read from the pitch analysis we already ran instead of a second pass.
        r = np.clip(pitch.selected_array["strength"][voiced], 1e-6, 1 - 1e-6)
        hnr = float(np.mean(10 * np.log10(r / (1 - r))))

    rms = frame_rms(samples, rate)
    rms_db = float(20 * np.log10(max(float(np.sqrt(np.mean(rms**2))), 1e-10)))

    syllables, sounding = _syllable_nuclei(sound, pitch, call)
    duration = len(samples) / rate
    pause_ratio = _pause_ratio(rms, HOP_S)
    return VoiceMarkers(
        duration_s=duration,
        f0_mean_hz=f0_mean,
        f0_sd_hz=f0_sd,
        jitter_local=jitter,
        shimmer_local=shimmer,
        hnr_db=hnr,
        rms_db=rms_db,
        voiced_fraction=float(voiced.mean()) if len(voiced) else 0.0,
        speaking_rate=syllables / duration if syllables else None,
        articulation_rate=syllables / sounding if syllables and sounding else None,
        syllables=syllables,
        pause_ratio=pause_ratio,
    )


def _syllable_nuclei(sound, pitch, call) -> tuple[int, float]:
    """Count syllable nuclei as de Jong & Wempe (2009): intensity peaks ≥ 2 dB above the dip before them, above a
    silence threshold of 25 dB below the 99th-percentile intensity, and voiced. Returns (count, sounding seconds)."""
    from scipy.signal import find_peaks

    intensity = sound.to_intensity(minimum_pitch=50, time_step=0.01)
    values = intensity.values[0]
    times = intensity.xs()
    if len(values) < 3:
        return 0, 0.0
    threshold = np.percentile(values, 99) - 25.0
    sounding = float((values > threshold).sum() * 0.01)
    peaks, _ = find_peaks(values, height=threshold, prominence=2.0)
    count = 0
    for i in peaks:
        f = pitch.get_value_at_time(times[i])
        if f is not None and math.isfinite(f) and f > 0:
            count += 1
    return count, sounding


def frame_rms(samples: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
    """RMS of 25 ms frames every 10 ms (the usual speech framing)."""
    frame, hop = int(FRAME_S * rate), int(HOP_S * rate)
    if len(samples) < frame:
        samples = np.pad(samples, (0, frame - len(samples)))
    # Running sum of squares: each frame's energy is a difference of two sums, O(n) whatever the frame length.
    power = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    starts = np.arange(0, len(samples) - frame + 1, hop)
    return np.sqrt(np.maximum(power[starts + frame] - power[starts], 0.0) / frame)


def _pause_ratio(rms: np.ndarray, hop_s: float) -> float:
    """Silent pauses (≥ 0.25 s, 30 dB below the loudest frame) as a share of the span from first to last sound."""
    db = 20 * np.log10(np.maximum(rms, 1e-10))
    sounding = np.flatnonzero(db > db.max() - 30.0)
    if len(sounding) < 2:
        return 0.0
    span = sounding[-1] - sounding[0] + 1
    gaps = np.diff(sounding) - 1
    paused = int(gaps[gaps * hop_s >= 0.25].sum())
    return float(paused / span)


def stress_vs_baseline(current: VoiceMarkers | dict, history: list[dict],
                       min_sessions: int = MIN_BASELINE_SESSIONS) -> dict:
    """Z-scores of the stress-related markers against the person's own earlier sessions, and their signed mean.

    `history` holds earlier `markers` dicts (newest first). With fewer than `min_sessions` usable sessions the
    answer is "insufficient baseline": no score is invented from population norms."""
    cur = current.to_dict() if isinstance(current, VoiceMarkers) else current
    usable = [h for h in history if all(h.get(k) is not None for k in STRESS_MARKERS)]
    out: dict = {"baseline_sessions": len(usable), "min_sessions": min_sessions, "caveats": CAVEATS}
    if len(usable) < min_sessions:
        out |= {"status": "insufficient_baseline", "stress_index": None, "z": {},
                "message": f"{len(usable)} earlier voice session(s); {min_sessions} are needed for a personal baseline"}
        return out
    z: dict[str, float] = {}
    for key in STRESS_MARKERS:
        if cur.get(key) is None:
            continue
        values = np.array([h[key] for h in usable], dtype=float)
        sd = float(values.std(ddof=1))
        # A floor on the spread keeps a near-constant history from turning tiny changes into huge z-scores.
        sd = max(sd, 0.05 * abs(float(values.mean())), 1e-6)
        z[key] = round((float(cur[key]) - float(values.mean())) / sd, 3)
    index = float(np.mean([STRESS_MARKERS[k] * v for k, v in z.items()])) if z else None
    level = None if index is None else ("elevated" if index >= 1.5 else "typical" if index > -1.5 else "low")
    out |= {"status": "ok", "z": z, "stress_index": None if index is None else round(index, 3), "level": level}
    return out
