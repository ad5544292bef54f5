"""Hybrid logical clock: timestamps that order causally across devices whose wall clocks drift."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

# Refuse to follow a remote clock more than this far ahead of ours: a broken device must not drag every replica.
MAX_DRIFT_MS = 24 * 3600 * 1000
# The counter has six digits in the encoding; past that the clock borrows the next millisecond.
MAX_COUNTER = 999_999


@dataclass(frozen=True, order=True)
class Timestamp:
    """An HLC value; ordering is (wall ms, counter, node), so ties between devices break deterministically."""

    wall_ms: int
    counter: int
    node: str

    def encode(self) -> str:
        """Fixed-width text form whose string order equals timestamp order."""
        return f"{self.wall_ms:015d}:{self.counter:06d}:{self.node}"

    @classmethod
    def decode(cls, text: str) -> Timestamp:
        try:
            wall, counter, node = text.split(":", 2)
            return cls(int(wall), int(counter), node)
        except ValueError:
            raise ValueError(f"malformed HLC timestamp {text!r}") from None


class HybridLogicalClock:
    """Issues strictly increasing timestamps for one node and absorbs timestamps seen from others."""

    def __init__(self, node: str, last: Timestamp | None = None, wall=lambda: int(time.time() * 1000)):
        self.node = node
        self._wall = wall
        self._last = last or Timestamp(0, 0, node)
        self._lock = threading.Lock()

    def now(self) -> Timestamp:
        """A timestamp later than every one issued or received so far."""
        with self._lock:
            wall = self._wall()
            if wall > self._last.wall_ms:
                self._last = Timestamp(wall, 0, self.node)
            else:
                self._last = _bump(self._last.wall_ms, self._last.counter + 1, self.node)
            return self._last

    def receive(self, remote: Timestamp) -> Timestamp:
        """Advance past a timestamp received from another node."""
        with self._lock:
            wall = self._wall()
            if remote.wall_ms - wall > MAX_DRIFT_MS:
                raise ValueError(f"remote clock {remote.encode()} is more than 24 h ahead of ours")
            top = max(wall, self._last.wall_ms, remote.wall_ms)
            if top == self._last.wall_ms == remote.wall_ms:
                counter = max(self._last.counter, remote.counter) + 1
            elif top == self._last.wall_ms:
                counter = self._last.counter + 1
            elif top == remote.wall_ms:
                counter = remote.counter + 1
            else:
                counter = 0
            self._last = _bump(top, counter, self.node)
            return self._last

    def rewind(self, to: Timestamp) -> None:
        """Restart from `to`, even below the last issued: only for stamps the server refused as too far ahead."""
        with self._lock:
            self._last = Timestamp(to.wall_ms, to.counter, self.node)

    @property
    def last(self) -> Timestamp:
        return self._last


def _bump(wall_ms: int, counter: int, node: str) -> Timestamp:
    return Timestamp(wall_ms + 1, 0, node) if counter > MAX_COUNTER else Timestamp(wall_ms, counter, node)
