"""A therapy session: frames or phone landmarks in → reps, score and feedback out → a therapy_sessions row."""
from __future__ import annotations

import os
import statistics
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edge.vision.therapy import exercises, scoring
from edge.vision.therapy.landmarks import Pose
from edge.vision.therapy.reps import RepTracker


@dataclass
class SessionResult:
    """The outcome of one exercise session."""

    exercise: str
    reps: int
    reps_by_side: dict[str, int]
    side: str
    score: float
    score_parts: dict[str, float]
    reasons: list[str]
    duration_s: float
    frames: int
    visible_fraction: float
    rom_deg: dict[str, float]
    tempo_s: float | None
    faults: dict[str, int]
    rep_list: list[dict[str, Any]]
    events: list[dict[str, Any]] = field(default_factory=list)
    person_frames: int | None = None  # frames in which the pose model found a person (None: landmarks fed in)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form."""
        return dict(self.__dict__)

    def details(self) -> dict[str, Any]:
        """What is stored in therapy_sessions.details (no images, no landmarks)."""
        return {"side": self.side, "reps_by_side": self.reps_by_side, "score_parts": self.score_parts,
                "reasons": self.reasons, "rom_deg": self.rom_deg, "tempo_s": self.tempo_s, "faults": self.faults,
                "clean_reps": sum(not r["faults"] for r in self.rep_list), "frames": self.frames,
                "visible_fraction": self.visible_fraction, "reps_detail": self.rep_list}


class LiveSession:
    """Feed frames (run through the pose model) or ready landmarks; events come back in real time."""

    def __init__(self, exercise: str, estimator=None, sides: tuple[str, ...] | None = None):
        self.exercise = exercises.get(exercise)
        self.tracker = RepTracker(self.exercise, sides)
        self._estimator = estimator
        self.person_frames: int | None = None

    def feed_pose(self, pose: Pose | None, t: float) -> list[dict[str, Any]]:
        """Advance with landmarks computed elsewhere (a phone's therapy_pose_data)."""
        return self.tracker.update(pose, t)

    def feed_frame(self, rgb: np.ndarray, t: float) -> list[dict[str, Any]]:
        """Advance with a camera frame: pose estimation then rep tracking."""
        if self._estimator is None:
            from edge.vision.therapy.pose import PoseEstimator

            self._estimator = PoseEstimator(video=True)
        pose = self._estimator.detect(rgb)
        self.person_frames = (self.person_frames or 0) + (pose is not None)
        return self.tracker.update(pose, t)

    def close(self) -> None:
        """Release the pose model, if this session started one."""
        if self._estimator is not None:
            self._estimator.close()

    def result(self) -> SessionResult:
        """Summarise the session so far."""
        tr, ex = self.tracker, self.exercise
        visible = tr.visible_frames / tr.frames if tr.frames else 0.0
        sc = scoring.score(ex, tr.reps, visible)
        roms = [r.rom_deg for r in tr.reps]
        faults: dict[str, int] = {}
        for r in tr.reps:
            for f in r.faults:
                faults[f] = faults.get(f, 0) + 1
        return SessionResult(
            exercise=ex.name, reps=len(tr.reps), reps_by_side=tr.reps_by_side(), side=tr.side(), score=sc.total,
            score_parts=sc.parts, reasons=sc.reasons, duration_s=round(tr.duration_s, 2), frames=tr.frames,
            visible_fraction=round(visible, 3),
            rom_deg={"mean": round(statistics.fmean(roms), 1), "max": max(roms)} if roms else {},
            tempo_s=round(statistics.fmean(r.duration_s for r in tr.reps), 2) if tr.reps else None,
            faults=faults, rep_list=tr.rep_dicts(), events=list(tr.events), person_frames=self.person_frames)


def analyse_poses(exercise: str, poses: Iterable[tuple[float, Pose | None]]) -> SessionResult:
    """Run a session over (t, pose) pairs."""
    live = LiveSession(exercise)
    for t, pose in poses:
        live.feed_pose(pose, t)
    return live.result()


def require_person(result: SessionResult) -> SessionResult:
    """The result, or InputError when the pose model never found anyone: that is no session (no 0-rep row, no
    streak day)."""
    if result.person_frames == 0:
        from protocol.errors import InputError

        raise InputError(f"nobody was in view in any of the {result.frames} frames: not a therapy session, "
                         "nothing saved", hint="film the whole body, side-on, in good light")
    return result


def analyse_frames(exercise: str, frames: Iterable[tuple[float, np.ndarray]], verbose: bool = False
                   ) -> SessionResult:
    """Run a session over (t, RGB frame) pairs through the pose model; refused when nobody is ever in view."""
    from edge.vision.therapy.pose import PoseEstimator

    with PoseEstimator(video=True, quiet=not verbose) as est:
        live = LiveSession(exercise, est)
        for t, rgb in frames:
            live.feed_frame(rgb, t)
        return require_person(live.result())


def analyse_video(path: str | os.PathLike, exercise: str, verbose: bool = False) -> SessionResult:
    """Run a session over a video file."""
    from edge.vision.therapy.frames import video_frames

    exercises.get(exercise)  # an unknown exercise fails before the video is opened
    return analyse_frames(exercise, video_frames(path), verbose)


def analyse_camera(index: int, exercise: str, seconds: float, verbose: bool = False) -> SessionResult:
    """Run a session on a live camera for a number of seconds."""
    from edge.vision.therapy.frames import camera_frames

    exercises.get(exercise)
    return analyse_frames(exercise, camera_frames(index, limit_s=seconds), verbose)


def save(store, user_id: uuid.UUID, result: SessionResult, pain_before: int | None = None,
         pain_after: int | None = None):
    """Store the session in therapy_sessions (validated, sealed and queued for sync by the store); a session in
    which nobody was ever in view is refused."""
    require_person(result)
    return store.therapy_sessions.add({
        "user_id": user_id, "exercise": result.exercise, "reps": result.reps, "score": result.score,
        "duration_s": result.duration_s, "pain_before": pain_before, "pain_after": pain_after,
        "details": result.details()})
