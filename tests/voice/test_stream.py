"""The transport-free live session: buffering, partial transcripts, and reuse of the last partial as the final
transcript only when nothing but silence followed it."""
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from edge.voice import audio
from edge.voice.stream import StreamFormat, VoiceStream
from edge.voice.transcribe import has_speech
from protocol.errors import InputError

pytestmark = pytest.mark.heavy
DATA = Path(__file__).parents[1] / "data" / "voice"


def pcm(name: str) -> bytes:
    x, _ = sf.read(DATA / name, dtype="int16")
    return x.astype("<i2").tobytes()


def test_has_speech():
    assert has_speech(audio.load_file(DATA / "u09_dizzy_nausea.wav").samples)
    assert not has_speech(np.zeros(16_000, np.float32))
    assert not has_speech(np.zeros(0, np.float32))


def test_partial_is_reused_when_only_silence_follows(store, user_id):
    s = VoiceStream(store, user_id, StreamFormat(16_000))
    s.add_chunk(pcm("u14_cough_stream.wav"))
    partial = s.partial_transcript()
    s.add_chunk(np.zeros(8_000, "<i2").tobytes())  # 0.5 s of silence, then the user presses stop
    result = s.finish()
    assert result.transcript.text == partial and "cough" in partial
    row = store.symptoms.get(result.symptom_id)
    assert row.voice_analysis["transcript_from_stream_partial"] is True
    assert row.voice_analysis["duration_s"] == pytest.approx(5.51, abs=0.02)


def test_speech_after_the_partial_is_transcribed_again(store, user_id):
    data = pcm("u14_cough_stream.wav")
    s = VoiceStream(store, user_id, StreamFormat(16_000))
    s.add_chunk(data[: 2 * 16_000 * 2])  # the first two seconds
    partial = s.partial_transcript()
    s.add_chunk(data[2 * 16_000 * 2:])
    result = s.finish()
    assert "tired" not in partial.lower()
    assert "tired" in result.transcript.text.lower()
    assert store.symptoms.get(result.symptom_id).voice_analysis["transcript_from_stream_partial"] is False


def test_stream_limit_refuses_the_chunk_and_keeps_the_buffer(store, user_id, monkeypatch):
    monkeypatch.setattr(audio, "MAX_SECONDS", 1.0)
    s = VoiceStream(store, user_id, StreamFormat(16_000))
    s.add_chunk(np.zeros(12_000, "<i2").tobytes())
    with pytest.raises(InputError, match="limit"):
        s.add_chunk(np.zeros(8_000, "<i2").tobytes())
    assert s.seconds == pytest.approx(0.75)
