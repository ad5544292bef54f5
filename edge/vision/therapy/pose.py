"""Stage 2: pose estimation with MediaPipe's bundled full-body model (model_complexity=1)."""
from __future__ import annotations

import numpy as np

from edge.vision.therapy.frames import check_frame
from edge.vision.therapy.landmarks import Pose, from_mediapipe
from protocol.errors import MissingDependencyError, ModelError

# mediapipe 0.10.21 wheels bundle only pose_landmark_full.tflite: complexity 0 and 2 would try to download.
MODEL_COMPLEXITY = 1


def _solutions():
    try:
        import mediapipe as mp
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingDependencyError("mediapipe", "vision") from exc
    return mp.solutions.pose


class PoseEstimator:
    """A MediaPipe pose graph; video mode tracks between frames (faster), image mode treats each on its own."""

    def __init__(self, video: bool = True, min_detection_confidence: float = 0.5):
        self.video = video
        self._min_det = min_detection_confidence
        self._pose = None

    def _graph(self):
        if self._pose is None:  # built lazily, once: graph start-up is the expensive part
            try:
                self._pose = _solutions().Pose(static_image_mode=not self.video, model_complexity=MODEL_COMPLEXITY,
                                               min_detection_confidence=self._min_det)
            except Exception as exc:
                raise ModelError(f"cannot start the pose model: {exc}") from exc
        return self._pose

    def detect(self, rgb: np.ndarray) -> Pose | None:
        """Landmarks of the person in an RGB frame, or None when there is nobody."""
        check_frame(rgb)
        frame = np.ascontiguousarray(rgb, dtype=np.uint8)
        return from_mediapipe(self._graph().process(frame))

    def close(self) -> None:
        """Release the graph."""
        if self._pose is not None:
            self._pose.close()
            self._pose = None

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
