"""The soak as a test: randomized schedules of offline writes, faulty and duplicated syncs, restarts, skewed clocks,
SIGKILLed edge processes and cut connections; nothing acknowledged is lost, nothing is applied twice, no device
is left stuck. CI runs a short version; `make soak` runs 1,000 schedules (SOAK_SCHEDULES, SOAK_SEED)."""
from __future__ import annotations

import os

import pytest

from .netfaults import CuttingProxy
from .soak import SoakReport, run_schedule

pytestmark = pytest.mark.e2e


def test_soak_loses_nothing_duplicates_nothing_leaves_no_device_stuck(tmp_path, http, db, live_url, capsys):
    schedules = int(os.environ.get("SOAK_SCHEDULES", "30"))
    seed = int(os.environ.get("SOAK_SEED", "0"))
    every = int(os.environ.get("SOAK_PROCESS_EVERY", "15"))  # one schedule in `every` kills a real edge process
    start = int(os.environ.get("SOAK_START", "0"))  # to replay one schedule: SOAK_SEED=s SOAK_START=i SOAK_SCHEDULES=1
    report = SoakReport()
    for i in range(start, start + schedules):
        real = i % every == every - 1
        run_schedule(seed * 1_000_003 + i, tmp_path, http, db, report, live_url if real else None,
                     CuttingProxy if real else None)
    with capsys.disabled():
        print(f"\n{report.line()} (seed {seed})")
        for failure in report.failures[:20]:
            print("  " + failure)
    assert report.schedules == schedules and report.writes > schedules
    assert report.faults > 0 and (report.kills + report.cuts > 0 or schedules < every)
    assert (report.lost, report.duplicated, report.stuck) == (0, 0, 0), report.failures[:10]
