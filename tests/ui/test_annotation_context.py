"""Annotation contexts in the viewer: class ids take the context's colors and labels (nearest
ancestor's context, static or at the cursor), keypoints their own and their connections as lines,
segmentation images the class colors; ids without a context (or not in it) keep the stable color."""

from __future__ import annotations

import math

import numpy as np
import pytest

import rerun_zmq as rr
from ui.annotations import AnnotationResolver
from ui.scene import auto_color, build_scene, class_colors
from ui.views.scene2d import build_scene2d

from ._viewer2 import color_count, headless_viewer, region
from .test_view_drawing import load, look, record

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)


def point_colors(scene) -> dict[str, np.ndarray]:
    return {p: scene.points.colors[k][:, :3] for k, (p, _, _) in enumerate(scene.points.owners)}


def tree(rec):
    """/a has a context (1 red, 2 "two" without color); /a/b overrides class 1 as blue."""
    rr.log("a", rr.AnnotationContext([(1, "one", RED), (2, "two")]), static=True, recording=rec)
    rr.log("a/b", rr.AnnotationContext([rr.AnnotationInfo(id=1, label="uno", color=BLUE)]), static=True,
           recording=rec)  # fmt: skip
    big = rr.Radius.ui_points(5)
    rr.log("a/pts", rr.Points3D([[0, 0, 0], [2, 0, 0], [4, 0, 0]], class_ids=[1, 2, 9], radii=big), recording=rec)
    rr.log("a/b/c/pts", rr.Points3D([[0, 2, 0]], class_ids=[1], radii=big), recording=rec)
    rr.log("a/b/explicit", rr.Points3D([[0, 2, 0]], class_ids=[1], colors=GREEN), recording=rec)
    rr.log("free/pts", rr.Points3D([[0, 3, 0], [1, 3, 0]], class_ids=[1, 2]), recording=rec)


def test_classes_take_the_nearest_ancestors_context_colour_else_the_stable_one(tmp_path):
    state = load(record(str(tmp_path / "tree.rrd"), tree))
    colors = point_colors(build_scene(state))
    assert colors["/a/pts"][0].tolist() == list(RED)
    assert colors["/a/pts"][1].tolist() == class_colors(np.array([2]))[0, :3].tolist()  # in context, no color
    assert colors["/a/pts"][2].tolist() == auto_color("class 9")[:3].tolist()  # not in the context
    assert colors["/a/b/c/pts"][0].tolist() == list(BLUE)  # /a/b is nearer than /a
    assert colors["/a/b/explicit"][0].tolist() == list(GREEN)  # explicit colors win
    assert (colors["/free/pts"] == class_colors(np.array([1, 2]))[:, :3]).all()  # no context: fallback


def test_resolver_walks_up_and_memoizes(tmp_path):
    state = load(record(str(tmp_path / "tree.rrd"), tree))
    resolver = AnnotationResolver(state.store, "frame", 0)
    assert resolver.resolve("/a/b/c/pts").source == "/a/b"
    assert resolver.resolve("/a/pts").source == "/a"
    assert resolver.resolve("/free/pts") is None
    assert resolver.resolve("/a/b/c/pts") is resolver.resolve("/a/b/c")  # memo shared by siblings


def test_context_at_the_cursor(tmp_path):
    def log(rec):
        rr.log("pts", rr.Points3D([[0, 0, 0]], class_ids=[4]), recording=rec)
        rr.log("/", rr.AnnotationContext([(4, "x", RED)]), recording=rec)
        rr.set_time_sequence("frame", 5, recording=rec)
        rr.log("/", rr.AnnotationContext([(4, "x", YELLOW)]), recording=rec)

    state = load(record(str(tmp_path / "t.rrd"), log))
    state.time.timeline, state.time.cursor = "frame", 2
    assert point_colors(build_scene(state))["/pts"][0].tolist() == list(RED)
    state.time.cursor = 7
    assert point_colors(build_scene(state))["/pts"][0].tolist() == list(YELLOW)


