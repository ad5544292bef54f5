"""Real processes for end-to-end tests: the `healthsync` CLI in a child process, and `healthsync server run` on a
free loopback port."""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the settings a test must choose itself, plus `extra`."""
    base = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "SUPABASE_URL", "HEALTHSYNC_TOKEN")}
    return {**base, **extra}


def hs(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`healthsync ARGS` in a child process."""
    return subprocess.run([sys.executable, "-m", "healthsync_cli", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def hs_ok(env: dict[str, str], *args: str, stdin: str | None = None) -> Any:
    """`healthsync ARGS` that must succeed: its JSON answer with --json, else its output."""
    done = hs(env, *args, stdin=stdin)
    assert done.returncode == 0, f"healthsync {' '.join(args)}: {done.stderr or done.stdout}"
    return json.loads(done.stdout) if "--json" in args else done.stdout


@contextlib.contextmanager
def server_run(env: dict[str, str], log: Path) -> Iterator[str]:
    """`healthsync server run` on a free port with `env` (its JSON log lines in `log`); yields its URL."""
    port = free_port()
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "healthsync_cli", "server", "run", "--port", str(port)],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/health")
                break
            except httpx.TransportError:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
