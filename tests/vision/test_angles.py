"""Joint angles and posture measures on hand-placed landmarks with known geometry."""
from __future__ import annotations

import math

import numpy as np
import pytest

from edge.vision.therapy import angles
from edge.vision.therapy.landmarks import COUNT, Pose
from edge.vision.therapy.synthetic import Body, skeleton


def pose_of(world: np.ndarray) -> Pose:
    return Pose(world=world, image=world[:, :2], visibility=np.ones(COUNT))


@pytest.mark.parametrize(("a", "c", "expected"), [
    ((1, 0, 0), (0, 1, 0), 90.0),
    ((1, 0, 0), (-1, 0, 0), 180.0),
    ((1, 0, 0), (1, 1, 0), 45.0),
    ((0, 0, 2), (0, 3, 3), 45.0),
])
def test_angle_at_vertex(a, c, expected):
    assert angles.angle(np.array(a, float), np.zeros(3), np.array(c, float)) == pytest.approx(expected)


def test_degenerate_segment_is_nan_not_an_error():
    assert math.isnan(angles.angle(np.zeros(3), np.zeros(3), np.ones(3)))


@pytest.mark.parametrize("knee", [175.0, 140.0, 90.0, 60.0])
def test_knee_angle_recovered_from_skeleton(knee):
    m = angles.measure(pose_of(skeleton(Body(knee=(knee, knee)))))
    assert m["knee_left"] == pytest.approx(knee, abs=0.5)
    assert m["knee_right"] == pytest.approx(knee, abs=0.5)


@pytest.mark.parametrize("lean", [0.0, 20.0, 45.0])
def test_trunk_lean_from_vertical(lean):
    assert angles.trunk_lean(pose_of(skeleton(Body(lean=lean)))) == pytest.approx(lean, abs=0.01)


def test_elbow_and_shoulder_angles():
    m = angles.measure(pose_of(skeleton(Body(elbow=(60.0, 175.0), abduction=(90.0, 10.0)))))
    assert m["elbow_left"] == pytest.approx(60.0, abs=0.5)
    # The hip sits 6 cm medial of the shoulder over a 50 cm trunk, so the shoulder→hip line leans
    # atan(0.06 / 0.5) = 6.84° from vertical, and the measured angle is the arm's plus that.
    lean = math.degrees(math.atan(0.06 / 0.5))
    assert m["shoulder_left"] == pytest.approx(90.0 + lean, abs=0.5)
    assert m["shoulder_right"] == pytest.approx(10.0 + lean, abs=0.5)


def test_valgus_ratio_drops_when_knees_cave_in():
    straight = angles.knee_valgus_ratio(pose_of(skeleton(Body(knee=(100.0, 100.0)))))
    caved = angles.knee_valgus_ratio(pose_of(skeleton(Body(knee=(100.0, 100.0), valgus=0.09))))
    assert straight == pytest.approx(1.0, abs=0.01)
    assert caved == pytest.approx(0.03 / 0.12, abs=0.01)  # knees 2×0.03 m apart over ankles 2×0.12 m
