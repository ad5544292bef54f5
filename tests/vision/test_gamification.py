"""Points, streaks, personal bests, plans and adherence, over sessions stored in a real encrypted store."""
from __future__ import annotations

import datetime as dt

import pytest

from edge.vision.therapy import gamification, session
from edge.vision.therapy.synthetic import Script, generate
from protocol.errors import InputError

TODAY = dt.date(2026, 3, 20)


def _add(store, user_id, day: dt.date, exercise="squat", reps=10, score=90.0, clean=10, rom=90.0):
    return store.therapy_sessions.add({
        "user_id": user_id, "exercise": exercise, "reps": reps, "score": score, "duration_s": 60,
        "started_at": dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC),
        "details": {"clean_reps": clean, "rom_deg": {"mean": rom, "max": rom}}})


def test_points_per_session():
    # 8 reps × 10 + 6 clean × 5 + good-score bonus 25
    assert gamification.session_points(8, 6, 85.0, "squat") == 80 + 30 + 25
    assert gamification.session_points(8, 6, 79.9, "squat") == 110


@pytest.mark.parametrize(("days_ago", "expected"), [
    ([0, 1, 2], 3),
    ([1, 2, 3], 3),  # today's session may still come: yesterday's streak stands
    ([0, 2, 3], 1),
    ([2, 3], 0),
    ([], 0),
])
def test_streak(days_ago, expected):
    days = {TODAY - dt.timedelta(days=d) for d in days_ago}
    assert gamification.streak(days, TODAY) == expected


def test_adherence_counts_days_that_met_the_prescription(store, user_id):
    plan = gamification.Plan("squat", sets=2, reps=5, days_per_week=7, start=TODAY - dt.timedelta(days=3))
    _add(store, user_id, TODAY - dt.timedelta(days=3), reps=10)  # met
    _add(store, user_id, TODAY - dt.timedelta(days=2), reps=4)  # two sessions the same day add up: met
    _add(store, user_id, TODAY - dt.timedelta(days=2), reps=6)
    _add(store, user_id, TODAY - dt.timedelta(days=1), reps=9)  # one rep short
    _add(store, user_id, TODAY, exercise="heel_raise", reps=20)  # another exercise does not count
    sessions = store.therapy_sessions.list(owner=user_id)
    assert gamification.adherence(plan, sessions, TODAY) == {"prescribed_days": 4, "completed_days": 2,
                                                             "adherence": 0.5}


def test_adherence_with_fewer_days_a_week():
    plan = gamification.Plan("squat", 1, 1, days_per_week=3, start=TODAY - dt.timedelta(days=13))
    # 14 days elapsed at 3 days a week: 6 prescribed days
    assert gamification.adherence(plan, [], TODAY)["prescribed_days"] == 6
    future = gamification.Plan("squat", 1, 1, 3, start=TODAY + dt.timedelta(days=2))
    assert gamification.adherence(future, [], TODAY)["adherence"] is None


@pytest.mark.parametrize("kwargs", [dict(sets=0), dict(reps=0), dict(days_per_week=8), dict(exercise="yoga")])
def test_bad_plans_are_refused(kwargs):
    args = dict(exercise="squat", sets=3, reps=10, days_per_week=5, start=TODAY) | kwargs
    with pytest.raises(InputError):
        gamification.Plan(**args)


def test_progress_from_the_store(store, user_id):
    _add(store, user_id, TODAY - dt.timedelta(days=1), reps=8, score=70, clean=8, rom=80)
    best = _add(store, user_id, TODAY, reps=12, score=95, clean=10, rom=92)
    gamification.save_plan(store, user_id, gamification.Plan("squat", 1, 10, 7, TODAY - dt.timedelta(days=1)))
    gamification.save_plan(store, user_id, gamification.Plan("squat", 1, 12, 7, TODAY - dt.timedelta(days=1)))
    p = gamification.load_progress(store, user_id, TODAY)
    assert p["sessions"] == 2 and p["streak_days"] == 2
    assert p["points"] == (80 + 40) + (120 + 50 + 25)
    assert p["personal_bests"]["squat"] == {"reps": 12, "score": 95.0, "rom_deg": 92.0}
    [plan] = p["plans"]  # the newer plan replaces the older one
    assert plan["reps"] == 12 and plan["completed_days"] == 1 and plan["adherence"] == 0.5
    # a corrected session replaces the original in the totals
    store.therapy_sessions.correct(best.id, reps=3)
    assert gamification.load_progress(store, user_id, TODAY)["personal_bests"]["squat"]["reps"] == 8


def test_session_is_stored_with_pain_scores_and_queued_for_sync(store, user_id):
    result = session.analyse_poses("squat", generate(Script("squat", reps=3, faults={1: ["trunk_lean"]})))
    row = session.save(store, user_id, result, pain_before=4, pain_after=2)
    got = store.therapy_sessions.get(row.id)
    assert (got.exercise, got.reps, got.pain_before, got.pain_after) == ("squat", 3, 4, 2)
    assert got.details["faults"] == {"trunk_lean": 1} and got.details["clean_reps"] == 2
    assert got.score == result.score and 0 < got.score < 100
    outbox = store.query("SELECT COUNT(*) FROM outbox WHERE tbl='therapy_sessions'")
    assert outbox[0][0] == 1
