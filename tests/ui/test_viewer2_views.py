"""Viewer II views on a small mixed recording: automatic layout, 2D pixels and picking, time series
(series, cursor, click to move it), text log (levels, search, following the cursor)."""

from __future__ import annotations

import pytest

from ._viewer2 import click, color_count, headless_viewer, region, type_text
from ._viewer2_data import BOX_COLOR, IMAGE_COLOR, LINE_COLOR, POINT_COLOR, write_mixed

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def mixed_rrd(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("mixed") / "mixed.rrd")
    write_mixed(path)
    return path


@pytest.fixture
def viewer(mixed_rrd):
    with headless_viewer(mixed_rrd) as v:
        yield v


def kinds(viewer) -> list[tuple[str, str]]:
    return [(n.kind, n.origin) for n in viewer.workspace.layout.views()]


def test_automatic_layout_has_a_view_per_kind_of_data(viewer):
    assert kinds(viewer) == [("Spatial2DView", "/cam"), ("TimeSeriesView", "/metrics"), ("TextLogView", "/log")]
    assert viewer.workspace.layout.auto
    assert "tree:/__blueprint" not in viewer.state.ui_rects


def test_2d_view_draws_image_points_box_and_line(viewer):
    viewer.step()
    img = region(viewer.screenshot(), viewer.state.ui_rects["view:cam"])
    for rgb in (IMAGE_COLOR, POINT_COLOR, BOX_COLOR, LINE_COLOR):
        assert color_count(img, rgb, 30) > 20, rgb


def test_2d_wheel_zooms_and_drag_pans(viewer):
    node = viewer.workspace.layout.views()[0]
    from imgui_bundle import imgui

    x0, y0, x1, y1 = viewer.state.ui_rects["view:cam"]
    io = imgui.get_io()
    io.add_mouse_pos_event((x0 + x1) / 2, (y0 + y1) / 2)
    viewer.step()
    zoom = node.ui["zoom"]
    io.add_mouse_wheel_event(0, 2)
    viewer.step()
    assert node.ui["zoom"] > zoom
    center = list(node.ui["center"])
    io.add_mouse_button_event(0, True)
    viewer.step()
    for i in range(1, 4):
        io.add_mouse_pos_event((x0 + x1) / 2 + 15 * i, (y0 + y1) / 2)
        viewer.step()
    io.add_mouse_button_event(0, False)
    viewer.step()
    assert node.ui["center"][0] < center[0]


def test_clicking_a_2d_point_selects_that_instance(viewer):
    node = viewer.workspace.layout.views()[0]
    ox, oy, zoom = node.ui["_xform"]  # screen = o + zoom * p
    # at the last frame the points sit at (7, 1.5) and (7, 4.5)
    click(viewer, "", at=(ox + 7.0 * zoom, oy + 4.5 * zoom))
    assert viewer.state.selected == "/cam/points"
    assert viewer.state.selected_instance == 1
    rows = {r[0]: r for r in viewer.workspace.selection_panel.rows}
    assert rows["Points2D:positions"][1] == "[1] [7, 4.5]"
    assert rows["Points2D:positions"][3] == "#19 on frame"
    assert "selection_path" in viewer.state.ui_rects
    click(viewer, "selection_clear")
    assert viewer.state.selected is None


def test_time_series_names_series_by_entity_and_click_moves_cursor(viewer):
    ts = next(d for d in viewer.workspace.drawers.values() if type(d).__name__ == "TimeSeriesView")
    names = sorted(s[0] for s in ts.series)
    assert names == ["/metrics/cos", "/metrics/sin"]
    assert all(len(s[2]) == 20 for s in ts.series)
    x0, y0, x1, y1 = viewer.state.ui_rects["plot:metrics"]
    click(viewer, "", at=(x0 + (x1 - x0) * 0.35, (y0 + y1) / 2))
    assert 0 < viewer.state.time.cursor < 19
    assert not viewer.state.time.follow


def test_text_log_filters_levels_search_and_follows_cursor(viewer):
    log = next(d for d in viewer.workspace.drawers.values() if type(d).__name__ == "TextLogView")
    assert len(log.shown) == 20
    click(viewer, "level:log:ERROR")
    assert len(log.shown) == 20 - 6  # frames 2, 5, ..., 17
    type_text(viewer, "log_search:log", "message 1")
    assert {log.rows[i][3] for i in log.shown} == {f"message {i}" for i in (1, 10, 12, 13, 15, 16, 18, 19)}
    viewer.state.time.cursor, viewer.state.time.follow = 12, False
    viewer.step()
    assert {log.rows[i][3] for i in log.shown} == {"message 1", "message 10", "message 12"}


def test_undrawable_data_is_reported_not_fatal(viewer, monkeypatch):
    import pyarrow as pa

    def broken(*args, **kwargs):
        raise pa.ArrowInvalid("bad column")

    monkeypatch.setattr(viewer.state.store, "range", broken)
    viewer.state.generation += 1
    frame = viewer.state.frame
    for _ in range(3):
        viewer.step()
    assert viewer.state.frame == frame + 3
    assert any("view metrics: cannot show its data: bad column" in e for e in viewer.state.errors)
    assert any("view log: cannot show its data" in e for e in viewer.state.errors)


