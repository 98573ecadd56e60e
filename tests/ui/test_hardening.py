"""Review findings: input the viewer reads from files (UI state, blueprints in recordings) or from the
user must be reported or ignored, never end the frame loop."""

from __future__ import annotations

import json
import math

import pytest

from ._viewer2 import headless_viewer
from ._viewer2_data import write_mixed


@pytest.fixture(scope="module")
def mixed_rrd(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("hardening") / "state.rrd")
    write_mixed(path, app_id="state_test")
    return path


BAD_BLUEPRINTS = [
    {"version": 1, "root": {"type": "Horizontal", "properties": [1]}},
    {"version": 1, "root": {"type": "Spatial3DView", "properties": {"ui": {"camera": {"distance": None}}}}},
    {"version": 1, "root": {"type": "Spatial3DView", "properties": {"ui": {"camera": {"target": [1, 2]}}}}},
    {"version": 1, "root": {"type": "Horizontal", "contents": 5}},
    {"version": 1, "root": {"type": "Spatial3DView", "contents": [3]}},
    {"version": 1, "root": {"type": "Spatial3DView", "origin": 5}},
]


@pytest.mark.parametrize("bad", BAD_BLUEPRINTS, ids=range(len(BAD_BLUEPRINTS)))
def test_malformed_blueprint_json_is_a_value_error(bad):
    from ui.blueprint.layout import Layout

    layout = Layout()
    with pytest.raises(ValueError):
        layout.load_json(json.dumps(bad))


def test_camera_from_json_is_all_or_nothing_and_finite():
    from ui.blueprint.model import apply_camera
    from ui.camera import OrbitCamera

    cam = OrbitCamera()
    before = (cam.yaw, cam.distance, cam.target.copy())
    for bad in ({"yaw": 1.0, "distance": float("nan")}, {"yaw": 1.0, "distance": -1}, {"yaw": 1.0, "target": [0, 0]}):
        with pytest.raises(ValueError):
            apply_camera(cam, bad)
        assert (cam.yaw, cam.distance) == before[:2] and (cam.target == before[2]).all()


def test_non_finite_shares_and_bad_grid_columns_give_finite_rects():
    from ui.blueprint.geometry import arrange
    from ui.blueprint.model import ContainerNode, ViewNode

    for kind, kw in (("Horizontal", {"shares": [float("nan"), 1.0]}), ("Vertical", {"shares": [math.inf, 1.0]}),
                     ("Grid", {"grid_columns": -2})):
        node = ContainerNode(kind, [ViewNode("Spatial3DView"), ViewNode("TextLogView")], **kw)
        views: list = []
        arrange(node, (0, 0, 800, 600), views, [])
        assert len(views) == 2
        for _, (x, y, w, h) in views:
            assert all(math.isfinite(v) for v in (x, y, w, h)) and w >= 0 and h >= 0, (kind, x, y, w, h)


@pytest.mark.gui
def test_state_file_with_an_unusable_blueprint_is_reported_not_fatal(mixed_rrd):
    from ui.persist import state_dir

    folder = state_dir("state_test")
    folder.mkdir(parents=True)
    (folder / "ui_state.json").write_text(json.dumps({"version": 1, "blueprint": {"version": 2}}))
    with headless_viewer(mixed_rrd) as v:
        assert any("ui state" in e for e in v.state.errors)
        assert len(v.workspace.layout.views()) == 3  # automatic layout
        (folder / "ui_state.json").write_text(json.dumps({"version": 1, "blueprint": BAD_BLUEPRINTS[0]}))
