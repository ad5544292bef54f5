"""Voice pipeline benchmark: whole-pipeline real-time factor vs a bare WhisperModel.transcribe on the same audio
(same decoding options, word timestamps included), the triage's own time per utterance,
streaming latency (end of speech → final result) over the WebSocket, and WER on the committed fixtures.

    .venv/bin/python bench/bench_voice.py            # 3 rounds
    .venv/bin/python bench/bench_voice.py --quick    # 1 round
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(tempfile.gettempdir(), "healthsync-numba-cache"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from edge.keys import KeySource  # noqa: E402
from edge.store import Store  # noqa: E402
from edge.voice import audio, pipeline  # noqa: E402
from edge.voice import transcribe as stt  # noqa: E402
from edge.voice.textnorm import wer  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "voice"
UTTERANCES = json.loads((DATA / "utterances.json").read_text())
TARGETS = {"overhead": 1.15, "rtf": 0.12, "latency_s": 1.0, "wer": 0.15}


def bare_transcribe(model, samples: np.ndarray) -> str:
    """The reference: faster-whisper alone, with the same decoding options the pipeline uses."""
    o = stt.TranscribeOptions()
    segments, _ = model.transcribe(samples, beam_size=o.beam_size, language=o.language,
                                   initial_prompt=o.initial_prompt, vad_filter=o.vad_filter,
                                   vad_parameters={"min_silence_duration_ms": o.min_silence_duration_ms},
                                   condition_on_previous_text=o.condition_on_previous_text,
                                   word_timestamps=o.word_timestamps)
    return " ".join(s.text.strip() for s in segments)


def bench_rtf(store: Store, rounds: int) -> dict:
    """Alternate bare transcription and the full pipeline (decode → … → stored row) on every fixture."""
    model = stt.load_model()
    user = uuid.uuid4()
    bare = full = speech = 0.0
    triage_s: list[float] = []
    for _ in range(rounds):
        for i, u in enumerate(UTTERANCES):
            path = DATA / u["file"]
            # The bare side gets its audio decoded for free; the pipeline pays for decoding the file.
            samples = audio.load_file(path).samples
            for side in ("bare", "full") if i % 2 else ("full", "bare"):  # alternate who goes first
                t = time.perf_counter()
                if side == "bare":
                    bare_transcribe(model, samples)
                    bare += time.perf_counter() - t
                else:
                    result = pipeline.analyze_file(store, path, user)
                    full += time.perf_counter() - t
                    triage_s.append(result.timings["triage"])
            speech += len(samples) / audio.SAMPLE_RATE
    return {"audio_s": speech, "bare_s": bare, "pipeline_s": full, "bare_rtf": bare / speech,
            "rtf": full / speech, "overhead": full / bare, "triage_ms": 1000 * statistics.mean(triage_s),
            "triage_max_ms": 1000 * max(triage_s)}


def bench_rtf_long(store: Store, rounds: int, tmp: Path) -> dict:
    """The same comparison on one long consultation: all fixtures joined with 0.4 s pauses (about a minute).

    Whisper pads every call to a 30 s window, so on 3–5 s clips a fixed encoder cost dominates the RTF; a longer
    recording shows the per-second cost."""
    model = stt.load_model()
    gap = np.zeros(int(0.4 * audio.SAMPLE_RATE), np.float32)
    parts = []
    for u in UTTERANCES:
        parts += [audio.load_file(DATA / u["file"]).samples, gap]
    joined = np.concatenate(parts)
    path = tmp / "consultation.wav"
    sf.write(path, joined, audio.SAMPLE_RATE, subtype="PCM_16")
    samples = audio.load_file(path).samples
    user = uuid.uuid4()
    bare = full = 0.0
    for i in range(rounds):
        for side in ("bare", "full") if i % 2 else ("full", "bare"):
            t = time.perf_counter()
            if side == "bare":
                bare_transcribe(model, samples)
                bare += time.perf_counter() - t
            else:
                pipeline.analyze_file(store, path, user)
                full += time.perf_counter() - t
    seconds = rounds * len(samples) / audio.SAMPLE_RATE
    return {"audio_s": len(samples) / audio.SAMPLE_RATE, "bare_rtf": bare / seconds, "rtf": full / seconds,
            "overhead": full / bare}


def bench_stream(store: Store, rounds: int, partials: bool = True) -> dict:
    """Stream a 5-second utterance in real time (100 ms chunks) and time voice_stream_end → voice_analysis_result.

    partials=False turns partial transcripts off, so the final result always re-transcribes the whole utterance
    (the path taken when speech continued after the last partial)."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from edge.voice import stream, ws

    stream.PARTIAL_EVERY_S = 1.0 if partials else float("inf")

    x, rate = sf.read(DATA / "u14_cough_stream.wav", dtype="int16")
    pcm = x.astype("<i2").tobytes()
    chunk = rate // 10 * 2
    app = FastAPI()
    app.include_router(ws.router)
    app.dependency_overrides[ws.voice_store] = lambda: store
    app.dependency_overrides[ws.voice_user] = lambda: uuid.UUID(int=1)
    latencies, counts = [], []
    with TestClient(app) as client:
        for _ in range(rounds):
            with client.websocket_connect(ws.PATH) as conn:
                conn.send_json({"event": "voice_stream_start", "data": {"sample_rate": rate, "channels": 1}})
                conn.receive_json()
                start = time.perf_counter()
                for i, off in enumerate(range(0, len(pcm), chunk)):
                    conn.send_json({"event": "voice_chunk",
                                    "data": {"audio": base64.b64encode(pcm[off:off + chunk]).decode()}})
                    # Real time: the next 100 ms chunk exists only 100 ms later.
                    time.sleep(max(0.0, start + (i + 1) * 0.1 - time.perf_counter()))
                t = time.perf_counter()
                conn.send_json({"event": "voice_stream_end"})
                n = 0
                while (msg := conn.receive_json())["event"] != "voice_analysis_result":
                    n += msg["event"] == "voice_partial_transcript"
                latencies.append(time.perf_counter() - t)
                counts.append(n)
    return {"utterance_s": len(x) / rate, "latency_median_s": statistics.median(latencies),
            "latency_max_s": max(latencies), "partials": counts}


