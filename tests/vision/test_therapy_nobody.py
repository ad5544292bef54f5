"""Therapy without a person is not a session; MediaPipe's native log lines stay off stderr unless --verbose."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest

from edge.vision.therapy import session
from edge.vision.therapy.synthetic import Script, generate
from protocol.errors import InputError


def _coffee_video(path, frames: int = 12):
    import cv2
    from skimage import data

    cup = cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR)  # a cup of coffee: nobody in view
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (cup.shape[1], cup.shape[0]))
    for _ in range(frames):
        writer.write(cup)
    writer.release()
    return path


def test_a_session_with_nobody_is_not_saved(store, user_id):
    result = session.analyse_poses("squat", generate(Script("squat", reps=2)))
    assert result.person_frames is None  # landmarks fed in (a phone's own): a person by construction
    nobody = dataclasses.replace(result, reps=0, person_frames=0)
    with pytest.raises(InputError, match="nobody was in view"):
        session.save(store, user_id, nobody)
    assert store.therapy_sessions.count() == 0


@pytest.mark.heavy
def test_video_with_nobody_in_view_is_refused(tmp_path):
    with pytest.raises(InputError, match="nobody was in view in any of the 12 frames"):
        session.analyse_video(_coffee_video(tmp_path / "cup.avi"), "squat")


def _cli(tmp_path, *args):
    env = {**os.environ, "HEALTHSYNC_HOME": str(tmp_path), "HEALTHSYNC_KEY": "44" * 32}
    env.pop("HEALTHSYNC_PASSPHRASE", None)
    code = "import sys; from healthsync_cli import app; sys.argv[0] = 'healthsync'; app()"
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.heavy
@pytest.mark.e2e
def test_cli_refuses_nobody_and_keeps_stderr_clean_unless_verbose(tmp_path):
    video = _coffee_video(tmp_path / "cup.avi")
    quiet = _cli(tmp_path, "edge", "therapy", "run", "--exercise", "squat", str(video), "--no-save")
    assert quiet.returncode == 1 and "nobody was in view" in quiet.stderr
    # The error line and its hint, nothing from absl/glog/TFLite.
    assert "XNNPACK" not in quiet.stderr and "W0000" not in quiet.stderr and "absl" not in quiet.stderr
    loud = _cli(tmp_path, "edge", "therapy", "run", "--exercise", "squat", str(video), "--no-save", "--verbose")
    assert loud.returncode == 1 and "XNNPACK" in loud.stderr  # the net above really removed something
