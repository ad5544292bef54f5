"""The exercise library: each exercise declared by a joint angle, thresholds with hysteresis, and form faults."""
from __future__ import annotations

from dataclasses import dataclass, field

from protocol.errors import InputError


@dataclass(frozen=True)
class Fault:
    """A form fault: `measure` (`{side}` is filled in) compared with `threshold` while a rep is in motion."""

    name: str
    measure: str
    op: str  # "<" or ">"
    threshold: float
    message: str
    needs: tuple[str, ...] = ()  # extra landmarks (both sides) that must be visible to judge it

    def hit(self, value: float) -> bool:
        """Whether a measured value shows the fault."""
        return value < self.threshold if self.op == "<" else value > self.threshold


@dataclass(frozen=True)
class Exercise:
    """An exercise: the angle of `joint` moves from rest past `enter` (rep in motion) and back past `exit`.

    direction "flex": the angle decreases during the effort (squat); "extend": it increases (shoulder abduction).
    The gap between enter and exit is the hysteresis band that keeps noise from counting extra reps. `target` is
    the angle that counts as full range; `count_at` "return" counts a rep on coming back, "peak" on reaching enter.
    """

    name: str
    title: str
    joint: str
    direction: str
    enter: float
    exit: float
    target: float
    bilateral: bool
    landmarks: tuple[str, ...]  # per side, without the side prefix
    faults: tuple[Fault, ...] = ()
    count_at: str = "return"
    cue: str = ""
    min_rep_s: float = 0.5
    ideal_rep_s: tuple[float, float] = (1.5, 6.0)
    points_per_rep: int = 10
    extra: dict = field(default_factory=dict)

    def past(self, angle: float, threshold: float) -> bool:
        """Whether an angle is beyond a threshold in the effort direction."""
        return angle < threshold if self.direction == "flex" else angle > threshold

    def reached_target(self, extreme: float) -> bool:
        """Whether a rep's extreme angle reached the target range."""
        return extreme <= self.target if self.direction == "flex" else extreme >= self.target


_TRUNK = Fault("trunk_lean", "trunk_lean", ">", 45, "Keep your chest up: the trunk leans {value:.0f}° forward")
_VALGUS = Fault("knee_valgus", "knee_valgus_ratio", "<", 0.75, "Push your knees out, in line with your toes",
                needs=("hip", "knee", "ankle"))

LIBRARY: dict[str, Exercise] = {e.name: e for e in (
    Exercise("squat", "Squat", "knee", "flex", enter=120, exit=160, target=95, bilateral=True,
             landmarks=("shoulder", "hip", "knee", "ankle"), faults=(_TRUNK, _VALGUS),
             cue="Bend your knees to about 90°, chest up, knees over toes"),
    Exercise("sit_to_stand", "Sit to stand", "knee", "extend", enter=155, exit=115, target=165, bilateral=True,
             landmarks=("shoulder", "hip", "knee", "ankle"), count_at="peak", min_rep_s=0.25,
             ideal_rep_s=(0.3, 3.0),  # counted on standing up: the tempo is the rise alone
             faults=(_VALGUS, Fault("trunk_lean", "trunk_lean", ">", 55,
                                    "Lean forward less as you rise: the trunk leans {value:.0f}°")),
             cue="Stand up fully without using your hands, then sit back down slowly"),
    Exercise("shoulder_abduction", "Shoulder abduction", "shoulder", "extend", enter=70, exit=35, target=90,
             bilateral=False, landmarks=("hip", "shoulder", "elbow", "wrist"),
             faults=(Fault("bent_elbow", "elbow_{side}", "<", 140, "Keep your arm straight (elbow at {value:.0f}°)"),
                     Fault("trunk_lean", "trunk_lean", ">", 15,
                           "Keep your trunk upright: leaning {value:.0f}° to lift the arm")),
             cue="Raise your straight arm out to the side to shoulder height"),
    Exercise("elbow_flexion", "Elbow flexion", "elbow", "flex", enter=90, exit=140, target=50, bilateral=False,
             landmarks=("shoulder", "elbow", "wrist", "hip"),
             faults=(Fault("swinging_arm", "shoulder_{side}", ">", 35,
                           "Keep your upper arm still at your side (it swings {value:.0f}°)"),),
             cue="Bend your elbow fully, upper arm still"),
    Exercise("knee_extension", "Seated knee extension", "knee", "extend", enter=140, exit=115, target=165,
             bilateral=False, landmarks=("hip", "knee", "ankle"),
             faults=(Fault("trunk_lean", "trunk_lean", ">", 30,
                           "Sit upright: leaning {value:.0f}° back to lift the leg"),),
             cue="Straighten your knee fully, then lower slowly"),
    Exercise("heel_raise", "Heel raise", "ankle", "extend", enter=127, exit=120, target=135, bilateral=True,
             landmarks=("knee", "ankle", "foot_index"), min_rep_s=0.4, ideal_rep_s=(1.0, 5.0),
             faults=(Fault("bent_knees", "knee_{side}", "<", 150,
                           "Keep your knees straight (knee at {value:.0f}°)"),),
             cue="Rise onto your toes, then lower slowly"),
)}


def get(name: str) -> Exercise:
    """An exercise by name; InputError listing the library otherwise."""
    try:
        return LIBRARY[name]
    except KeyError:
        raise InputError(f"unknown exercise {name!r}; known: {', '.join(LIBRARY)}") from None
