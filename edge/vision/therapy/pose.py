"""Stage 2: pose estimation with MediaPipe's bundled full-body model (model_complexity=1)."""
from __future__ import annotations

import contextlib
import os
import sys

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


@contextlib.contextmanager
def native_stderr_silenced(enabled: bool = True):
    """Send file descriptor 2 to /dev/null for the block: MediaPipe's C++ side (absl, glog, TFLite) writes its
    INFO/WARNING lines there directly, past Python's logging, so only the descriptor itself can quiet them."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class PoseEstimator:
    """A MediaPipe pose graph; video mode tracks between frames (faster), image mode treats each on its own.

    `quiet` (the default) silences MediaPipe's native log lines while it starts and runs; pass False (the CLI's
    --verbose) to see them.
    """

    def __init__(self, video: bool = True, min_detection_confidence: float = 0.5, quiet: bool = True):
        self.video = video
        self.quiet = quiet
        self._min_det = min_detection_confidence
        self._pose = None

    def _graph(self):
        if self._pose is None:  # built lazily, once: graph start-up is the expensive part
            try:
                with native_stderr_silenced(self.quiet):
                    self._pose = _solutions().Pose(static_image_mode=not self.video,
                                                   model_complexity=MODEL_COMPLEXITY,
                                                   min_detection_confidence=self._min_det)
            except Exception as exc:
                raise ModelError(f"cannot start the pose model: {exc}") from exc
        return self._pose

    def detect(self, rgb: np.ndarray) -> Pose | None:
        """Landmarks of the person in an RGB frame, or None when there is nobody."""
        check_frame(rgb)
        frame = np.ascontiguousarray(rgb, dtype=np.uint8)
        graph = self._graph()
        with native_stderr_silenced(self.quiet):
            found = graph.process(frame)
        return from_mediapipe(found)

    def close(self) -> None:
        """Release the graph."""
        if self._pose is not None:
            with native_stderr_silenced(self.quiet):
                self._pose.close()
            self._pose = None

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
