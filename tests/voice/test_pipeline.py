"""The whole pipeline on the committed espeak-ng utterances with the real tiny.en model: WER, red flags on the
transcripts, what is stored (symptom + alert + outbox), consent for audio and LLM, and refused input."""
import json
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from edge.voice import audio, llm, pipeline
from edge.voice.textnorm import wer
from protocol.errors import ForbiddenError, InputError

pytestmark = pytest.mark.heavy
DATA = Path(__file__).parents[1] / "data" / "voice"
UTTERANCES = json.loads((DATA / "utterances.json").read_text())


@pytest.fixture(scope="module")
def transcripts():
    """Each fixture transcribed once for the module (the model itself loads once per process)."""
    from edge.voice.transcribe import transcribe

    return {u["file"]: transcribe(audio.load_file(DATA / u["file"]).samples).text for u in UTTERANCES}


def test_wer_on_fixtures_within_15_percent(transcripts):
    score = wer([u["text"] for u in UTTERANCES], [transcripts[u["file"]] for u in UTTERANCES])
    assert score <= 0.15, f"WER {score:.1%}"


def test_drug_names_come_out_right(transcripts):
    assert "metformin" in transcripts["u07_metformin.wav"].lower()
    assert "lisinopril" in transcripts["u13_drugs.wav"].lower()


@pytest.mark.parametrize("item", UTTERANCES, ids=[u["file"] for u in UTTERANCES])
def test_red_flags_on_transcripts(transcripts, item):
    from edge.voice.triage import triage

    assert [f.id for f in triage(transcripts[item["file"]]).red_flags] == item["red_flags"]


def test_stored_symptom_and_alert(store, user_id):
    result = pipeline.analyze_file(store, DATA / "u02_chest_pain_breathless.wav", user_id)
    row = store.symptoms.get(result.symptom_id)
    assert row.user_id == user_id
    assert "chest pain" in row.description.lower()
    assert row.severity == 8  # "crushing" → described as severe
    assert row.triage["urgency"] == "emergency"
    assert row.voice_analysis["markers"]["f0_mean_hz"] > 0
    assert row.voice_analysis["stress"]["status"] == "insufficient_baseline"
    assert row.model_versions["stt"].startswith("tiny.en") and row.model_versions["llm"] == "none"
    assert row.audio_path is None  # no opt-in: the audio itself is not kept
    (alert,) = store.health_events.list(owner=user_id, event_type="health_alert")
    assert alert.id == result.alert_id
    assert alert.data["symptom_id"] == str(result.symptom_id)
    assert [f["id"] for f in alert.data["red_flags"]] == ["cardiac_chest_pain"]
    tables = [r[0] for r in store.query("SELECT tbl FROM outbox ORDER BY seq")]
    assert tables == ["symptoms", "health_events"]


def test_no_alert_without_red_flags(store, user_id):
    result = pipeline.analyze_file(store, DATA / "u03_negated_chest.wav", user_id)
    assert result.alert_id is None
    assert result.triage["negated"] == ["chest_pain", "shortness_of_breath"]
    assert store.health_events.count() == 0


def test_stress_after_a_baseline(store, user_id):
    for _ in range(3):
        pipeline.analyze_file(store, DATA / "u09_dizzy_nausea.wav", user_id)
    result = pipeline.analyze_file(store, DATA / "u09_dizzy_nausea.wav", user_id)
    assert result.stress["status"] == "ok" and result.stress["baseline_sessions"] == 3
    # The same recording as the baseline: every z-score is zero.
    assert all(z == pytest.approx(0, abs=1e-6) for z in result.stress["z"].values())


def test_audio_kept_only_with_opt_in(store):
    user = store.users.add({"full_name": "A Patient", "audio_opt_in": True})
    result = pipeline.analyze_file(store, DATA / "u01_headache_fever.wav", user.id)
    assert result.audio_path and Path(result.audio_path).exists()
    assert b"RIFF" not in Path(result.audio_path).read_bytes()[:64]  # sealed, not a plain recording
    kept = pipeline.load_kept_audio(store, result.symptom_id)
    original = audio.load_file(DATA / "u01_headache_fever.wav").samples
    assert np.max(np.abs(kept.samples - original)) < 1e-3  # FLAC is lossless up to PCM16 rounding

    other = store.users.add({"full_name": "No Opt In"})
    with pytest.raises(ForbiddenError, match="opted in"):
        pipeline.analyze_file(store, DATA / "u01_headache_fever.wav", other.id,
                              pipeline.AnalyzeOptions(keep_audio=True))
    assert store.symptoms.count(owner=other.id) == 0


def test_llm_used_only_with_consent(store, monkeypatch):
    monkeypatch.setenv(llm.ENV_KEY, "gsk_test")
    seen = []

    def answer(request):
        seen.append(json.loads(request.content))
        body = {"summary": "Headache and fever.", "symptoms": ["headache", "fever"], "urgency": "routine",
                "specialty": "general practice", "red_flags": [], "advice": "See a GP."}
        return httpx.Response(200, json={
            "id": "c1", "object": "chat.completion", "created": 1764000000, "model": llm.DEFAULT_MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": json.dumps(body)},
                         "finish_reason": "stop"}]})

    options = pipeline.AnalyzeOptions(http_client=httpx.Client(transport=httpx.MockTransport(answer)))
    consenting = store.users.add({"full_name": "Consenting Patient", "llm_consent": True})
    result = pipeline.analyze_file(store, DATA / "u01_headache_fever.wav", consenting.id, options)
    assert result.triage["llm"]["status"] == "ok"
    assert result.model_versions["llm"] == llm.DEFAULT_MODEL
    assert "Consenting Patient" not in json.dumps(seen) and str(consenting.id) not in json.dumps(seen)

    seen.clear()
    result = pipeline.analyze_file(store, DATA / "u01_headache_fever.wav", uuid.uuid4(), options)
    assert seen == [] and result.triage["llm"]["status"] == "not_used"


def test_silence_refused_and_nothing_stored(store, user_id, tmp_path):
    sf.write(tmp_path / "silence.wav", np.zeros(32_000, np.float32), 16_000)
    with pytest.raises(InputError, match="silent"):
        pipeline.analyze_file(store, tmp_path / "silence.wav", user_id)
    assert store.symptoms.count() == 0


def test_noise_only_refused_and_nothing_stored(store, user_id, tmp_path):
    noise = np.random.default_rng(7).normal(0, 0.05, 48_000).astype(np.float32)
    sf.write(tmp_path / "noise.wav", noise, 16_000)
    with pytest.raises(InputError, match="no speech was recognised"):
        pipeline.analyze_file(store, tmp_path / "noise.wav", user_id)
    assert store.symptoms.count() == 0
    assert store.query("SELECT count(*) FROM outbox")[0][0] == 0
