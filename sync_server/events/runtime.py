"""Starting and stopping this instance's real-time machinery: the hub, the relay, the Redis subscriber and the jobs.

Mounted through the realtime router's lifespan (sync_server/routes/realtime.py), so `create_app` itself does no I/O.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sync_server.events.hub import Hub
from sync_server.events.relay import CHANNEL, Relay, Subscriber


def _num(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    try:
        value = float(raw) if raw not in (None, "") else default
    except ValueError:
        from protocol.errors import InputError

        raise InputError(f"{name} must be a number, got {raw!r}") from None
    return value if value > 0 else default


@dataclass(frozen=True)
class RealtimeSettings:
    """The real-time and background-job knobs (environment variables in docs/marketplace.md)."""

    enabled: bool = True
    redis_prefix: str = ""  # prefix of every Redis key and channel of this deployment (tests use random ones)
    ws_queue: int = 1000  # events queued per socket before it is dropped as a slow consumer
    heartbeat_s: float = 15.0
    relay_tick_s: float = 0.5
    jobs_interval_s: float = 5.0
    perf_refresh_s: float = 300.0
    event_retention_days: float = 7.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RealtimeSettings:
        env = os.environ if env is None else env
        return cls(enabled=env.get("HEALTHSYNC_REALTIME", "1") not in ("0", "false", "off"),
                   redis_prefix=env.get("HEALTHSYNC_REDIS_PREFIX", ""),
                   ws_queue=int(_num(env, "HEALTHSYNC_WS_QUEUE", 1000)),
                   heartbeat_s=_num(env, "HEALTHSYNC_WS_HEARTBEAT_S", 15.0),
                   relay_tick_s=_num(env, "HEALTHSYNC_RELAY_TICK_S", 0.5),
                   jobs_interval_s=_num(env, "HEALTHSYNC_JOBS_INTERVAL_S", 5.0),
                   perf_refresh_s=_num(env, "HEALTHSYNC_PERF_REFRESH_S", 300.0),
                   event_retention_days=_num(env, "HEALTHSYNC_EVENT_RETENTION_DAYS", 7.0))


def settings_of(app) -> RealtimeSettings:
    """The app's real-time settings (tests may set app.state.realtime_settings before start-up)."""
    found = getattr(app.state, "realtime_settings", None)
    if found is None:
        found = app.state.realtime_settings = RealtimeSettings.from_env()
    return found


def redis_client(url: str):
    """A Redis client that gives up quickly: a dead Redis must not stall a request."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class Realtime:
    """This instance's hub plus the threads feeding it (relay, subscriber) and the periodic jobs."""

    def __init__(self, db_url: str, redis_url: str | None, settings: RealtimeSettings, on_doctors=None):
        self.db_url, self.redis_url, self.settings, self.on_doctors = db_url, redis_url, settings, on_doctors
        self.hub = Hub()
        self.channel = settings.redis_prefix + CHANNEL
        self.threads: list[Any] = []
        self.loop: asyncio.AbstractEventLoop | None = None

    def _deliver(self, events, upto: int) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
                loop.call_soon_threadsafe(self.hub.deliver, events, upto)

    async def start(self) -> None:
        from sync_server.jobs import Jobs

        self.loop = asyncio.get_running_loop()
        if self.redis_url:
            publisher = redis_client(self.redis_url)
            subscriber = Subscriber(self.db_url, lambda: redis_client(self.redis_url), self.channel, self._deliver)
            relay = Relay(self.db_url, publish=lambda batch: publisher.publish(self.channel, _dumps(batch)),
                          tick_s=self.settings.relay_tick_s, on_doctors=self.on_doctors)
            self.threads = [subscriber, relay]
        else:
            self.threads = [Relay(self.db_url, deliver=self._deliver, tick_s=self.settings.relay_tick_s)]
        self.threads.append(Jobs(self.db_url, self.settings))
        for t in self.threads:
            t.start()
        # Ready when the hub knows where the live stream starts (so a `since` resume lines up with it).
        await asyncio.get_running_loop().run_in_executor(None, self._wait_started)

    def _wait_started(self) -> None:
        # Bounded: with the database down the app still starts (the threads keep retrying; /health says why).
        deadline = time.monotonic() + 3
        for t in self.threads:
            started = getattr(t, "started", None)
            if started is not None:
                started.wait(max(0.0, deadline - time.monotonic()))

    def stop(self) -> None:
        for t in self.threads:
            t.stop()
        self.loop = None


def _dumps(batch: dict) -> str:
    import json

    return json.dumps(batch, default=str, separators=(",", ":"))


@contextlib.asynccontextmanager
async def lifespan(app):
    """Run the real-time machinery for the app's lifetime (unless HEALTHSYNC_REALTIME=0)."""
    settings = settings_of(app)
    if not settings.enabled:
        app.state.realtime = None
        yield
        return
    from sync_server.marketplace.search import SearchCache

    cache = app.state.search_cache = SearchCache(app.state.settings.redis_url, settings.redis_prefix)
    rt = Realtime(app.state.settings.database_url, app.state.settings.redis_url, settings, on_doctors=cache.invalidate)
    app.state.realtime = rt
    await rt.start()
    try:
        yield
    finally:
        await asyncio.get_running_loop().run_in_executor(None, rt.stop)
