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
