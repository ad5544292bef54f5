"""Fixed-window rate limiting per (caller, endpoint): Redis when configured, in-process otherwise."""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Decision:
    """The outcome of one hit: allowed or not, how many remain and when the window resets."""

    allowed: bool
    limit: int
    remaining: int
    retry_after_s: int


class RateLimiter(Protocol):
    """Counts hits of a key within fixed windows of `window_s` seconds."""

    def hit(self, key: str, limit: int, window_s: int) -> Decision:
        """Record one hit and say whether it is within `limit`."""
        ...


def _decide(count: int, limit: int, window_s: int, now: float) -> Decision:
    reset_in = window_s - (now % window_s)
    return Decision(count <= limit, limit, max(0, limit - count), max(1, math.ceil(reset_in)))


class MemoryRateLimiter:
    """In-process limiter: correct for one server process (the fallback when no Redis is configured)."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_s: int) -> Decision:
        now = self._clock()
        window = int(now // window_s)
        with self._lock:
            # Forget finished windows so memory stays bounded by the number of active callers.
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
            count = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = count
        return _decide(count, limit, window_s, now)


class RedisRateLimiter:
    """Shared limiter for N server instances: INCR + EXPIRE of one Redis key per window."""

    def __init__(self, client, prefix: str = "healthsync:rl:", clock: Callable[[], float] = time.time):
        self.client = client
        self.prefix = prefix
        self._clock = clock

    @classmethod
    def from_url(cls, url: str, **kwargs) -> RedisRateLimiter:
        """A limiter on the Redis at `url`."""
        import redis

        return cls(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1), **kwargs)

    def hit(self, key: str, limit: int, window_s: int) -> Decision:
        now = self._clock()
        rkey = f"{self.prefix}{key}:{int(now // window_s)}"
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(rkey)
        pipe.expire(rkey, window_s + 1)
        count, _ = pipe.execute()
        return _decide(int(count), limit, window_s, now)


class FailOpenRateLimiter:
    """Wraps a remote limiter: when Redis is down, fall back to in-process counting rather than refuse service."""

    def __init__(self, primary: RateLimiter, fallback: RateLimiter | None = None):
        self.primary = primary
        self.fallback = fallback or MemoryRateLimiter()

    def hit(self, key: str, limit: int, window_s: int) -> Decision:
        import redis

        try:
            return self.primary.hit(key, limit, window_s)
        except redis.RedisError:
            return self.fallback.hit(key, limit, window_s)


def limiter_for(redis_url: str | None) -> RateLimiter:
    """The limiter a server with this configuration uses."""
    if redis_url:
        return FailOpenRateLimiter(RedisRateLimiter.from_url(redis_url))
    return MemoryRateLimiter()
