"""Hybrid logical clock properties."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.hlc import HybridLogicalClock, Timestamp


def test_monotonic_when_wall_clock_goes_backwards():
    walls = iter([1000, 900, 900, 2000])
    clock = HybridLogicalClock("a", wall=lambda: next(walls))
    stamps = [clock.now() for _ in range(4)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 4
    assert stamps[1] == Timestamp(1000, 1, "a")


def test_receive_moves_past_remote():
    clock = HybridLogicalClock("a", wall=lambda: 1000)
    after = clock.receive(Timestamp(5000, 7, "b"))
    assert after > Timestamp(5000, 7, "b")
    assert clock.now() > after


def test_remote_clock_far_in_future_is_refused():
    clock = HybridLogicalClock("a", wall=lambda: 1000)
    with pytest.raises(ValueError, match="24 h"):
        clock.receive(Timestamp(1000 + 25 * 3600 * 1000, 0, "b"))


@given(st.integers(0, 10**14), st.integers(0, 999_998), st.text("abcdef0123456789-", min_size=1, max_size=36))
def test_encoding_round_trips_and_preserves_order(wall, counter, node):
    t = Timestamp(wall, counter, node)
    assert Timestamp.decode(t.encode()) == t
    later = Timestamp(wall, counter + 1, node)
    assert t.encode() < later.encode()


def test_counter_overflow_borrows_the_next_millisecond():
    clock = HybridLogicalClock("a", last=Timestamp(1000, 999_999, "a"), wall=lambda: 1000)
    nxt = clock.now()
    assert nxt == Timestamp(1001, 0, "a") and nxt.encode() > Timestamp(1000, 999_999, "a").encode()


def test_malformed_timestamp():
    with pytest.raises(ValueError):
        Timestamp.decode("yesterday")
