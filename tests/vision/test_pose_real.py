"""MediaPipe's bundled pose model on real photographs shipped in packages, and bad video input."""
from __future__ import annotations

import numpy as np
import pytest

from edge.vision.therapy import session
from edge.vision.therapy.frames import video_frames
from edge.vision.therapy.landmarks import INDEX
from edge.vision.therapy.pose import PoseEstimator
from protocol.errors import InputError

pytestmark = pytest.mark.heavy


@pytest.fixture(scope="module")
def astronaut():
    from skimage import data

    return data.astronaut()  # NASA portrait of Eileen Collins: head, shoulders, arms; hips at the frame's edge


@pytest.fixture(scope="module")
def estimator():
    est = PoseEstimator(video=False)
    yield est
    est.close()


def test_landmarks_on_a_real_photo_are_plausible(estimator, astronaut):
    pose = estimator.detect(astronaut)
    assert pose is not None and pose.world.shape == (33, 3)
    img, vis = pose.image, pose.visibility
    nose, ls, rs = img[INDEX["nose"]], img[INDEX["left_shoulder"]], img[INDEX["right_shoulder"]]
    assert vis[INDEX["nose"]] > 0.9 and vis[INDEX["left_shoulder"]] > 0.9 and vis[INDEX["right_shoulder"]] > 0.9
    assert nose[1] < ls[1] and nose[1] < rs[1]  # the head is above the shoulders
    assert min(ls[0], rs[0]) < nose[0] < max(ls[0], rs[0])  # and between them
    # shoulder width in the world frame is a human one (MediaPipe world coordinates are metres)
    width = np.linalg.norm(pose.point("left_shoulder") - pose.point("right_shoulder"))
    assert 0.2 < width < 0.6


def test_half_body_photo_is_gated_no_reps(estimator, astronaut):
    pose = estimator.detect(astronaut)
    # legs are out of the picture: a squat cannot be judged, whatever the landmarks say
    assert not pose.visible(["left_knee", "left_ankle"]) and not pose.visible(["right_knee", "right_ankle"])
    result = session.analyse_poses("squat", [(i / 30, pose) for i in range(60)])
    assert result.reps == 0 and result.visible_fraction == 0


def test_no_person_no_landmarks(estimator):
    from skimage import data

    coffee = data.coffee()  # a cup of coffee: no person
    assert estimator.detect(coffee) is None
    assert estimator.detect(np.zeros((480, 640, 3), np.uint8)) is None


def test_empty_frame_is_refused(estimator):
    with pytest.raises(InputError, match="empty or malformed frame"):
        estimator.detect(np.zeros((0, 0, 3), np.uint8))
    with pytest.raises(InputError):
        estimator.detect(np.zeros((480, 640), np.uint8))


def test_video_of_a_still_person_counts_no_reps(tmp_path, astronaut):
    import cv2

    path = tmp_path / "still.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (512, 512))
    for _ in range(15):
        writer.write(cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    writer.release()
    result = session.analyse_video(path, "elbow_flexion")
    assert result.frames == 15 and result.reps == 0 and result.duration_s == pytest.approx(14 / 15, abs=0.01)


def test_video_with_no_readable_frames(tmp_path):
    import cv2

    empty = tmp_path / "empty.avi"
    writer = cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 15, (64, 64))
    writer.release()
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42 but nothing else")
    for path in (empty, junk):
        with pytest.raises(InputError, match="no readable frames|cannot open"):
            list(video_frames(path))
    with pytest.raises(InputError, match="no such video"):
        session.analyse_video(tmp_path / "missing.mp4", "squat")