def bench_wer() -> dict:
    """Corpus WER on the fixtures, with and without the clinical prompt."""
    refs = [u["text"] for u in UTTERANCES]
    samples = [audio.load_file(DATA / u["file"]).samples for u in UTTERANCES]
    with_prompt = [stt.transcribe(s).text for s in samples]
    without = [stt.transcribe(s, stt.TranscribeOptions(initial_prompt=None)).text for s in samples]
    return {"wer": wer(refs, with_prompt), "wer_no_prompt": wer(refs, without), "words": sum(len(r.split())
                                                                                            for r in refs)}


def main() -> None:
    """Run the benchmarks and print figures, ratios and pass/fail against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round instead of three")
    args = parser.parse_args()
    rounds = 1 if args.quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db", KeySource(raw_key=secrets.token_bytes(32)), create=True)
        # Warm-up outside the timings: model load, Praat/scipy imports, first-call allocations.
        pipeline.analyze_file(store, DATA / UTTERANCES[0]["file"], uuid.uuid4())
        bare_transcribe(stt.load_model(), audio.load_file(DATA / UTTERANCES[0]["file"]).samples)
        r = bench_rtf(store, rounds)
        long = bench_rtf_long(store, rounds, Path(tmp))
        s = bench_stream(store, rounds)
        s_full = bench_stream(store, rounds, partials=False)
        w = bench_wer()
        store.close()

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    load = os.getloadavg()[0]
    print(f"voice benchmark · {os.cpu_count()} CPUs (load average {load:.1f} at the end; other processes slow the "
          f"absolute figures, not the ratio) · model {stt.model_name()} int8 · rounds {rounds}")
    print(f"audio: {len(UTTERANCES)} fixtures, {r['audio_s']:.1f} s of speech in total")
    print(f"per utterance: bare transcribe: {r['bare_s']:.2f} s  RTF {r['bare_rtf']:.3f}")
    print(f"per utterance: full pipeline : {r['pipeline_s']:.2f} s  RTF {r['rtf']:.3f}  "
          f"[target ≤ {TARGETS['rtf']}] {verdict(r['rtf'] <= TARGETS['rtf'])}")
    print(f"per utterance: triage (spaCy + medspaCy + rules, offline assessor): mean {r['triage_ms']:.1f} ms, "
          f"max {r['triage_max_ms']:.1f} ms")
    print(f"per utterance: overhead      : {r['overhead']:.3f}×  "
          f"[target ≤ {TARGETS['overhead']}] {verdict(r['overhead'] <= TARGETS['overhead'])}")
    print(f"one {long['audio_s']:.0f} s consultation: bare RTF {long['bare_rtf']:.3f}, pipeline RTF "
          f"{long['rtf']:.3f} [target ≤ {TARGETS['rtf']}] {verdict(long['rtf'] <= TARGETS['rtf'])}, overhead "
          f"{long['overhead']:.3f}× {verdict(long['overhead'] <= TARGETS['overhead'])}")
    print(f"streaming {s['utterance_s']:.1f} s utterance: end of speech → result median {s['latency_median_s']:.3f} s,"
          f" max {s['latency_max_s']:.3f} s  (partials per stream {s['partials']})  "
          f"[target ≤ {TARGETS['latency_s']} s] {verdict(s['latency_max_s'] <= TARGETS['latency_s'])}")
    print(f"  same, partials off (final always re-transcribes): median {s_full['latency_median_s']:.3f} s, max "
          f"{s_full['latency_max_s']:.3f} s  {verdict(s_full['latency_max_s'] <= TARGETS['latency_s'])}")
    print(f"WER on fixtures ({w['words']} words): {w['wer']:.1%} with clinical prompt, {w['wer_no_prompt']:.1%} "
          f"without  [target ≤ {TARGETS['wer']:.0%}] {verdict(w['wer'] <= TARGETS['wer'])}")


if __name__ == "__main__":
    main()