def test_clicking_a_3d_box_selects_that_box(tmp_path):
    import numpy as np

    import rerun_zmq as rr

    path = str(tmp_path / "boxes.rrd")
    rec = rr.new_recording("boxes3d")
    rr.save(path, recording=rec)
    rr.set_time_sequence("frame", 0, recording=rec)
    rr.log("boxes", rr.Boxes3D(centers=[[-3, 0, 0], [3, 0, 0]], half_sizes=[[1, 1, 1], [1, 1, 1]]), recording=rec)
    rr.disconnect(recording=rec)
    with headless_viewer(path) as v:
        view = v.state.views[0]
        x0, y0, x1, y1 = v.state.ui_rects[f"view:{view.name}"]
        size = (x1 - x0, y1 - y0)
        vp = view.camera.view_proj(size[0] / size[1])
        corner = np.array([4.0, 1.0, 1.0, 1.0]) @ vp.T  # a corner of the second box
        sx = x0 + (corner[0] / corner[3] * 0.5 + 0.5) * size[0]
        sy = y0 + (0.5 - corner[1] / corner[3] * 0.5) * size[1]
        from imgui_bundle import imgui

        imgui.get_io().add_mouse_pos_event(sx - 2, sy)
        v.step()
        click(v, "", at=(sx, sy))
        assert v.state.selected == "/boxes"
        assert v.state.selected_instance == 1


def test_time_series_visible_range_is_the_last_n_units(viewer):
    node = next(n for n in viewer.workspace.layout.views() if n.kind == "TimeSeriesView")
    ts = viewer.workspace.drawers[node.uid]
    node.ui["window"] = 5.0
    viewer.state.time.cursor, viewer.state.time.follow = 12, False
    viewer.step()
    assert {int(t) for s in ts.series for t in s[2]} == set(range(7, 13))
    node.ui["window"] = 0.0
    viewer.step()
    assert all(len(s[2]) == 20 for s in ts.series)


def test_2d_view_draws_depth_segmentation_encoded_images_and_arrows(tmp_path):
    import io

    import numpy as np
    from PIL import Image

    import rerun_zmq as rr

    from ._viewer2 import color_count, region

    path = str(tmp_path / "images.rrd")
    rec = rr.new_recording("images2d")
    rr.save(path, recording=rec)
    rr.set_time_sequence("frame", 0, recording=rec)
    depth = np.tile(np.linspace(1.0, 5.0, 8, dtype=np.float32), (6, 1))
    rr.log("scene/depth", rr.DepthImage(depth), recording=rec)
    seg = np.zeros((6, 8), np.uint8)
    seg[:, 4:] = 3
    rr.log("scene/seg", rr.SegmentationImage(seg), recording=rec)
    png = io.BytesIO()
    Image.fromarray(np.full((6, 8, 3), (250, 120, 20), np.uint8)).save(png, format="PNG")
    rr.log("other/encoded", rr.EncodedImage(contents=png.getvalue(), media_type="image/png"), recording=rec)
    rr.log("other/arrows", rr.Arrows2D(vectors=[[6, 4]], origins=[[1, 1]], colors=[0, 255, 255]), recording=rec)
    rr.disconnect(recording=rec)
    with headless_viewer(path) as v:
        views = {n.origin: n for n in v.workspace.layout.views()}
        assert set(views) == {"/scene", "/other"} and {n.kind for n in views.values()} == {"Spatial2DView"}
        v.step()
        img = v.screenshot()
        scene = region(img, v.state.ui_rects["view:scene"])
        assert color_count(scene, (255, 255, 255), 3) > 10  # nearest depth: white
        from ui.scene import auto_color

        assert color_count(scene, auto_color("class 3")[:3], 3) > 10
        other = region(img, v.state.ui_rects["view:other"])
        assert color_count(other, (250, 120, 20), 3) > 10
        assert color_count(other, (0, 255, 255), 40) > 10


def test_series_styles_names_colors_and_points(tmp_path):
    import rerun_zmq as rr

    path = str(tmp_path / "series.rrd")
    rec = rr.new_recording("series_styles")
    rr.save(path, recording=rec)
    rr.log("s/line", rr.SeriesLines(colors=[[10, 200, 30]], names=["speed"]), static=True, recording=rec)
    rr.log("s/dots", rr.SeriesPoints(markers=["cross"]), static=True, recording=rec)
    for i in range(5):
        rr.set_time_sequence("frame", i, recording=rec)
        rr.log("s/line", rr.Scalars(float(i)), recording=rec)
        rr.log("s/dots", rr.Scalars(float(-i)), recording=rec)
        rr.log("s/pair", rr.Scalars([float(i), float(2 * i)]), recording=rec)
    rr.disconnect(recording=rec)
    with headless_viewer(path) as v:
        ts = next(d for d in v.workspace.drawers.values() if type(d).__name__ == "TimeSeriesView")
        by_name = {s[0].split("##")[0]: s for s in ts.series}
        assert set(by_name) == {"speed", "/s/dots", "/s/pair[0]", "/s/pair[1]"}
        assert tuple(by_name["speed"][1][:3]) == (10, 200, 30)
        assert list(by_name["/s/pair[1]"][3]) == [0.0, 2.0, 4.0, 6.0, 8.0]
        points = {p[0].split("##")[0]: p[4] for p in ts._plot}
        assert points == {"speed": False, "/s/dots": True, "/s/pair[0]": False, "/s/pair[1]": False}
