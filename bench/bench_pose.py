"""Pose pipeline speed: our therapy pipeline vs bare `mp.solutions.pose` on the same 640×480 frames.

Targets (issue 6): ≥ 25 frames/s, overhead ≤ 1.2× the bare model. Run: .venv/bin/python bench/bench_pose.py [--quick]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def frames(n: int):
    """640×480 frames of a real photograph (skimage's astronaut) drifting a few pixels, like a handheld video."""
    import numpy as np
    from skimage import data

    person = data.astronaut()
    out = []
    for i in range(n):
        canvas = np.full((480, 640, 3), 90, np.uint8)
        dx, dy = int(40 + 20 * np.sin(i / 10)), int(-16 + 8 * np.cos(i / 7))
        y0, y1 = max(0, dy), min(480, dy + 512)
        canvas[y0:y1, dx:dx + 512] = person[y0 - dy:y1 - dy]
        out.append(canvas)
    return out


def bare(imgs) -> float:
    """Seconds for the bare MediaPipe graph over the frames (video mode, model_complexity=1)."""
    import mediapipe as mp

    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
        pose.process(imgs[0])  # graph start-up is not per-frame cost
        t = time.perf_counter()
        for img in imgs:
            pose.process(img)
        return time.perf_counter() - t


def ours(imgs) -> float:
    """Seconds for our pipeline: pose → landmarks → angles → rep tracker → feedback events."""
    from edge.vision.therapy.pose import PoseEstimator
    from edge.vision.therapy.session import LiveSession

    est = PoseEstimator(video=True)
    live = LiveSession("elbow_flexion", est)
    live.feed_frame(imgs[0], 0.0)
    t = time.perf_counter()
    for i, img in enumerate(imgs):
        live.feed_frame(img, (i + 1) / 30)
    elapsed = time.perf_counter() - t
    live.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="60 frames × 1 round instead of 300 × 3")
    args = ap.parse_args()
    n, rounds = (60, 1) if args.quick else (300, 3)
    imgs = frames(n)
    b, o = [], []
    for _ in range(rounds):  # alternate so that machine load hits both sides alike
        b.append(bare(imgs))
        o.append(ours(imgs))
    tb, to = statistics.median(b), statistics.median(o)
    print(f"frames: {n} × {rounds} rounds at 640×480")
    print(f"bare mp.solutions.pose : {n / tb:6.1f} fps ({1000 * tb / n:.1f} ms/frame)")
    print(f"healthsync pipeline    : {n / to:6.1f} fps ({1000 * to / n:.1f} ms/frame)")
    print(f"overhead ratio         : {to / tb:.3f}× (target ≤ 1.2×); target ≥ 25 fps: "
          f"{'met' if n / to >= 25 else 'NOT met'}")


if __name__ == "__main__":
    main()
