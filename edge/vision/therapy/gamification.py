"""Points, streaks, personal bests, a prescribed plan (sets × reps × days a week) and adherence to it."""
from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from edge.vision.therapy import exercises
from protocol.errors import InputError

CLEAN_REP_BONUS = 5
GOOD_SESSION_SCORE, GOOD_SESSION_BONUS = 80, 25
PLAN_EVENT = "therapy_plan"


@dataclass(frozen=True)
class Plan:
    """A prescription: `sets` × `reps` of one exercise on `days_per_week` days, for `weeks` weeks from `start`."""

    exercise: str
    sets: int
    reps: int
    days_per_week: int
    start: dt.date
    weeks: int = 6

    def __post_init__(self):
        exercises.get(self.exercise)
        if not (1 <= self.sets <= 20 and 1 <= self.reps <= 100 and 1 <= self.days_per_week <= 7
                and 1 <= self.weeks <= 104):
            raise InputError("a plan needs 1–20 sets, 1–100 reps, 1–7 days a week and 1–104 weeks")

    @property
    def daily_reps(self) -> int:
        """Reps that complete one prescribed day."""
        return self.sets * self.reps


def session_points(reps: int, clean_reps: int, score: float, exercise: str) -> int:
    """Points for one session: per rep, a bonus per fault-free rep, and a bonus for a good score."""
    ex = exercises.LIBRARY.get(exercise)
    per_rep = ex.points_per_rep if ex else 10
    return reps * per_rep + clean_reps * CLEAN_REP_BONUS + (GOOD_SESSION_BONUS if score >= GOOD_SESSION_SCORE else 0)


def _day(session) -> dt.date:
    return session.started_at.astimezone(dt.UTC).date()


def streak(days: set[dt.date], today: dt.date) -> int:
    """Consecutive active days ending today (or yesterday: today's session may still come)."""
    day = today if today in days else today - dt.timedelta(days=1)
    n = 0
    while day in days:
        n += 1
        day -= dt.timedelta(days=1)
    return n


def adherence(plan: Plan, sessions: list, today: dt.date) -> dict[str, Any]:
    """Share of the prescribed days so far on which the day's sets × reps were done."""
    end = min(today, plan.start + dt.timedelta(weeks=plan.weeks) - dt.timedelta(days=1))
    elapsed = (end - plan.start).days + 1
    if elapsed <= 0:
        return {"prescribed_days": 0, "completed_days": 0, "adherence": None}
    per_day: dict[dt.date, int] = {}
    for s in sessions:
        d = _day(s)
        if s.exercise == plan.exercise and plan.start <= d <= end:
            per_day[d] = per_day.get(d, 0) + s.reps
    prescribed = max(1, math.ceil(elapsed * plan.days_per_week / 7))
    done = sum(1 for reps in per_day.values() if reps >= plan.daily_reps)
    return {"prescribed_days": prescribed, "completed_days": done, "adherence": round(min(done, prescribed) /
                                                                                          prescribed, 3)}


def progress(sessions: list, plans: list[Plan], today: dt.date | None = None) -> dict[str, Any]:
    """Points, streak, personal bests per exercise and adherence per plan, from stored therapy sessions."""
    today = today or dt.datetime.now(dt.UTC).date()
    current = [s for s in sessions if s.supersedes is None]
    points = sum(session_points(s.reps, (s.details or {}).get("clean_reps", 0), s.score, s.exercise)
                 for s in current)
    bests: dict[str, dict[str, Any]] = {}
    for s in current:
        b = bests.setdefault(s.exercise, {"reps": 0, "score": 0.0, "rom_deg": None})
        b["reps"] = max(b["reps"], s.reps)
        b["score"] = max(b["score"], s.score)
        rom = ((s.details or {}).get("rom_deg") or {}).get("max")
        if rom is not None:
            b["rom_deg"] = rom if b["rom_deg"] is None else max(b["rom_deg"], rom)
    return {"points": points, "sessions": len(current), "streak_days": streak({_day(s) for s in current}, today),
            "personal_bests": bests,
            "plans": [{**asdict(p), "start": p.start.isoformat(), **adherence(p, current, today)} for p in plans]}


def save_plan(store, user_id: uuid.UUID, plan: Plan):
    """Store a prescription as a health_event (synced like every record; the newest per exercise applies)."""
    data = {**asdict(plan), "start": plan.start.isoformat()}
    return store.health_events.add({"user_id": user_id, "event_type": PLAN_EVENT, "data": data})


def load_plans(store, user_id: uuid.UUID) -> list[Plan]:
    """The current plan per exercise (newest event wins)."""
    plans: dict[str, Plan] = {}
    for ev in store.health_events.list(owner=user_id, event_type=PLAN_EVENT, limit=10_000):
        d = ev.data
        if d.get("exercise") not in plans:  # list() is newest first
            plans[d["exercise"]] = Plan(d["exercise"], d["sets"], d["reps"], d["days_per_week"],
                                        dt.date.fromisoformat(d["start"]), d.get("weeks", 6))
    return list(plans.values())


def load_progress(store, user_id: uuid.UUID, today: dt.date | None = None) -> dict[str, Any]:
    """progress() over everything stored for a user."""
    sessions = store.therapy_sessions.list(owner=user_id, limit=100_000)
    return progress(sessions, load_plans(store, user_id), today)
