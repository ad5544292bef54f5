"""Rep counting with hysteresis, range of motion, tempo, form faults and visibility gating, frame by frame."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from edge.vision.therapy.angles import measure
from edge.vision.therapy.exercises import Exercise
from edge.vision.therapy.landmarks import Pose

VISIBILITY = 0.5  # MediaPipe's own default presence/visibility threshold
MAX_GAP_S = 0.5  # a rep whose body is hidden longer than this is abandoned, not counted
FAULT_FRAMES = 2  # consecutive frames a fault must show, so one noisy frame raises nothing


@dataclass
class Rep:
    """One completed repetition."""

    number: int
    side: str
    start_t: float
    end_t: float
    extreme_deg: float
    rom_deg: float
    reached_target: bool
    faults: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        """Time from leaving rest to the count."""
        return self.end_t - self.start_t


@dataclass
class _Channel:
    """The state machine of one side (or of both sides averaged, for bilateral exercises)."""

    side: str
    moving: bool = False
    rest_t: float | None = None  # last time seen at rest: where the next rep starts
    start_angle: float = math.nan
    extreme: float = math.nan
    faults: dict[str, int] = field(default_factory=dict)  # fault → consecutive frames seen
    flagged: list[str] = field(default_factory=list)
    last_seen: float | None = None
    counted: bool = False  # for count_at="peak": counted, waiting to return to rest


class RepTracker:
    """Feeds on (pose, t) pairs; `update` returns the `therapy_feedback` events to show now."""

    def __init__(self, exercise: Exercise, sides: tuple[str, ...] | None = None):
        self.exercise = exercise
        self.reps: list[Rep] = []
        self.frames = 0
        self.visible_frames = 0
        self.first_t: float | None = None
        self.last_t: float | None = None
        self.events: list[dict[str, Any]] = []
        self._hidden_warned = False
        names = ("both",) if exercise.bilateral else (sides or ("left", "right"))
        self._channels = {s: _Channel(s) for s in names}

    # ------------------------------------------------------------------ per frame

    def _event(self, kind: str, t: float, message: str, **extra) -> dict[str, Any]:
        ev = {"type": "therapy_feedback", "exercise": self.exercise.name, "kind": kind, "t": round(t, 3),
              "message": message, **extra}
        self.events.append(ev)
        return ev

    def _visible_sides(self, pose: Pose | None) -> list[str]:
        if pose is None:
            return []
        need = self.exercise.landmarks
        return [s for s in ("left", "right") if pose.visible([f"{s}_{n}" for n in need], VISIBILITY)]

    def update(self, pose: Pose | None, t: float) -> list[dict[str, Any]]:
        """Advance by one frame at time t (seconds); pose None means no person was found."""
        if self.first_t is None:
            self.first_t = t
        self.last_t = t
        self.frames += 1
        out: list[dict[str, Any]] = []
        visible = self._visible_sides(pose)
        if visible:
            self.visible_frames += 1
            self._hidden_warned = False
        elif not self._hidden_warned:
            self._hidden_warned = True
            out.append(self._event("visibility", t, "Step back so your whole body is in view" if pose is None
                                   else "Part of your body is hidden: reps are paused until it is visible"))
        m = measure(pose) if visible else {}
        for ch in self._channels.values():
            sides = visible if ch.side == "both" else [s for s in visible if s == ch.side]
            if not sides:
                out.extend(self._gap(ch, t))
                continue
            joint = self.exercise.joint
            value = sum(m[f"{joint}_{s}"] for s in sides) / len(sides)
            out.extend(self._step(ch, value, m, sides, pose, t))
        return out

    def _gap(self, ch: _Channel, t: float) -> list[dict[str, Any]]:
        if ch.moving and ch.last_seen is not None and t - ch.last_seen > MAX_GAP_S:
            ch.moving, ch.counted, ch.rest_t, ch.start_angle = False, False, None, math.nan
            return [self._event("rep_abandoned", t, "Lost sight of you mid-rep: that one did not count",
                                side=ch.side)]
        return []

    def _step(self, ch: _Channel, value: float, m: dict, sides: list[str], pose: Pose, t: float) -> list[dict]:
        ex = self.exercise
        out: list[dict[str, Any]] = []
        ch.last_seen = t
        if math.isnan(value):
            return out
        if not ch.moving:
            # The rep's range is measured from the most rested angle seen since the last rep ended.
            rested = max if ex.direction == "flex" else min
            ch.start_angle = value if math.isnan(ch.start_angle) else rested(ch.start_angle, value)
            if ex.past(value, ex.enter):
                ch.moving = True
                ch.extreme, ch.faults, ch.flagged, ch.counted = value, {}, [], False
                if ch.rest_t is None:
                    ch.rest_t = t
            elif not ex.past(value, ex.exit):
                ch.rest_t = t  # at rest: the next rep's time starts from here
            else:
                return out
        if ch.moving:
            ch.extreme = min(ch.extreme, value) if ex.direction == "flex" else max(ch.extreme, value)
            out.extend(self._check_faults(ch, m, sides, pose, t))
            if ch.counted and self.reps and self.reps[-1].side == ch.side:
                rep = self.reps[-1]  # counted at its peak: the range keeps growing until the return
                rep.extreme_deg = round(ch.extreme, 1)
                rep.rom_deg = round(abs(ch.start_angle - ch.extreme), 1)
                rep.reached_target = ex.reached_target(ch.extreme)
            if ex.count_at == "peak" and not ch.counted and ex.past(value, ex.enter):
                ch.counted = True
                out.append(self._count(ch, t))
            if not ex.past(value, ex.exit):  # back past the exit threshold: the rep is over
                if ex.count_at == "return":
                    out.append(self._count(ch, t))
                ch.moving, ch.rest_t, ch.start_angle = False, t, math.nan
        return out

    def _check_faults(self, ch: _Channel, m: dict, sides: list[str], pose: Pose, t: float) -> list[dict]:
        out = []
        for f in self.exercise.faults:
            if f.needs and not pose.visible([f"{s}_{n}" for s in ("left", "right") for n in f.needs], VISIBILITY):
                continue
            values = [m.get(f.measure.format(side=s), math.nan) for s in sides]
            values = [v for v in values if not math.isnan(v)]
            worst = (min(values) if f.op == "<" else max(values)) if values else math.nan
            if not math.isnan(worst) and f.hit(worst):
                ch.faults[f.name] = ch.faults.get(f.name, 0) + 1
                if ch.faults[f.name] == FAULT_FRAMES and f.name not in ch.flagged:
                    ch.flagged.append(f.name)
                    if ch.counted and self.reps and self.reps[-1].side == ch.side:
                        self.reps[-1].faults.append(f.name)  # counted at its peak: the fault belongs to it
                    out.append(self._event("fault", t, f.message.format(value=worst), fault=f.name,
                                           side=ch.side, rep=len(self.reps) + (0 if ch.counted else 1),
                                           value=round(worst, 1)))
            else:
                ch.faults[f.name] = 0
        return out

    def _count(self, ch: _Channel, t: float) -> dict[str, Any]:
        ex = self.exercise
        start = ch.rest_t if ch.rest_t is not None else t
        rep = Rep(len(self.reps) + 1, ch.side, start, t, round(ch.extreme, 1),
                  round(abs(ch.start_angle - ch.extreme), 1), ex.reached_target(ch.extreme), list(ch.flagged))
        if rep.duration_s < ex.min_rep_s:
            return self._event("rep_rejected", t, "Too fast to count: slow down", side=ch.side)
        self.reps.append(rep)
        msg = f"Rep {rep.number}" + ("" if rep.reached_target else " — go a little further next time")
        return self._event("rep", t, msg, rep=rep.number, side=ch.side, rom_deg=rep.rom_deg,
                           reached_target=rep.reached_target, faults=rep.faults)

    # ------------------------------------------------------------------ summary

    @property
    def duration_s(self) -> float:
        """Seconds between the first and last frame."""
        return 0.0 if self.first_t is None else float(self.last_t - self.first_t)

    def reps_by_side(self) -> dict[str, int]:
        """Completed reps per side ("both" for bilateral exercises)."""
        out: dict[str, int] = {}
        for r in self.reps:
            out[r.side] = out.get(r.side, 0) + 1
        return out

    def side(self) -> str:
        """Which side did the work: left, right, both."""
        sides = set(self.reps_by_side())
        if self.exercise.bilateral or len(sides) != 1:
            return "both"
        return sides.pop()

    def rep_dicts(self) -> list[dict[str, Any]]:
        """Reps as plain dicts (for storage and JSON)."""
        return [{**asdict(r), "duration_s": round(r.duration_s, 2)} for r in self.reps]
