"""protocol.merge.gc_paused defers the cyclic collector during bulk merges without ever switching it off, and always
restores the process's thresholds (issue 9, item 15).

Before, it called gc.disable(): under merges that kept overlapping the collector never ran at all, so cyclic garbage
piled up (test_collector_keeps_running_while_merges_overlap fails on that code: the cycle is never reclaimed).
"""
from __future__ import annotations

import gc
import random
import threading
import weakref

import pytest

from protocol import merge


class _Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the cyclic collector can free it


def _cycle_is_reclaimed_while(hold) -> bool:
    """Create a cycle, drop it, then allocate until the collector would have run many times over; True if freed."""
    node = _Node()
    alive = weakref.ref(node)
    del node
    kept = []  # live containers: the collector is triggered by allocations net of deallocations
    with hold():
        for _ in range(30):
            kept.append([[] for _ in range(merge.BULK_GC_THRESHOLD // 10)])
            if alive() is None:
                return True
    return alive() is None


def test_collector_keeps_running_while_merges_overlap():
    # Merges on other threads keep at least one holder at every moment, as back-to-back pushes on a busy server do.
    stop = threading.Event()
    started = threading.Barrier(3)

    def busy():
        started.wait()
        while not stop.is_set():
            with merge.gc_paused():
                stop.wait(0.001)

    def held():
        started.wait()
        return merge.gc_paused()

    threads = [threading.Thread(target=busy) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        assert _cycle_is_reclaimed_while(held)
        assert gc.isenabled()
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert gc.get_threshold()[0] < merge.BULK_GC_THRESHOLD


def test_thresholds_are_restored_after_an_exception():
    before = gc.get_threshold()
    with pytest.raises(ZeroDivisionError), merge.gc_paused():
        assert gc.get_threshold()[0] == merge.BULK_GC_THRESHOLD
        1 / 0  # noqa: B018 - the merge fails
    assert gc.get_threshold() == before and gc.isenabled()


def test_thresholds_are_restored_after_overlapping_and_failing_merges_on_many_threads():
    before = gc.get_threshold()
    rng = random.Random(9)
    plans = [[rng.random() < 0.3 for _ in range(200)] for _ in range(8)]
    errors = []

    def run(plan):
        for fail in plan:
            try:
                with merge.gc_paused():
                    assert gc.isenabled() and gc.get_threshold()[0] == merge.BULK_GC_THRESHOLD
                    if fail:
                        raise RuntimeError("merge failed")
            except RuntimeError:
                pass
            except AssertionError as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert gc.get_threshold() == before and gc.isenabled()
    assert merge._gc_holders == 0
