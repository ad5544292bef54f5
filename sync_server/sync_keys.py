"""The server's X25519 key pair that devices seal changesets to: from HEALTHSYNC_SERVER_KEY or a key file."""
from __future__ import annotations

import functools
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from protocol.changeset import raw_private
from protocol.errors import HealthSyncError

ENV_SERVER_KEY = "HEALTHSYNC_SERVER_KEY"  # 64 hex characters


def _from_hex(text: str) -> X25519PrivateKey:
    try:
        raw = bytes.fromhex(text.strip())
        if len(raw) != 32:
            raise ValueError
    except ValueError:
        raise HealthSyncError(f"{ENV_SERVER_KEY} must be 64 hex characters (an X25519 private key)") from None
    return X25519PrivateKey.from_private_bytes(raw)


@functools.lru_cache(maxsize=8)
def load_server_key(key_file: str | None = None) -> X25519PrivateKey:
    """The server key: the environment's, else the key file's (created with mode 0600 on first use).

    Every instance behind a load balancer must load the same key (set the variable, or share the file).
    """
    env = os.environ.get(ENV_SERVER_KEY)
    if env:
        return _from_hex(env)
    if key_file is None:
        from sync_server.config import default_home

        key_file = str(default_home() / "server" / "sync_x25519.key")
    path = Path(key_file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(raw_private(X25519PrivateKey.generate()).hex())
    return _from_hex(path.read_text())


def server_key_for(settings) -> X25519PrivateKey:
    """The key of the server `settings` configure: the environment's, else the key file in its data directory."""
    key_file = str(settings.data_dir / "sync_x25519.key") if settings.data_dir else None
    return load_server_key(key_file)
