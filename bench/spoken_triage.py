"""The triage test set spoken: espeak-ng renders the utterances in several voices and speeds, every fifth with added
noise, and each clip goes through the whole pipeline (decode → Whisper → markers → triage → stored row, the code
behind `healthsync edge voice analyze`). Prints word error rate, red-flag recall, false alarms and urgency agreement
end to end, and the recogniser's speed, for each Whisper model asked for.

    .venv/bin/python bench/spoken_triage.py                       # 80 clips, bundled tiny.en
    .venv/bin/python bench/spoken_triage.py --models tiny base    # tiny.en against the bundled Whisper base
    .venv/bin/python bench/spoken_triage.py --n 317               # every utterance

Needs espeak-ng (`apt-get install -y espeak-ng`).
"""
from __future__ import annotations

import argparse
import math
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from models.triage_sets import load_cases  # noqa: E402

VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-us+f3", "en-gb-x-rp", "en-029")
SPEEDS = (135, 160, 185)  # words per minute
NOISE_EVERY = 5  # every fifth clip gets noise
NOISE_SNR_DB = 10.0


def select(cases: list[dict], n: int) -> list[dict]:
    """Every k-th case, so the subset keeps the set's mix of red flags, forms and halves."""
    step = max(1, math.ceil(len(cases) / n))
    return cases[::step][:n]


def render(text: str, index: int, out: Path) -> dict:
    """Speak `text` with the index-th voice/speed (and noise on every fifth) into a WAV; what was used."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed: apt-get install -y espeak-ng")
    voice, speed = VOICES[index % len(VOICES)], SPEEDS[(index // len(VOICES)) % len(SPEEDS)]
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(out), text], check=True,
                   capture_output=True)
    noisy = index % NOISE_EVERY == NOISE_EVERY - 1
    if noisy:
        x, rate = sf.read(out, dtype="float32")
        rng = np.random.default_rng(index)
        power = float(np.mean(x ** 2)) or 1e-6
        noise = rng.normal(0, math.sqrt(power / 10 ** (NOISE_SNR_DB / 10)), len(x)).astype(np.float32)
        sf.write(out, np.clip(x + noise, -1, 1), rate, subtype="PCM_16")
    return {"voice": voice, "wpm": speed, "noise_snr_db": NOISE_SNR_DB if noisy else None}


def run(cases: list[dict], model: str | None, clips: Path) -> dict:
    """Every clip through the pipeline with one Whisper model; the end-to-end figures."""
    from edge.keys import KeySource
    from edge.store import Store
    from edge.voice import pipeline
    from edge.voice.textnorm import wer
    from protocol.errors import InputError

    refs, hyps, rows = [], [], []
    transcribe_s = audio_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "spoken.db", KeySource(raw_key=secrets.token_bytes(32)), create=True)
        options = pipeline.AnalyzeOptions(model_dir=model)
        pipeline.analyze_file(store, clips / f"{cases[0]['id']}.wav", uuid.uuid4(), options)  # warm-up
        for c in cases:
            t = time.perf_counter()
            try:
                r = pipeline.analyze_file(store, clips / f"{c['id']}.wav", uuid.uuid4(), options)
            except InputError as exc:  # nothing heard: the app tells the patient to speak again, stores nothing
                hyps.append("")
                refs.append(c["text"])
                transcribe_s += time.perf_counter() - t
                audio_s += sf.info(clips / f"{c['id']}.wav").duration
                rows.append((c, {"red_flags": [], "urgency": None, "confidence": {"confirm": [exc.message]}}))
                continue
            refs.append(c["text"])
            hyps.append(r.transcript.text)
            transcribe_s += r.timings["transcribe"]
            audio_s += r.transcript.duration
            rows.append((c, r.triage))
        store.close()
    flagged = [(c, t) for c, t in rows if c["red_flag"]]
    calm = [(c, t) for c, t in rows if not c["red_flag"]]
    return {
        "model": model or "tiny.en", "clips": len(rows), "wer": wer(refs, hyps),
        "recall": sum(bool(t["red_flags"]) for _, t in flagged) / max(1, len(flagged)),
        "false_alarms": sum(bool(t["red_flags"]) for _, t in calm) / max(1, len(calm)),
        "urgency": sum(t["urgency"] == c["urgency"] for c, t in rows) / len(rows),
        "asked_to_confirm": sum(bool((t["confidence"] or {}).get("confirm")) for _, t in rows) / len(rows),
        # A missed red flag the app did not even ask about: the failure that matters.
        "silent_misses": sum(not t["red_flags"] and not (t["confidence"] or {}).get("confirm") for _, t in flagged),
        "missed_count": sum(not t["red_flags"] for _, t in flagged), "red_flag_clips": len(flagged),
        "transcribe_s_per_clip": transcribe_s / len(rows), "rtf": transcribe_s / audio_s,
        # Only dev-half texts are printed: the hold-out stays unseen by whoever tunes the rules.
        "missed": [(c["id"], c["text"], h) for (c, t), h in zip(rows, hyps, strict=True)
                   if c["red_flag"] and not t["red_flags"] and c["split"] == "dev"],
    }


def main() -> None:
    """Render the clips once, run each model, print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=80, help="how many utterances to speak (of 317)")
    parser.add_argument("--models", nargs="+", default=["tiny"], help="tiny (bundled tiny.en), base, or a directory")
    parser.add_argument("--show-missed", action="store_true", help="list missed red flags (dev-half texts only)")
    args = parser.parse_args()
    cases = select(load_cases(), args.n)
    with tempfile.TemporaryDirectory() as tmp:
        clips = Path(tmp)
        t = time.perf_counter()
        for i, c in enumerate(cases):
            render(c["text"], i, clips / f"{c['id']}.wav")
        print(f"rendered {len(cases)} clips with espeak-ng in {time.perf_counter() - t:.1f} s: voices {VOICES}, "
              f"{SPEEDS} wpm, every {NOISE_EVERY}th with white noise at {NOISE_SNR_DB:.0f} dB SNR; "
              f"{sum(c['red_flag'] for c in cases)} red-flag utterances · {os.cpu_count()} CPUs, load "
              f"{os.getloadavg()[0]:.1f}")
        for name in args.models:
            s = run(cases, None if name == "tiny" else name, clips)
            print(f"{s['model']:10s} WER {s['wer']:.1%} · red-flag recall {s['recall']:.1%} · false alarms "
                  f"{s['false_alarms']:.1%} · urgency agreement {s['urgency']:.1%} · asked to confirm "
                  f"{s['asked_to_confirm']:.0%} · red flags missed {s['missed_count']}/{s['red_flag_clips']}, "
                  f"not even asked about {s['silent_misses']} · transcribe {s['transcribe_s_per_clip']:.2f} s/clip "
                  f"(RTF {s['rtf']:.3f})")
            if args.show_missed:
                for cid, ref, hyp in s["missed"]:
                    print(f"    missed {cid}: said {ref!r} → heard {hyp!r}")


if __name__ == "__main__":
    main()
