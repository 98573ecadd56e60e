"""Viewer logic without OpenGL: camera, geometry of each renderer, time text, tree, visibility, playback."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from ui.camera import OrbitCamera
from ui.panels.entity_tree import build_tree
from ui.renderers.arrows3d import arrow_segments
from ui.renderers.boxes3d import box_segments
from ui.renderers.linestrips3d import strips_to_segments
from ui.state import AppState
from ui.timefmt import format_time, parse_time


def project(cam: OrbitCamera, pts: np.ndarray, aspect: float = 1.5) -> np.ndarray:
    clip = np.c_[pts, np.ones(len(pts))] @ cam.view_proj(aspect).T
    return clip[:, :3] / clip[:, 3:4]


def test_fit_puts_the_whole_box_in_view():
    cam = OrbitCamera()
    lo, hi = np.array([-1.0, 2.0, 0.0]), np.array([3.0, 5.0, 8.0])
    cam.fit(lo, hi)
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    ndc = project(cam, corners)
    assert np.all(np.abs(ndc[:, :2]) <= 1.0) and np.all(np.abs(ndc[:, 2]) < 1.0)
    assert np.allclose(cam.target, (lo + hi) / 2)


def test_rotate_zoom_pan_and_reset():
    cam = OrbitCamera()
    cam.fit(np.zeros(3), np.ones(3))
    home = (cam.target.copy(), cam.distance, cam.yaw, cam.pitch)
    cam.rotate(100, 10_000)
    assert cam.pitch <= 1.55 and cam.yaw != home[2] and cam.user_moved
    d = cam.distance
    cam.zoom(2)
    assert cam.distance < d
    cam.pan(50, 0, 500)
    assert not np.allclose(cam.target, home[0])
    cam.reset()
    assert np.allclose(cam.target, home[0]) and cam.distance == home[1] and cam.yaw == home[2]


def test_box_arrow_and_strip_geometry():
    seg = box_segments(np.zeros((2, 3), np.float32), np.ones((2, 3), np.float32))
    assert seg.shape == (48, 3) and np.abs(seg).max() == 1.0
    arrows = arrow_segments(np.zeros((3, 3), np.float32), np.eye(3, dtype=np.float32))
    assert arrows.shape == (30, 3)
    assert np.allclose(arrows[1], [1, 0, 0])  # shaft ends at origin + vector
    strips = pa.array(
        [[[0, 0, 0], [1, 0, 0], [1, 1, 0]], [[5, 5, 5]], [[0, 0, 1], [0, 0, 2]]],
        type=pa.list_(pa.list_(pa.float32(), 3)),
    )
    seg, owner = strips_to_segments(strips)
    assert seg.shape == (6, 3) and owner.tolist() == [0, 0, 2]  # a 1-point strip draws nothing


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("sequence", "42", 42),
        ("duration", "1.5", 1_500_000_000),
        ("duration", "2s", 2_000_000_000),
        ("timestamp", "1700000000", 1_700_000_000_000_000_000),
        ("timestamp", "2023-11-14T22:13:20Z", 1_700_000_000_000_000_000),
    ],
)
def test_time_text_round_trips(kind, text, value):
    assert parse_time(text, kind) == value
    assert parse_time(format_time(value, kind), kind) == value


def test_tree_has_implicit_parents():
    root = build_tree(["/a/b/c", "/a/d", "/e"])
    assert list(root.children) == ["a", "e"]
    a = root.children["a"]
    assert not a.logged and a.path == "/a"
    assert a.children["b"].children["c"].logged and a.children["b"].children["c"].path == "/a/b/c"


def test_visibility_of_subtrees():
    s = AppState(store=None)
    s.toggle_visible("/a")
    assert not s.is_visible("/a/b") and s.is_visible("/ab")
    s.toggle_visible("/a/b")  # shown again by un-hiding the hidden ancestor
    assert s.is_visible("/a/b") and s.is_visible("/a")
    s.toggle_visible("/a/b")
    assert not s.is_visible("/a/b/c") and s.is_visible("/a/x")


class _Store:
    def __init__(self, lo, hi, kind="sequence"):
        self.rng, self.kind = (lo, hi), kind

    def time_range(self, name):
        return self.rng

    def timelines(self):
        return {"frame": self.kind}


def test_playback_advances_loops_and_parks_at_the_end():
    from ui import playback

    s = AppState(store=_Store(0, 100))
    s.time.timeline, s.time.kind, s.time.cursor = "frame", "sequence", 0
    playback.toggle_play(s)
    playback.advance(s, 1.0)  # 30 steps per second at speed 1
    assert s.time.cursor == 30
    playback.advance(s, 10.0)
    assert s.time.cursor == 100 and not s.time.playing and s.time.follow
    s.time.loop = True
    playback.toggle_play(s)
    assert s.time.cursor == 0  # play from the start when parked at the end
    playback.advance(s, 3.4)
    assert s.time.cursor == 0 and s.time.playing  # wrapped around
    s.time.times = {"frame": np.array([0, 10, 20])}
    s.time.cursor = 10
    playback.step(s, +1)
    assert s.time.cursor == 20 and not s.time.playing
    playback.step(s, +1)
    assert s.time.cursor == 0  # loop wraps stepping too
    playback.step(s, -1)
    assert s.time.cursor == 20
    assert math.isclose(s.time.speed, 1.0)


@pytest.mark.parametrize(("axis", "sign"), [(2, 1), (1, 1), (0, -1), (2, -1)])
def test_up_basis_is_right_handed_and_orbits_about_up(axis, sign):
    from ui.camera import up_basis

    basis = up_basis(axis, sign)
    assert np.isclose(np.linalg.det(basis), 1.0)
    assert basis[axis, 2] == sign
    cam = OrbitCamera(basis=basis)
    cam.pitch = 1.5  # almost straight above: the eye sits along "up"
    assert (cam.eye() - cam.target)[axis] * sign > 0.9 * cam.distance


def test_rotated_boxes_turn_their_corners():
    from ui.renderers.boxes3d import box_segments

    quarter = np.array([[[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]])  # 90 degrees about Z
    seg = box_segments(np.zeros((1, 3), np.float32), np.array([[2.0, 1.0, 0.5]], np.float32), quarter)
    assert np.isclose(np.abs(seg[:, 0]).max(), 1.0) and np.isclose(np.abs(seg[:, 1]).max(), 2.0)
