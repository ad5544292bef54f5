"""Stage 1: frames in — a video file or a camera through OpenCV, as (seconds, RGB array) pairs."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from protocol.errors import InputError

MAX_SIDE = 640  # the pose model works at 256×256: more pixels only cost decode and resize time


def _resize(rgb: np.ndarray, max_side: int) -> np.ndarray:
    import cv2

    scale = max_side / max(rgb.shape[:2])
    return cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb


def check_frame(frame: np.ndarray) -> np.ndarray:
    """Refuse empty or malformed frames with InputError; returns the frame."""
    if not isinstance(frame, np.ndarray) or frame.size == 0 or frame.ndim != 3 or frame.shape[2] != 3:
        shape = getattr(frame, "shape", None)
        raise InputError(f"empty or malformed frame (shape {shape}); expected height×width×3")
    return frame


def _read(cap, max_side: int, fps_hint: float | None, limit_s: float | None) -> Iterator[tuple[float, np.ndarray]]:
    import cv2

    fps = cap.get(cv2.CAP_PROP_FPS) or fps_hint or 30.0
    n = 0
    try:
        while True:
            ok, bgr = cap.read()
            if not ok or bgr is None:
                break
            t = n / fps
            if limit_s is not None and t > limit_s:
                break
            n += 1
            yield t, _resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), max_side)
    finally:
        cap.release()
    if n == 0:
        raise InputError("the video has no readable frames")


def video_frames(path: str | os.PathLike, max_side: int = MAX_SIDE) -> Iterator[tuple[float, np.ndarray]]:
    """Frames of a video file with their timestamps (from the file's frame rate)."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such video file: {path}")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise InputError(f"cannot open {path.name} as a video")
    return _read(cap, max_side, None, None)


def camera_frames(index: int = 0, max_side: int = MAX_SIDE, limit_s: float | None = None
                  ) -> Iterator[tuple[float, np.ndarray]]:
    """Frames from a camera (OpenCV device index), optionally for limit_s seconds."""
    import cv2

    cap = cv2.VideoCapture(index)
    if not cap.isOpened():
        raise InputError(f"camera {index} is not available")
    return _read(cap, max_side, 30.0, limit_s)
