"""Joint angles and posture measures from one Pose (3D world landmarks, so they hold from any camera angle)."""
from __future__ import annotations

import numpy as np

from edge.vision.therapy.landmarks import Pose

# (joint, proximal, vertex, distal): the angle at `vertex` between the two segments, in degrees (180 = straight).
JOINTS = {
    "knee": ("hip", "knee", "ankle"),
    "hip": ("shoulder", "hip", "knee"),
    "elbow": ("shoulder", "elbow", "wrist"),
    "shoulder": ("hip", "shoulder", "elbow"),
    "ankle": ("knee", "ankle", "foot_index"),
}
UP = np.array([0.0, -1.0, 0.0])  # MediaPipe world y points down


def angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """Angle ABC in degrees."""
    u, v = a - b, c - b
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu < 1e-9 or nv < 1e-9:
        return float("nan")
    return float(np.degrees(np.arccos(np.clip(np.dot(u, v) / (nu * nv), -1.0, 1.0))))


def joint_landmarks(joint: str, side: str) -> tuple[str, str, str]:
    """Landmark names of a joint on one side, e.g. ("left_hip", "left_knee", "left_ankle")."""
    return tuple(f"{side}_{p}" for p in JOINTS[joint])  # type: ignore[return-value]


def joint_angle(pose: Pose, joint: str, side: str) -> float:
    """A joint's angle on one side."""
    a, b, c = (pose.point(n) for n in joint_landmarks(joint, side))
    return angle(a, b, c)


def trunk_lean(pose: Pose) -> float:
    """Angle of the trunk (mid-hip → mid-shoulder) from vertical, in degrees (0 = upright)."""
    hip = (pose.point("left_hip") + pose.point("right_hip")) / 2
    sho = (pose.point("left_shoulder") + pose.point("right_shoulder")) / 2
    return angle(sho, hip, hip + UP)


def knee_valgus_ratio(pose: Pose) -> float:
    """Knee separation over ankle separation along the body's left-right axis; well below 1 = knees caving in
    (the knee-to-ankle separation ratio used in drop-jump and squat screening)."""
    axis = pose.point("left_hip") - pose.point("right_hip")
    n = np.linalg.norm(axis)
    if n < 1e-9:
        return float("nan")
    axis /= n
    knees = abs(float(np.dot(pose.point("left_knee") - pose.point("right_knee"), axis)))
    ankles = abs(float(np.dot(pose.point("left_ankle") - pose.point("right_ankle"), axis)))
    return knees / ankles if ankles > 0.05 else float("nan")  # feet together: the ratio means nothing


def measure(pose: Pose) -> dict[str, float]:
    """Every measure the exercise library uses: `<joint>_<side>` angles, trunk_lean, knee_valgus_ratio."""
    out = {f"{j}_{s}": joint_angle(pose, j, s) for j in JOINTS for s in ("left", "right")}
    out["trunk_lean"] = trunk_lean(pose)
    out["knee_valgus_ratio"] = knee_valgus_ratio(pose)
    return out
