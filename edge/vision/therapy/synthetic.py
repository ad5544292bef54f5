"""Synthetic landmark sequences built from joint-angle trajectories, with known reps and faults (for tests)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from edge.vision.therapy.landmarks import COUNT, INDEX, Pose

SHIN, THIGH, TRUNK, UPPER_ARM, FOREARM = 0.42, 0.43, 0.50, 0.30, 0.27
HIP_W, SHOULDER_W, STANCE_W = 0.12, 0.18, 0.12  # feet hip-width apart
FOOT_FLAT = (0.15, 0.07)  # toe forward of the ankle, ankle height, when the foot is flat


@dataclass
class Body:
    """Joint angles (degrees) and offsets that place a whole skeleton; per-side values are (left, right)."""

    knee: tuple[float, float] = (175.0, 175.0)
    seated: bool = False
    lean: float = 0.0
    valgus: float = 0.0
    heel: tuple[float, float] = (FOOT_FLAT[1], FOOT_FLAT[1])
    abduction: tuple[float, float] = (10.0, 10.0)
    arm_forward: tuple[float, float] = (0.0, 0.0)
    elbow: tuple[float, float] = (175.0, 175.0)
    shin_share: float = 0.5  # share of knee flexion taken by the shin tilting forward (0: shin stays vertical)


def _vec(forward: float, up: float, lateral: float = 0.0) -> np.ndarray:
    # MediaPipe world axes: x lateral (person's left = +x here), y down, z away from the camera (forward = -z).
    return np.array([lateral, -up, -forward])


def skeleton(b: Body) -> np.ndarray:
    """World landmarks (33×3, metres, hip-centred) of a person facing the camera."""
    p = np.zeros((COUNT, 3))
    for i, (s, sign) in enumerate((("left", 1.0), ("right", -1.0))):
        k = math.radians(b.knee[i])
        if b.seated:
            hip = _vec(0, 0.45, sign * HIP_W)
            knee = hip + _vec(THIGH, 0, sign * 0.02)
            ankle = knee + SHIN * _vec(-math.cos(k), -math.sin(k))
        else:
            lift = b.heel[i]
            toe_fwd = math.sqrt(max(sum(v * v for v in FOOT_FLAT) - lift * lift, 1e-6))
            ankle = _vec(-toe_fwd + FOOT_FLAT[0], lift, sign * STANCE_W)
            shin = (math.pi - k) * b.shin_share  # shin and thigh share the flexion, so the hips go back
            thigh = (math.pi - k) - shin
            knee = ankle + SHIN * _vec(math.sin(shin), math.cos(shin))
            knee[0] = sign * (STANCE_W - b.valgus)
            hip = knee + THIGH * _vec(-math.sin(thigh), math.cos(thigh))
            hip[0] = sign * HIP_W
        toe = _vec(FOOT_FLAT[0], 0.0, sign * STANCE_W) if not b.seated else ankle + _vec(0.15, -0.07)
        p[INDEX[f"{s}_hip"]], p[INDEX[f"{s}_knee"]], p[INDEX[f"{s}_ankle"]] = hip, knee, ankle
        p[INDEX[f"{s}_foot_index"]] = toe
        p[INDEX[f"{s}_heel"]] = ankle + _vec(-0.05, -0.05)
    mid_hip = (p[INDEX["left_hip"]] + p[INDEX["right_hip"]]) / 2
    lean = math.radians(b.lean)
    trunk = TRUNK * _vec(math.sin(lean), math.cos(lean))
    for i, (s, sign) in enumerate((("left", 1.0), ("right", -1.0))):
        sho = mid_hip + trunk + _vec(0, 0, sign * SHOULDER_W)
        a, f = math.radians(b.abduction[i]), math.radians(b.arm_forward[i])
        # Upper arm: hanging, raised sideways by `abduction`, swung forward by `arm_forward`.
        upper = np.array([sign * math.sin(a) * math.cos(f), math.cos(a) * math.cos(f), -math.sin(f)])
        elbow = sho + UPPER_ARM * upper
        bend = math.radians(180 - b.elbow[i])
        # Forearm bends forward from the upper arm's line by (180 - elbow angle).
        fwd = np.array([0.0, 0.0, -1.0]) - np.dot([0.0, 0.0, -1.0], upper) * upper
        fwd = fwd / (np.linalg.norm(fwd) or 1.0)
        wrist = elbow + FOREARM * (math.cos(bend) * upper + math.sin(bend) * fwd)
        p[INDEX[f"{s}_shoulder"]], p[INDEX[f"{s}_elbow"]], p[INDEX[f"{s}_wrist"]] = sho, elbow, wrist
        for part in ("pinky", "index", "thumb"):
            p[INDEX[f"{s}_{part}"]] = wrist + 0.05 * (wrist - elbow) / FOREARM
    head = mid_hip + trunk * 1.35
    for n in ("nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
              "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right"):
        p[INDEX[n]] = head
    return p - mid_hip


# Per exercise: which Body field moves, its rest and effort values, and a fault → Body change to inject.
MOTION = {
    "squat": ("knee", 175.0, 85.0),
    "sit_to_stand": ("knee", 90.0, 175.0),
    "shoulder_abduction": ("abduction", 15.0, 100.0),
    "elbow_flexion": ("elbow", 170.0, 40.0),
    "knee_extension": ("knee", 90.0, 175.0),
    "heel_raise": ("heel", FOOT_FLAT[1], 0.13),
}
FAULTS = {
    "trunk_lean": {"squat": 60.0, "sit_to_stand": 65.0, "shoulder_abduction": 25.0, "knee_extension": 40.0},
    "knee_valgus": 0.09,
    "bent_elbow": 110.0,
    "swinging_arm": 55.0,
    "bent_knees": 130.0,
}


@dataclass
class Script:
    """A session to synthesise: reps with an effort value each, faults per rep, hidden time windows, noise."""

    exercise: str
    reps: int = 5
    rep_s: float = 2.5
    rest_s: float = 0.6
    fps: float = 30.0
    side: str = "left"
    effort: list[float] | None = None  # per rep; default the exercise's full effort value
    faults: dict[int, list[str]] = field(default_factory=dict)  # rep index (0-based) → fault names
    hidden: list[tuple[float, float]] = field(default_factory=list)
    noise_deg: float = 0.0
    seed: int = 0


def _body(script: Script, value: float, phase: float, faults: list[str]) -> Body:
    ex = script.exercise
    param, rest, _ = MOTION[ex]
    b = Body(seated=ex == "knee_extension")
    if ex == "sit_to_stand" or ex == "knee_extension":
        b.knee = (rest, rest)
    if param in ("knee", "heel") and ex != "knee_extension":
        setattr(b, param, (value, value))
    else:
        i = 0 if script.side == "left" else 1
        pair = [getattr(b, param)[0], getattr(b, param)[1]]
        pair[i] = value
        setattr(b, param, tuple(pair))
    weight = math.sin(math.pi * phase) ** 2  # faults peak mid-rep, like real compensations do
    for f in faults:
        if f == "trunk_lean":
            b.lean = weight * FAULTS["trunk_lean"][ex]
        elif f == "knee_valgus":
            b.valgus = weight * FAULTS["knee_valgus"]
        elif f == "bent_elbow":
            b.elbow = tuple(180 - weight * (180 - FAULTS["bent_elbow"]) for _ in range(2))
        elif f == "swinging_arm":
            i = 0 if script.side == "left" else 1
            fwd = [0.0, 0.0]
            fwd[i] = weight * FAULTS["swinging_arm"]
            b.arm_forward = tuple(fwd)
        elif f == "bent_knees":
            b.knee = tuple(180 - weight * (180 - FAULTS["bent_knees"]) for _ in range(2))
            b.shin_share = 0.0
    return b


def generate(script: Script) -> list[tuple[float, Pose]]:
    """(t, Pose) pairs for the script: rest, then each rep as a smooth rest → effort → rest cosine."""
    param, rest, effort = MOTION[script.exercise]
    rng = np.random.default_rng(script.seed)
    dt = 1.0 / script.fps
    out: list[tuple[float, Pose]] = []
    t = 0.0

    def emit(value: float, phase: float, faults: list[str]) -> None:
        nonlocal t
        world = skeleton(_body(script, value, phase, faults))
        if script.noise_deg:
            # Angular noise of about noise_deg on 0.4 m segments: jitter each point by 0.4·sin(noise) metres.
            world = world + rng.normal(0, 0.4 * math.sin(math.radians(script.noise_deg)) / 2, world.shape)
        vis = np.full(COUNT, 0.98)
        if any(a <= t < b for a, b in script.hidden):
            vis[INDEX["left_hip"]:] = 0.1  # hips, legs and feet hidden (e.g. behind a table)
            vis[INDEX["left_shoulder"]:INDEX["left_hip"]] = 0.1
        image = np.column_stack([0.5 + world[:, 0] / 2.5, 0.5 + world[:, 1] / 2.5])
        out.append((round(t, 4), Pose(world=world, image=image, visibility=vis)))
        t += dt

    for _ in range(int(script.rest_s * script.fps)):
        emit(rest, 0.0, [])
    for r in range(script.reps):
        target = script.effort[r] if script.effort else effort
        n = int(script.rep_s * script.fps)
        for i in range(n):
            phase = i / (n - 1)
            emit(rest + (target - rest) * (1 - math.cos(2 * math.pi * phase)) / 2, phase,
                 script.faults.get(r, []))
        for _ in range(int(script.rest_s * script.fps)):
            emit(rest, 0.0, [])
    return out
