"""A 0–100 session score a physiotherapist can audit: range of motion, form and tempo, each with its reasons."""
from __future__ import annotations

from dataclasses import dataclass

from edge.vision.therapy.exercises import Exercise
from edge.vision.therapy.reps import Rep

WEIGHTS = {"range": 50, "form": 30, "tempo": 20}


@dataclass
class Score:
    """The score, its parts (points per component) and one readable reason per component."""

    total: float
    parts: dict[str, float]
    reasons: list[str]


def _range_credit(ex: Exercise, rep: Rep) -> float:
    if rep.reached_target:
        return 1.0
    start = rep.extreme_deg + rep.rom_deg if ex.direction == "flex" else rep.extreme_deg - rep.rom_deg
    needed = abs(start - ex.target)
    return max(0.0, min(1.0, rep.rom_deg / needed)) if needed > 0 else 1.0


def score(ex: Exercise, reps: list[Rep], visible_fraction: float = 1.0) -> Score:
    """Score a session's reps (0 when none were counted)."""
    reasons: list[str] = []
    if visible_fraction < 0.8:
        reasons.append(f"body fully visible in only {visible_fraction:.0%} of frames: reps while hidden do not "
                       "count")
    if not reps:
        return Score(0.0, {k: 0.0 for k in WEIGHTS}, ["no complete repetition was counted", *reasons])
    n = len(reps)
    reached = sum(r.reached_target for r in reps)
    range_pts = WEIGHTS["range"] * sum(_range_credit(ex, r) for r in reps) / n
    reasons.append(f"range: {reached}/{n} reps reached the target ({ex.target:.0f}° {ex.joint}) "
                   f"→ {range_pts:.0f}/{WEIGHTS['range']}")
    clean = sum(not r.faults for r in reps)
    form_pts = WEIGHTS["form"] * clean / n
    faults: dict[str, int] = {}
    for r in reps:
        for f in r.faults:
            faults[f] = faults.get(f, 0) + 1
    detail = ", ".join(f"{k.replace('_', ' ')} in {v}" for k, v in sorted(faults.items()))
    reasons.append(f"form: {clean}/{n} reps without a fault" + (f" ({detail})" if detail else "")
                   + f" → {form_pts:.0f}/{WEIGHTS['form']}")
    lo, hi = ex.ideal_rep_s
    steady = sum(lo <= r.duration_s <= hi for r in reps)
    tempo_pts = WEIGHTS["tempo"] * steady / n
    reasons.append(f"tempo: {steady}/{n} reps took {lo:g}–{hi:g} s → {tempo_pts:.0f}/{WEIGHTS['tempo']}")
    parts = {"range": round(range_pts, 1), "form": round(form_pts, 1), "tempo": round(tempo_pts, 1)}
    return Score(round(range_pts + form_pts + tempo_pts, 1), parts, reasons)
