"""Model selection for speech-to-text: bundled tiny.en by default, a larger model by path or env var, clear errors."""
import sys
from pathlib import Path

import pytest

from edge.voice import transcribe as stt
from protocol.errors import MissingDependencyError, ModelError


def test_default_is_the_bundled_tiny_en(monkeypatch):
    monkeypatch.delenv(stt.ENV_MODEL, raising=False)
    path = Path(stt.model_path())
    assert (path / "model.bin").is_file() and (path / "tokenizer.json").is_file()
    assert stt.model_name().startswith("tiny.en")


def test_env_var_selects_another_model(monkeypatch, tmp_path):
    (tmp_path / "small.en").mkdir()
    (tmp_path / "small.en" / "model.bin").write_bytes(b"\0")
    monkeypatch.setenv(stt.ENV_MODEL, str(tmp_path / "small.en"))
    assert stt.model_path() == str(tmp_path / "small.en")
    assert stt.model_name() == "small.en"


def test_not_a_model_directory(tmp_path):
    with pytest.raises(ModelError, match="no model.bin"):
        stt.model_path(str(tmp_path))


def test_unloadable_model_is_a_model_error(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"not a ctranslate2 model")
    with pytest.raises(ModelError, match="could not load"):
        stt.load_model(str(tmp_path))


def test_missing_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "faster_whisper", None)  # import now raises ImportError
    stt.load_model.cache_clear()
    try:
        with pytest.raises(MissingDependencyError) as err:
            stt.load_model()
        assert "healthsync[voice]" in err.value.hint
    finally:
        stt.load_model.cache_clear()


def _segment(no_speech: float, logprob: float, words: list[tuple[str, float, float, float]]) -> stt.Segment:
    return stt.Segment(words[0][1], words[-1][2], "".join(w[0] for w in words).strip(), logprob, no_speech,
                       [stt.WordProb(*w) for w in words])


# Segments as tiny.en decoded them on an AMD CPU after the last spoken word of the fixtures (issue 15).
APPENDED_THANKS = _segment(0.645, -0.99, [(" Thank", 3.06, 3.10, 0.03), (" you.", 3.10, 3.12, 0.98)])
APPENDED_WORD = _segment(0.57, -1.07, [(" side.", 1.96, 2.12, 0.08)])


def test_whisper_rule_drops_what_it_rates_as_not_speech():
    assert stt._invented(_segment(0.7, -1.2, [(" Thanks", 0.0, 0.3, 0.5), (" for", 0.3, 0.5, 0.6)]))


@pytest.mark.parametrize("seg", [APPENDED_THANKS, APPENDED_WORD], ids=["thank-you", "one-word"])
def test_appended_phrases_whisper_doubts_are_dropped(seg):
    assert stt._invented(seg)


def test_unsure_real_speech_is_kept():
    # Whisper is unsure of the words but sure it heard speech: triage needs these words (it marks them unsure).
    seg = _segment(0.04, -1.3, [(" I", 0.0, 0.1, 0.1), (" can't", 0.1, 0.4, 0.1), (" breathe", 0.4, 0.9, 0.12)])
    assert not stt._invented(seg)


def test_doubted_but_clearly_spoken_words_are_kept():
    # Noisy audio can make Whisper doubt the window; words it heard with confidence at speaking pace stay.
    seg = _segment(0.65, -0.7, [(" help", 0.0, 0.35, 0.9), (" me", 0.35, 0.6, 0.85), (" please", 0.6, 1.1, 0.9)])
    assert not stt._invented(seg)


def test_anomaly_score_follows_openai_whisper():
    words = [stt.WordProb(" a", 0.0, 0.1, 0.1), stt.WordProb(" long", 0.1, 2.6, 0.9), stt.WordProb(".", 2.6, 2.6, 0.0)]
    # "a": unlikely (1) and too short (1); "long": 0.5 s past 2 s (5); the lone full stop does not count.
    assert stt.word_anomaly(words) == pytest.approx(7.0)
