"""Drawing gaps of the 3D/2D views from the last review, each fixed in ``ui/``: line radii (world
and pixel), solid Boxes3D, instance labels (capped), class-id colors, a 3D view's origin re-basing
its scene, and picking naming the line strip (not the segment)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

import rerun_zmq as rr
import rerun_zmq.blueprint as rrb
from ui.data_client import DataClient, FileSource
from ui.scene import Scene, auto_color, build_scene, pick
from ui.state import AppState

from ._viewer2 import click, color_count, headless_viewer, region

RED, GREEN, BLUE, MAGENTA, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 0, 255), (255, 255, 0)


def record(path: str, log, blueprint=None) -> str:
    """A one-frame recording: ``log(rec)`` logs its entities at frame 0."""
    rec = rr.new_recording("view_drawing")
    rr.save(path, recording=rec)
    if blueprint is not None:
        rr.send_blueprint(blueprint, recording=rec)
    rr.set_time_sequence("frame", 0, recording=rec)
    log(rec)
    rr.disconnect(recording=rec)
    return path


def load(path: str) -> AppState:
    s = AppState(store=None)
    DataClient(s).load_now(FileSource(path))
    return s


def look(v, view=None, yaw: float = -math.pi / 2, pitch: float = 1.55, distance: float = 20.0):
    """Point the 3D view's camera at the origin (default: straight down, +x right, +y up), no grid."""
    view = view or v.state.views[0]
    cam = view.camera
    cam.target, cam.distance, cam.yaw, cam.pitch, cam.user_moved = np.zeros(3), distance, yaw, pitch, True
    view.show_grid = False
    v.step()
    v.step()
    return view


def to_px(view, p) -> tuple[float, float]:
    """World point -> pixel in the view's image (row 0 at the top)."""
    w, h = view.image_size
    c = np.r_[np.asarray(p, float), 1.0] @ view.camera.view_proj(w / h).T
    return (c[0] / c[3] * 0.5 + 0.5) * w, (0.5 - c[1] / c[3] * 0.5) * h


def run_length(img: np.ndarray, x: float, rgb, tol: int = 40) -> int:
    """Rows of column ``x`` whose color is ``rgb``."""
    col = img[:, int(round(x)), :3].astype(int)
    return int((np.abs(col - np.array(rgb)).max(axis=1) <= tol).sum())


# -- 1. line radii ------------------------------------------------------------------------------


@pytest.mark.gui
def test_line_radii_draw_lines_that_wide_in_world_units_and_pixels(tmp_path):
    def log(rec):
        rr.log("thin", rr.LineStrips3D([[[-5, -4, 0], [5, -4, 0]]], colors=RED), recording=rec)
        rr.log("world", rr.LineStrips3D([[[-5, 0, 0], [5, 0, 0]]], colors=GREEN, radii=0.25), recording=rec)
        rr.log("pixels", rr.LineStrips3D([[[-5, 4, 0], [5, 4, 0]]], colors=BLUE, radii=-4.0), recording=rec)
        rr.log("box", rr.Boxes3D(centers=[[0, 7, 0]], half_sizes=[[5, 0.5, 0]], colors=YELLOW, radii=-3.0),
               recording=rec)  # fmt: skip

    with headless_viewer(record(str(tmp_path / "lines.rrd"), log)) as v:
        view = look(v)
        img = v.gpus[view.name].read()
        x = to_px(view, (1.0, 0.0, 0.0))[0]
        expected_world = abs(to_px(view, (1, -0.25, 0))[1] - to_px(view, (1, 0.25, 0))[1])
        assert expected_world > 10  # the test means something only if the line is clearly wide
        assert run_length(img, x, RED) <= 2  # no radius: the 1 px line of before
        assert abs(run_length(img, x, GREEN) - expected_world) <= 2
        assert abs(run_length(img, x, BLUE) - 8) <= 1  # radius -4: 4 UI pixels each side
        assert abs(run_length(img, x, YELLOW) - 2 * 6) <= 2  # two box edges, 6 px each