def test_class_labels_unless_explicit_or_hidden(tmp_path):
    def log(rec):
        rr.log("w", rr.AnnotationContext([(1, "car", RED), (2, None, GREEN)]), static=True, recording=rec)
        rr.log("w/cars", rr.Points3D([[0, 0, 0], [1, 0, 0]], class_ids=[1, 2]), recording=rec)
        rr.log("w/one", rr.Boxes3D(half_sizes=[[1, 1, 1]], class_ids=1), recording=rec)
        rr.log("w/named", rr.Points3D([[0, 0, 0]], class_ids=[1], labels=["mine"]), recording=rec)
        rr.log("w/hidden", rr.Points3D([[0, 0, 0]], class_ids=[1], show_labels=False), recording=rec)

    scene = build_scene(load(record(str(tmp_path / "l.rrd"), log)))
    labels = {ls.path: [t.as_py() if hasattr(t, "as_py") else t for t in ls.texts] for ls in scene.labels}
    assert labels == {"/w/cars": ["car", None], "/w/one": ["car"], "/w/named": ["mine"]}


def skeleton(rec):
    person = rr.ClassDescription(
        info=rr.AnnotationInfo(id=0, label="person", color=YELLOW),
        keypoint_annotations=[rr.AnnotationInfo(0, "head", RED), rr.AnnotationInfo(1, "hand"), (2, "foot", BLUE)],
        keypoint_connections=[(0, 1), (1, 2), (0, 5)],  # keypoint 5 is absent: not drawn
    )
    rr.log("/", rr.AnnotationContext([person]), static=True, recording=rec)
    pts = [[0, 4, 0], [2, 0, 0], [0, -4, 0]]
    rr.log("body3d", rr.Points3D(pts, keypoint_ids=[0, 1, 2], radii=-6.0), recording=rec)
    rr.log("img/body2d", rr.Points2D([p[:2] for p in pts], keypoint_ids=[0, 1, 2], class_ids=0), recording=rec)


def test_keypoints_take_their_colors_and_connections_become_lines(tmp_path):
    state = load(record(str(tmp_path / "k.rrd"), skeleton))
    scene = build_scene(state)
    assert point_colors(scene)["/body3d"].tolist() == [list(RED), list(YELLOW), list(BLUE)]
    pos, cols, _ = scene.lines.arrays()
    assert np.allclose(pos, [[0, 4, 0], [2, 0, 0], [2, 0, 0], [0, -4, 0]])
    assert (cols[:, :3] == YELLOW).all()  # the class color
    labels = {ls.path: list(ls.texts) for ls in scene.labels}
    assert labels["/body3d"] == ["head", "hand", "foot"]
    s2 = build_scene2d(state, ["/img/body2d"])
    ((_, strips, strip_colors, _),) = s2.strips
    assert [s.tolist() for s in strips] == [[[0, 4], [2, 0]], [[2, 0], [0, -4]]]
    assert (strip_colors[:, :3] == YELLOW).all()


def segmentation(rec):
    seg = np.zeros((8, 12), np.uint8)
    seg[:, 4:8] = 1
    seg[:, 8:] = 7
    rr.log("cam", rr.AnnotationContext([(1, "road", (255, 0, 255))]), static=True, recording=rec)
    rr.log("cam/seg", rr.SegmentationImage(seg), recording=rec)
    rr.log("other/seg", rr.SegmentationImage(seg), recording=rec)


def test_segmentation_images_use_the_context_colors(tmp_path):
    state = load(record(str(tmp_path / "s.rrd"), segmentation))
    (img,) = build_scene2d(state, ["/cam/seg"]).images
    rgba = img[1]
    assert rgba[0, 0].tolist() == [0, 0, 0, 0]  # class 0 without a context color: transparent
    assert rgba[0, 5].tolist() == [255, 0, 255, 255]
    assert rgba[0, 9].tolist() == auto_color("class 7").tolist()  # not in the context
    (plain,) = build_scene2d(state, ["/other/seg"]).images
    assert plain[1][0, 5].tolist() == auto_color("class 1").tolist()  # no context at all


@pytest.mark.gui
def test_pixels_3d_and_2d(tmp_path):
    def log(rec):
        tree(rec)
        segmentation(rec)

    with headless_viewer(record(str(tmp_path / "px.rrd"), log)) as v:
        nodes = {n.origin: n for n in v.workspace.layout.views()}
        view = look(v, nodes["/"].view, yaw=-math.pi / 2, pitch=1.55, distance=12.0)
        img = v.gpus[view.name].read()
        assert color_count(img, RED, 30) > 40  # /a/pts class 1
        assert color_count(img, BLUE, 30) > 40  # /a/b/c/pts class 1, nearer context
        v.step()
        cam = region(v.screenshot(), v.state.ui_rects[f"view:{nodes['/cam'].name}"])
        assert color_count(cam, (255, 0, 255), 3) > 50
