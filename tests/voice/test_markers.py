"""Voice markers on signals with known properties, and stress against a personal baseline.

References: Praat's voice report (Boersma & Weenink) and Teixeira et al. 2013 (Procedia Technology 9:1112-1122)
give pathology thresholds jitter (local) 1.04 %, shimmer (local) 3.81 %; HNR is 10·log10(r/(1−r)) (Boersma 1993);
syllable nuclei after de Jong & Wempe 2009 (Behavior Research Methods 41:385-390)."""
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import lfilter

from edge.voice import markers

DATA = Path(__file__).parents[1] / "data" / "voice"
RATE = 16_000
JITTER_NORMAL_MAX = 0.0104
SHIMMER_NORMAL_MAX = 0.0381


def vowel(f0=120.0, seconds=1.0, period_jitter=0.0, amp_jitter=0.0, noise=0.0, seed=0):
    """A synthetic sustained /a/: a glottal pulse train (optionally perturbed) through two formant resonators."""
    rng = np.random.default_rng(seed)
    x = np.zeros(int(seconds * RATE))
    t = 0.0
    while t < seconds - 0.02:
        x[int(t * RATE)] = 1.0 + amp_jitter * rng.standard_normal()
        t += (1.0 / f0) * (1.0 + period_jitter * rng.standard_normal())
    for formant, bw in ((700, 110), (1220, 120)):  # F1/F2 of /a/ (Peterson & Barney 1952)
        r = np.exp(-np.pi * bw / RATE)
        x = lfilter([1.0], [1.0, -2 * r * np.cos(2 * np.pi * formant / RATE), r * r], x)
    x = x / np.abs(x).max() * 0.5
    x += noise * rng.standard_normal(len(x))
    return x.astype(np.float32)


def test_f0_of_a_steady_vowel():
    m = markers.extract(vowel(f0=120))
    assert m.f0_mean_hz == pytest.approx(120, abs=1.0)
    assert m.f0_sd_hz < 2.0
    assert m.voiced_fraction > 0.8


def test_clean_vowel_has_normal_perturbation_and_high_hnr():
    # 125 Hz = a 128-sample period at 16 kHz: no rounding jitter. The Praat manual (Harmonicity) notes a healthy
    # speaker's sustained [a] reaches about 20 dB.
    m = markers.extract(vowel(f0=125))
    assert m.jitter_local < JITTER_NORMAL_MAX
    assert m.shimmer_local < SHIMMER_NORMAL_MAX
    assert m.hnr_db > 20


def test_perturbed_vowel_exceeds_pathology_thresholds():
    m = markers.extract(vowel(f0=150, period_jitter=0.03, amp_jitter=0.15, noise=0.05))
    assert m.jitter_local > JITTER_NORMAL_MAX
    assert m.shimmer_local > SHIMMER_NORMAL_MAX
    assert m.hnr_db < markers.extract(vowel(f0=125)).hnr_db - 5


def test_pause_ratio_counts_silent_gaps():
    v = vowel(seconds=1.0)
    gap = np.zeros(RATE // 2, np.float32)  # 0.5 s pause between two 1 s stretches
    m = markers.extract(np.concatenate([v, gap, v]))
    assert m.pause_ratio == pytest.approx(0.5 / 2.5, abs=0.03)
    assert markers.extract(v).pause_ratio == 0.0


def test_silence_has_no_pitch_measures():
    m = markers.extract(np.zeros(RATE, np.float32))
    assert m.f0_mean_hz is None and m.jitter_local is None and m.hnr_db is None
    assert m.speaking_rate is None and m.syllables == 0


# Syllables counted by hand from the reference texts.
@pytest.mark.parametrize("name, syllables", [
    ("u01_headache_fever.wav", 13),  # I have had a head-ache and a fe-ver for three days
    ("u14_cough_stream.wav", 16),  # I have had a bad cough and a fe-ver for five days and I feel tired
    ("u05_suicidal.wav", 10),  # I have been hav-ing thoughts of su-i-cide
    ("u09_dizzy_nausea.wav", 11),  # I feel diz-zy and nau-seous when I stand up
])
def test_syllable_nuclei_on_speech(name, syllables):
    samples, rate = sf.read(DATA / name, dtype="float32")
    m = markers.extract(samples, rate)
    assert abs(m.syllables - syllables) <= 2
    assert m.speaking_rate == pytest.approx(m.syllables / m.duration_s)


def test_fixture_list_is_consistent():
    items = json.loads((DATA / "utterances.json").read_text())
    assert len(items) >= 12
    assert all((DATA / i["file"]).exists() for i in items)


def history(f0s, sds=(10, 11, 12), rms=(-20, -21, -19), rates=(4.0, 4.2, 3.8)):
    return [{"f0_mean_hz": f, "f0_sd_hz": s, "rms_db": r, "speaking_rate": v}
            for f, s, r, v in zip(f0s, sds, rms, rates, strict=True)]


def test_stress_needs_a_baseline():
    out = markers.stress_vs_baseline({"f0_mean_hz": 130}, history((100, 110, 120))[:2])
    assert out["status"] == "insufficient_baseline"
    assert out["stress_index"] is None
    assert out["caveats"]


def test_stress_z_scores_against_own_history():
    # history f0 100/110/120: mean 110, sample sd 10 → 130 Hz is z = +2.0; sd 10/11/12: mean 11, sd 1 → 13 is +2;
    # rms −20/−21/−19: mean −20, sd 1 → −20 is 0; rate 4.0/4.2/3.8: mean 4.0, sd 0.2 (floored to 5 % = 0.2) → 4.0 is 0.
    current = {"f0_mean_hz": 130, "f0_sd_hz": 13, "rms_db": -20, "speaking_rate": 4.0}
    out = markers.stress_vs_baseline(current, history((100, 110, 120)))
    assert out["status"] == "ok"
    assert out["z"] == {"f0_mean_hz": pytest.approx(2.0), "f0_sd_hz": pytest.approx(2.0),
                        "rms_db": pytest.approx(0.0), "speaking_rate": pytest.approx(0.0)}
    assert out["stress_index"] == pytest.approx(1.0)
    assert out["level"] == "typical"