@pytest.mark.gui
def test_2d_line_and_box_radii(tmp_path):
    def log(rec):
        rr.log("cam/line", rr.LineStrips2D([[[0, 1], [8, 1]]], colors=YELLOW, radii=-5.0), recording=rec)
        rr.log("cam/box", rr.Boxes2D(centers=[[4, 4]], half_sizes=[[3, 1]], colors=GREEN, radii=0.25), recording=rec)

    with headless_viewer(record(str(tmp_path / "lines2d.rrd"), log)) as v:
        node = v.workspace.layout.views()[0]
        v.step()
        img = v.screenshot()
        ox, oy, zoom = node.ui["_xform"]
        x = ox + 2.0 * zoom  # a column through the strip and the box's top and bottom edges
        assert abs(run_length(img, x, YELLOW) - 10) <= 1
        assert abs(run_length(img, x, GREEN) - 2 * 0.5 * zoom) <= 3


# -- 2. solid boxes -----------------------------------------------------------------------------


@pytest.mark.gui
def test_solid_boxes_are_filled_and_shaded_and_pick_by_box(tmp_path):
    def log(rec):
        solid = rr.Boxes3D(centers=[[-4, 0, 0], [0, 0, 0]], half_sizes=[[1, 1, 1]] * 2, colors=BLUE, fill_mode="Solid")
        rr.log("solid", solid, recording=rec)
        rr.log("wire", rr.Boxes3D(centers=[[4, 0, 0]], half_sizes=[[1, 1, 1]], colors=RED), recording=rec)

    with headless_viewer(record(str(tmp_path / "solid.rrd"), log)) as v:
        view = look(v, yaw=-1.2, pitch=0.5)
        img = v.gpus[view.name].read()
        sx, sy = (int(c) for c in to_px(view, (0, 0, 0)))
        r, g, b = (int(c) for c in img[sy, sx, :3])
        assert b > 80 and r < 30 and g < 30  # the face in front of the center is filled
        wx, wy = (int(c) for c in to_px(view, (4, 0, 0)))
        assert img[wy, wx, 2] < 60  # a wireframe box stays hollow
        around = img[sy - 25 : sy + 25, sx - 25 : sx + 25, :3].reshape(-1, 3).astype(int)
        blues = {tuple(p) for p in around if p[2] > 60 and p[0] < 30}
        assert len({p[2] // 8 for p in blues}) >= 2  # faces at different angles shade differently
        x0, y0, _, _ = v.state.ui_rects[f"view:{view.name}"]
        from imgui_bundle import imgui

        imgui.get_io().add_mouse_pos_event(x0 + sx - 2, y0 + sy)
        v.step()
        click(v, "", at=(x0 + sx, y0 + sy))
        assert (v.state.selected, v.state.selected_instance) == ("/solid", 1)


# -- 3. labels and class ids --------------------------------------------------------------------


@pytest.mark.gui
def test_labels_are_drawn_at_their_instances_unless_hidden(tmp_path):
    def log(rec):
        pts = rr.Points3D([[-3, 0, 0], [3, 0, 0]], colors=MAGENTA, radii=-1.0, labels=["left", "right"])
        rr.log("labelled", pts, recording=rec)
        quiet = rr.Points3D([[0, 3, 0]], colors=GREEN, radii=-1.0, labels=["quiet"], show_labels=False)
        rr.log("quiet", quiet, recording=rec)
        rr.log("strip", rr.LineStrips3D([[[-2, -3, 0], [2, -3, 0]]], colors=YELLOW, labels=["a strip"]), recording=rec)

    with headless_viewer(record(str(tmp_path / "labels.rrd"), log)) as v:
        view = look(v)
        gpu = v.gpus[view.name]
        assert sorted(t for _, _, t, _ in gpu.label_layout.items) == ["a strip", "left", "right"]
        img = v.screenshot()
        x0, y0, _, _ = v.state.ui_rects[f"view:{view.name}"]

        def box_pixels(p, rgb) -> int:  # the label box starts just right of its anchor
            x, y = to_px(view, p)
            return color_count(region(img, (x0 + x + 4, y0 + y - 12, x0 + x + 70, y0 + y + 12)), rgb, 10)

        assert box_pixels((3, 0, 0), MAGENTA) > 150
        assert box_pixels((-3, 0, 0), MAGENTA) > 150
        assert box_pixels((0, -3, 0), YELLOW) > 150  # at the strip's middle
        assert box_pixels((0, 3, 0), GREEN) < 10  # show_labels=False


def test_label_count_is_capped_for_huge_scenes():
    from ui.camera import OrbitCamera
    from ui.renderers.labels import MAX_LABELS, LabelLayout3D

    n = 100_000
    rng = np.random.default_rng(0)
    scene = Scene()
    texts = pa.array([f"p{i}" for i in range(n)])
    scene.add_labels("/cloud", texts, rng.normal(size=(n, 3)).astype(np.float32), np.full((n, 4), 255, np.uint8))
    cam = OrbitCamera()
    cam.fit(np.full(3, -3.0), np.full(3, 3.0))
    layout = LabelLayout3D()
    items = layout.update(scene, 1, cam.view_proj(4 / 3), (800, 600))
    assert len(items) == MAX_LABELS
    assert all(0 <= x < 800 and 0 <= y < 600 for x, y, _, _ in items)
    assert layout.update(scene, 1, cam.view_proj(4 / 3), (800, 600)) is items  # same camera: reused


def test_class_ids_color_instances_without_colors(tmp_path):
    from ui.scene import class_colors

    def log(rec):
        rr.log("classes", rr.Points3D([[0, 0, 0], [1, 0, 0], [2, 0, 0]], class_ids=[1, 2, 1]), recording=rec)
        rr.log("explicit", rr.Points3D([[0, 1, 0]], class_ids=[1], colors=RED), recording=rec)
        rr.log("boxes", rr.Boxes3D(half_sizes=[[1, 1, 1]], class_ids=[5]), recording=rec)

    scene = build_scene(load(record(str(tmp_path / "classes.rrd"), log)))
    colors = {p: scene.points.colors[k] for k, (p, _, _) in enumerate(scene.points.owners)}
    assert (colors["/classes"] == class_colors(np.array([1, 2, 1]))).all()
    assert (colors["/classes"][0] == auto_color("class 1")).all()  # segmentation images use the same
    assert not (colors["/classes"][0] == colors["/classes"][1]).all()
    assert (colors["/explicit"][0, :3] == RED).all()  # explicit colors win
    assert (scene.lines.colors[0] == auto_color("class 5")).all()


@pytest.mark.gui
def test_2d_labels_and_class_colors_are_drawn(tmp_path):
    def log(rec):
        rr.log("cam/pts", rr.Points2D([[1, 1], [6, 4]], class_ids=[7, 7], labels=["seven", "also"]), recording=rec)
        rr.log("cam/box", rr.Boxes2D(centers=[[4, 2]], half_sizes=[[1, 1]], colors=GREEN, labels="box"), recording=rec)

    with headless_viewer(record(str(tmp_path / "labels2d.rrd"), log)) as v:
        node = v.workspace.layout.views()[0]
        drawer = v.workspace.drawers[node.uid]
        v.step()
        assert sorted(t for _, _, t, _ in drawer.labels_drawn) == ["also", "box", "seven"]
        img = region(v.screenshot(), v.state.ui_rects[f"view:{node.name}"])
        assert color_count(img, auto_color("class 7")[:3], 3) > 100  # both points and their labels


# -- 4. a 3D view's origin re-bases its scene ---------------------------------------------------


def robot(rec):
    turn = rr.RotationAxisAngle(axis=[0, 0, 1], radians=math.pi / 2)
    rr.log("world/robot", rr.Transform3D(translation=[100, 0, 0], rotation=turn), recording=rec)
    rr.log("world/robot/arm", rr.Points3D([[1, 0, 0]], colors=RED), recording=rec)


def test_origin_shows_its_subtree_in_the_origins_frame(tmp_path):
    state = load(record(str(tmp_path / "robot.rrd"), robot))
    world, _, _ = build_scene(state).points.arrays()
    assert np.allclose(world, [[100, 1, 0]], atol=1e-5)
    local, _, _ = build_scene(state, origin="/world/robot").points.arrays()
    assert np.allclose(local, [[1, 0, 0]], atol=1e-5)


@pytest.mark.gui
def test_3d_view_with_an_origin_draws_it_at_the_center(tmp_path):
    bp = rrb.Blueprint(rrb.Spatial3DView(origin="/world/robot", name="Robot"))
    with headless_viewer(record(str(tmp_path / "robot_bp.rrd"), robot, blueprint=bp)) as v:
        node = v.workspace.layout.views()[0]
        assert node.origin == "/world/robot"
        pos, _, _ = v.workspace.caches[node.uid].scene.points.arrays()
        assert np.allclose(pos, [[1, 0, 0]], atol=1e-5)
        view = look(v, node.view, distance=10.0)
        img = v.gpus[view.name].read()
        x, y = to_px(view, (1, 0, 0))
        assert color_count(img[int(y) - 3 : int(y) + 4, int(x) - 3 : int(x) + 4], RED, 40) > 0


# -- 5. picking names the strip -----------------------------------------------------------------


def strips(rec):
    rows = [[[x, y, 0] for x in range(-4, 5, 2)] for y in (-2, 0, 2)]  # 3 strips of 4 segments
    rr.log("strips", rr.LineStrips3D(rows), recording=rec)
    rr.log("arrows", rr.Arrows3D(origins=[[-4, 4, 0], [0, 4, 0]], vectors=[[2, 0, 0], [2, 0, 0]]), recording=rec)


def test_pick_reports_the_strip_and_arrow_not_the_segment(tmp_path):
    from ui.camera import OrbitCamera

    scene = build_scene(load(record(str(tmp_path / "strips.rrd"), strips)))
    cam = OrbitCamera(yaw=-math.pi / 2, pitch=1.55)
    cam.fit(*scene.bounds)
    vp, size = cam.view_proj(1.0), (600, 600)

    def px(p):
        c = np.r_[p, 1.0] @ vp.T
        return (c[0] / c[3] * 0.5 + 0.5) * size[0], (0.5 - c[1] / c[3] * 0.5) * size[1]

    assert pick(scene, vp, size, px((2.0, 2.0, 0.0))) == ("/strips", 2)  # a vertex of segments 2, 3 of strip 2
    assert pick(scene, vp, size, px((1.0, 2.0, 0.0))) == ("/strips", 2)  # mid-segment
    assert pick(scene, vp, size, px((-3.0, 0.0, 0.0))) == ("/strips", 1)
    assert pick(scene, vp, size, px((1.0, 4.0, 0.0))) == ("/arrows", 1)


@pytest.mark.gui
def test_clicking_a_line_strip_selects_that_strip(tmp_path):
    with headless_viewer(record(str(tmp_path / "strips_gui.rrd"), strips)) as v:
        view = look(v)
        x0, y0, _, _ = v.state.ui_rects[f"view:{view.name}"]
        x, y = to_px(view, (3.0, 2.0, 0.0))  # the last segment of strip 2
        from imgui_bundle import imgui

        imgui.get_io().add_mouse_pos_event(x0 + x - 2, y0 + y)
        v.step()
        click(v, "", at=(x0 + x, y0 + y))
        assert (v.state.selected, v.state.selected_instance) == ("/strips", 2)


# -- 6. a 2D view's origin re-bases its content, as the 3D views do ------------------------------


def camera_rig(rec):
    """``/world/cam`` turned 90° and moved to (100, 50); under it an image moved by (10, 0), a point
    at the image's middle and a box around it, all in the camera's own frame."""
    turn = rr.RotationAxisAngle(axis=[0, 0, 1], radians=math.pi / 2)
    rr.log("world/cam", rr.Transform3D(translation=[100, 50, 0], rotation=turn), recording=rec)
    img = np.zeros((4, 4, 3), np.uint8)
    img[:] = RED
    rr.log("world/cam/img", rr.Transform3D(translation=[10, 0, 0]), recording=rec)
    rr.log("world/cam/img", rr.Image(img), recording=rec)
    rr.log("world/cam/pts", rr.Points2D([[12, 2]], colors=YELLOW, radii=0.3), recording=rec)
    rr.log("world/cam/box", rr.Boxes2D(centers=[[12, 2]], half_sizes=[[3, 3]], colors=GREEN), recording=rec)


def test_2d_origin_shows_its_subtree_in_the_origins_frame(tmp_path):
    from ui.views.scene2d import build_scene2d

    state = load(record(str(tmp_path / "rig.rrd"), camera_rig))
    paths = ["/world/cam/img", "/world/cam/pts", "/world/cam/box"]
    local = build_scene2d(state, paths, origin="/world/cam")
    assert np.allclose(local.points[0][1], [[12, 2]], atol=1e-5)
    assert np.allclose(local.images[0][3], [[10, 0], [14, 0], [14, 4], [10, 4]], atol=1e-5)
    assert np.allclose(local.boxes[0][1], [[9, -1]]) and np.allclose(local.boxes[0][2], [[15, 5]])
    assert np.allclose(local.bounds, [[9, -1], [15, 5]], atol=1e-5)
    # at the root the same content goes through /world/cam's turn and move, images included
    world = build_scene2d(state, paths, origin="/")
    assert np.allclose(world.points[0][1], [[98, 62]], atol=1e-5)  # (12, 2) turned -> (-2, 12), + (100, 50)
    assert np.allclose(world.images[0][3], [[100, 60], [100, 64], [96, 64], [96, 60]], atol=1e-5)
    # an origin deeper down re-bases on that entity's frame (its own transform included)
    assert np.allclose(build_scene2d(state, ["/world/cam/img"], origin="/world/cam/img").images[0][3],
                       [[0, 0], [4, 0], [4, 4], [0, 4]], atol=1e-5)


def test_2d_origin_at_a_pinhole_camera_shows_image_pixels(tmp_path):
    from ui.views.scene2d import build_scene2d

    def log(rec):
        rr.log("world/cam", rr.Transform3D(translation=[5, 0, 2]), recording=rec)
        rr.log("world/cam", rr.Pinhole(focal_length=100.0, width=64, height=48), recording=rec)
        rr.log("world/cam/pts", rr.Points2D([[10, 20], [64, 48]]), recording=rec)

    state = load(record(str(tmp_path / "pinhole.rrd"), log))
    local = build_scene2d(state, ["/world/cam/pts"], origin="/world/cam")
    assert np.allclose(local.points[0][1], [[10, 20], [64, 48]], atol=1e-4)  # pixels, not rays at depth 1


@pytest.mark.gui
def test_2d_view_with_an_origin_draws_its_content_in_the_origins_frame(tmp_path):
    bp = rrb.Blueprint(rrb.Spatial2DView(origin="/world/cam", name="Cam"))
    with headless_viewer(record(str(tmp_path / "rig_bp.rrd"), camera_rig, blueprint=bp)) as v:
        node = v.workspace.layout.views()[0]
        assert node.origin == "/world/cam"
        lo, hi = v.workspace.drawers[node.uid].scene.bounds
        assert np.allclose(node.ui["center"], (lo + hi) / 2) and np.allclose((lo + hi) / 2, [12, 2])
        ox, oy, zoom = node.ui["_xform"]  # screen = o + zoom * p

        def px(p):
            return int(ox + zoom * p[0]), int(oy + zoom * p[1])

        img = v.screenshot()
        x, y = px((12, 2))
        assert color_count(img[y - 2 : y + 3, x - 2 : x + 3], YELLOW, 40) > 0  # the point, at the middle
        x, y = px((10.5, 0.5))
        assert color_count(img[y - 2 : y + 3, x - 2 : x + 3], RED, 40) == 25  # the image, moved by (10, 0)
        x, y = px((2, 2))
        assert color_count(img[y - 2 : y + 3, x - 2 : x + 3], RED, 40) == 0  # not at the origin's (0, 0)
        from ui.blueprint.edit import set_origin

        set_origin(v.workspace.layout, node, "/world/cam/img")  # a new origin: re-based and fitted again
        v.step()
        v.step()
        assert np.allclose(node.ui["center"], [2, 2])
