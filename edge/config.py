"""Where the edge keeps its data, and how the runtime opens the store."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

from edge.keys import KeySource
from edge.store import Store

ENV_HOME = "HEALTHSYNC_HOME"


def data_dir() -> Path:
    """The edge data directory: $HEALTHSYNC_HOME, else ~/.healthsync."""
    return Path(os.environ.get(ENV_HOME) or Path.home() / ".healthsync")


def store_path() -> Path:
    """Path of the edge SQLite store."""
    return data_dir() / "edge.db"


def open_store(path: Path | None = None, keys: KeySource | None = None, *, create: bool = False) -> Store:
    """Open the device's store (key from the environment unless given)."""
    return Store.open(path or store_path(), keys, create=create)


def primary_user(store: Store) -> uuid.UUID:
    """The user this device was initialised for (`healthsync edge init`)."""
    from protocol.errors import HealthSyncError

    value = store.meta("user_id")
    if not value:
        raise HealthSyncError("this store has no primary user", hint="run `healthsync edge init --user-id …`")
    return uuid.UUID(str(value))
