"""`healthsync export whisper`: package a CTranslate2 Whisper model directory with a manifest of file hashes."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

from edge.twin.models import sha256_file
from protocol.errors import InputError, ModelError

REQUIRED = ("model.bin", "config.json", "tokenizer.json")
MANIFEST = "manifest.json"


def validate_dir(src: Path) -> list[Path]:
    """The files of a CTranslate2 Whisper directory, or InputError naming what is missing."""
    if not src.is_dir():
        raise InputError(f"{src} is not a directory")
    missing = [name for name in REQUIRED if not (src / name).is_file()]
    if missing:
        raise InputError(f"{src} is not a CTranslate2 Whisper model: missing {', '.join(missing)}")
    try:
        json.loads((src / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{src / 'config.json'} is not valid JSON: {exc}") from None
    return sorted(p for p in src.iterdir() if p.is_file())


def package(src: Path, output_dir: Path, name: str | None = None) -> dict[str, Any]:
    """Copy the model into output_dir/<name> and write its manifest (file names, sizes, sha256)."""
    files = validate_dir(src)
    name = name or src.name
    dest = output_dir / name
    if dest.exists() and any(dest.iterdir()):
        raise InputError(f"{dest} already exists and is not empty", hint="choose another --name or --output-dir")
    dest.mkdir(parents=True, exist_ok=True)
    entries = []
    for path in files:
        shutil.copyfile(path, dest / path.name)
        entries.append({"file": path.name, "bytes": path.stat().st_size, "sha256": sha256_file(dest / path.name)})
    manifest = {"format": 1, "kind": "ctranslate2-whisper", "name": name, "source": str(src),
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "files": entries}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return {"path": str(dest), **manifest}


def verify(model_dir: Path) -> dict[str, Any]:
    """Check a packaged model against its manifest; ModelError on a missing or altered file."""
    try:
        manifest = json.loads((model_dir / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{model_dir} has no readable {MANIFEST}: {exc}") from None
    for entry in manifest["files"]:
        path = model_dir / entry["file"]
        if not path.is_file():
            raise ModelError(f"{path} named by the manifest is missing")
        if sha256_file(path) != entry["sha256"]:
            raise ModelError(f"{path} does not match its manifest hash: refused")
    return manifest
