"""Files that hold PHI are created owner-only: 0600 files, 0700 directories, made with that mode (never widened and
narrowed after), written atomically."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
# For child processes that write PHI files themselves (litestream): whatever they create is owner-only.
PRIVATE_UMASK = 0o077


def private_dir(path: str | os.PathLike) -> Path:
    """Create a directory (and missing parents) owner-only; an existing one is left as it is."""
    path = Path(path)
    if not path.is_dir():
        # makedirs applies the mode to the leaf only: create each missing level with it.
        for level in reversed([path, *path.parents]):
            if not level.exists():
                os.mkdir(level, DIR_MODE)
    return path


def create_private(path: str | os.PathLike) -> Path:
    """Create an empty owner-only file; fails if it exists."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    return Path(path)


def write_private(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write a whole file owner-only and atomically: a temporary file beside it, created 0600, then renamed."""
    path = Path(path)
    private_dir(path.parent)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # never a half-written file under the final name; an older file's mode goes with it
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def tighten(path: str | os.PathLike, mode: int = FILE_MODE) -> None:
    """Make an existing PHI file (or, with DIR_MODE, our own directory) owner-only: what versions before this
    left readable to others."""
    try:
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, mode)
    except FileNotFoundError:
        pass
