"""Body landmarks (MediaPipe's 33-point topology) from the on-device model or from a phone's own estimate."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from protocol.errors import InputError

NAMES = [
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
]
INDEX = {n: i for i, n in enumerate(NAMES)}
COUNT = len(NAMES)


@dataclass
class Pose:
    """One frame's landmarks: 3D world coordinates (metres, hip-centred, y down), image coords (0–1), visibility."""

    world: np.ndarray  # (33, 3)
    image: np.ndarray  # (33, 2)
    visibility: np.ndarray  # (33,)

    def point(self, name: str) -> np.ndarray:
        """World coordinates of a landmark by name."""
        return self.world[INDEX[name]]

    def visible(self, names: list[str] | tuple[str, ...], threshold: float = 0.5) -> bool:
        """Whether every named landmark is visible with at least `threshold` confidence."""
        return bool(all(self.visibility[INDEX[n]] >= threshold for n in names))

    def to_payload(self) -> dict[str, Any]:
        """The `therapy_pose_data` wire shape: a list of 33 {x, y, z, visibility} plus world coordinates."""
        return {"landmarks": [{"x": float(x), "y": float(y), "z": 0.0, "visibility": float(v)}
                              for (x, y), v in zip(self.image, self.visibility, strict=True)],
                "world_landmarks": [{"x": float(x), "y": float(y), "z": float(z)} for x, y, z in self.world]}


def from_mediapipe(result) -> Pose | None:
    """A Pose from an `mp.solutions.pose` result, or None when no person was found."""
    if result.pose_landmarks is None or result.pose_world_landmarks is None:
        return None
    img = result.pose_landmarks.landmark
    world = result.pose_world_landmarks.landmark
    return Pose(world=np.array([[p.x, p.y, p.z] for p in world], dtype=np.float64),
                image=np.array([[p.x, p.y] for p in img], dtype=np.float64),
                visibility=np.array([p.visibility for p in img], dtype=np.float64))


def _points(items: Any, field: str) -> np.ndarray:
    if not isinstance(items, list) or len(items) != COUNT:
        raise InputError(f"{field} must be a list of {COUNT} landmarks")
    try:
        return np.array([[float(p["x"]), float(p["y"]), float(p.get("z", 0.0)), float(p.get("visibility", 1.0))]
                         for p in items], dtype=np.float64)
    except (TypeError, KeyError, ValueError) as exc:
        raise InputError(f"{field}: each landmark needs numeric x and y ({exc})") from None


def from_payload(payload: dict[str, Any], aspect: float = 4 / 3) -> Pose:
    """A Pose from a phone's `therapy_pose_data` message; image-only landmarks are scaled by the aspect ratio
    (width/height) so that angles are not squashed."""
    if not isinstance(payload, dict):
        raise InputError("therapy_pose_data must be an object")
    image = _points(payload.get("landmarks"), "landmarks")
    if not np.isfinite(image).all():
        raise InputError("landmarks contain non-finite numbers")
    if payload.get("world_landmarks") is not None:
        world = _points(payload["world_landmarks"], "world_landmarks")[:, :3]
    else:
        world = np.column_stack([image[:, 0] * aspect, image[:, 1], image[:, 2] * aspect])
    return Pose(world=world, image=image[:, :2], visibility=np.clip(image[:, 3], 0.0, 1.0))
