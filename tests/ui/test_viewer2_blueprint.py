"""Blueprint from code reproduces its layout; blueprint panel actions edit the layout."""

from __future__ import annotations

import pytest

import rerun_zmq.blueprint as rrb

from ._viewer2 import click, headless_viewer, type_text
from ._viewer2_data import write_mixed

pytestmark = pytest.mark.gui


def code_blueprint():
    return rrb.Blueprint(
        rrb.Horizontal(
            rrb.Spatial2DView(origin="/cam", name="Camera", contents=["+ $origin/**", "- /cam/box"]),
            rrb.Vertical(
                rrb.TimeSeriesView(origin="/metrics", name="Plots"),
                rrb.TextLogView(origin="/log", name="Logs"),
                row_shares=[2, 1],
            ),
            column_shares=[3, 1],
        )
    )


@pytest.fixture(scope="module")
def bp_rrd(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("bp") / "bp.rrd")
    write_mixed(path, app_id="bp_test", blueprint=code_blueprint())
    return path


@pytest.fixture(scope="module")
def auto_rrd(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("auto") / "auto.rrd")
    write_mixed(path, app_id="auto_test")
    return path


def rect(viewer, name):
    return viewer.workspace.view_rects[name]


def test_blueprint_from_code_reproduces_its_layout(bp_rrd):
    with headless_viewer(bp_rrd) as v:
        layout = v.workspace.layout
        assert not layout.auto and layout.from_code is not None
        assert [(n.kind, n.name, n.origin) for n in layout.views()] == [
            ("Spatial2DView", "Camera", "/cam"),
            ("TimeSeriesView", "Plots", "/metrics"),
            ("TextLogView", "Logs", "/log"),
        ]
        (cx, cy, cw, ch), (px, py, pw, ph), (lx, ly, lw, lh) = (rect(v, n) for n in ("Camera", "Plots", "Logs"))
        assert cw / (cw + pw) == pytest.approx(0.75)  # 3:1 columns
        assert px == pytest.approx(cx + cw) and lx == px and pw == lw
        assert ph / (ph + lh) == pytest.approx(2 / 3) and ly == pytest.approx(py + ph)  # 2:1 rows
        assert ch == pytest.approx(ph + lh)
        drawer = next(d for d in v.workspace.drawers.values() if type(d).__name__ == "View2D")
        assert {p for p, *_ in drawer.scene.points} == {"/cam/points"}
        assert drawer.scene.boxes == []  # "- /cam/box" excludes it


def test_panel_add_rename_move_remove_and_reset(auto_rrd):
    with headless_viewer(auto_rrd) as v:
        layout = v.workspace.layout
        assert layout.auto
        click(v, "bp_add_view")
        v.step()
        click(v, "bp_kind:Spatial3DView")
        assert not layout.auto
        names = [n.name for n in layout.views()]
        assert names[-1] == "3D" and len(names) == 4
        # the new view is selected in the panel: rename it
        type_text(v, "bp_name", "World")
        click(v, "bp_rename")
        assert [n.name for n in layout.views()][-1] == "World"
        v.step()
        assert "view:World" in v.state.ui_rects
        click(v, "bp_up")
        assert [n.name for n in layout.views()] == ["cam", "World", "metrics", "log"]
        click(v, "bp_remove")
        assert "World" not in [n.name for n in layout.views()]
        click(v, "bp_reset")
        assert layout.auto
        assert [n.kind for n in layout.views()] == ["Spatial2DView", "TimeSeriesView", "TextLogView"]


def test_panel_toggles_a_views_entities(auto_rrd):
    with headless_viewer(auto_rrd) as v:
        layout = v.workspace.layout
        click(v, "bp_node:cam")
        assert "bp_entity:/cam/box" in v.state.ui_rects
        click(v, "bp_entity:/cam/box")
        node = layout.views()[0]
        assert not node.includes("/cam/box") and node.includes("/cam/points")
        v.step()
        drawer = v.workspace.drawers[node.uid]
        assert drawer.scene.boxes == []
        click(v, "bp_entity:/cam/box")
        v.step()
        assert node.includes("/cam/box") and len(drawer.scene.boxes) == 1


def test_tabs_container_shows_one_view_and_switches(auto_rrd):
    from ui.blueprint import ContainerNode, ViewNode

    with headless_viewer(auto_rrd) as v:
        layout = v.workspace.layout
        layout.set_root(
            ContainerNode("Tabs", [ViewNode("TimeSeriesView", "/metrics"), ViewNode("TextLogView", "/log")]), auto=False
        )
        v.step()
        v.step()
        assert "tab:log" in v.state.ui_rects
        v.state.ui_rects.pop("plot:metrics", None)
        click(v, "tab:log")
        assert layout.root.active_tab == 1
        v.step()
        assert "plot:metrics" not in v.state.ui_rects


def test_views_get_distinct_names():
    from ui.blueprint import ContainerNode, Layout, ViewNode

    layout = Layout()
    layout.set_root(
        ContainerNode(
            "Horizontal",
            [ViewNode("TimeSeriesView", "/m"), ViewNode("TextLogView", "/m"), ViewNode("TextLogView", "/m")],
        ),
        auto=True,
    )
    assert [v.name for v in layout.views()] == ["m", "m (Text log)", "m (2)"]
    assert [v.view.name for v in layout.views()] == ["m", "m (Text log)", "m (2)"]


def test_entity_filter_rules():
    from ui.blueprint import EntityFilter

    f = EntityFilter(["+ $origin/**", "- /cam/debug/**", "+ /cam/debug/keep", "+ /other"], "/cam")
    assert f.matches("/cam") and f.matches("/cam/a/b")
    assert not f.matches("/cam/debug") and not f.matches("/cam/debug/x")
    assert f.matches("/cam/debug/keep") and f.matches("/other") and not f.matches("/other/child")
    assert not f.matches("/__blueprint") and not EntityFilter(["+ /**"]).matches("/__x")
    assert EntityFilter(["+ /**"]).matches("/anything")


def test_editor_moves_into_a_container_changes_its_kind_and_sets_an_origin(auto_rrd):
    with headless_viewer(auto_rrd) as v:
        layout = v.workspace.layout  # Vertical[cam, Horizontal[metrics, log]]
        click(v, "bp_node:log")
        click(v, "bp_move_to")
        v.step()
        v.step()
        click(v, "bp_move_to:Vertical")
        assert [type(c).__name__ for c in layout.root.children] == ["ViewNode", "ContainerNode", "ViewNode"]
        assert layout.root.children[-1].name == "log"
        click(v, "bp_node:Vertical")
        click(v, "bp_container_kind")
        v.step()
        v.step()
        click(v, "bp_container_kind:Tabs")
        assert layout.root.kind == "Tabs" and layout.root.name == "Tabs"
        v.step()
        assert "tab:cam" in v.state.ui_rects
        click(v, "tab:cam")
        click(v, "bp_node:cam")
        type_text(v, "bp_origin", "/cam/points")
        click(v, "bp_set_origin")
        node = layout.views()[0]
        assert node.origin == "/cam/points" and node.includes("/cam/points") and not node.includes("/cam/box")


def test_saved_recording_reopens_with_its_blueprint(bp_rrd, tmp_path):
    from ui.recording_io import save_recording

    out = str(tmp_path / "resaved.rrd")
    with headless_viewer(bp_rrd) as v:
        save_recording(out, v.state.store, v.state.recording_id, v.state.application_id)
    import shutil

    from ui.persist import state_dir

    shutil.rmtree(state_dir("bp_test"), ignore_errors=True)  # the layout must come from the file
    with headless_viewer(out) as v:
        assert v.workspace.layout.from_code is not None
        assert [n.name for n in v.workspace.layout.views()] == ["Camera", "Plots", "Logs"]
        assert "tree:/__blueprint" not in v.state.ui_rects


def test_default_blueprint_applies_to_an_automatic_layout_only(tmp_path):
    from ui.blueprint import ContainerNode, Layout, ViewNode
    from ui.state import AppState

    path = str(tmp_path / "default.rrd")
    import rerun_zmq as rr

    rec = rr.new_recording("default_bp")
    rr.save(path, recording=rec)
    rr.send_blueprint(rrb.Blueprint(rrb.TextLogView(origin="/log", name="Only logs")), make_active=False, recording=rec)
    rr.set_time_sequence("frame", 0, recording=rec)
    rr.log("log", rr.TextLog("hi"), recording=rec)
    rr.disconnect(recording=rec)
    from rerun_zmq import _wire
    from rerun_zmq._rrd import RrdReader
    from store import TimelineStore

    st = TimelineStore()
    for msg in RrdReader(path):
        if isinstance(msg, _wire.ChunkMsg):
            st.insert(msg.batch)
    state = AppState(store=st)
    state.generation = 1
    auto = Layout()
    auto.sync(state)
    assert [v.name for v in auto.views()] == ["Only logs"]
    mine = Layout()
    mine.set_root(ContainerNode("Horizontal", [ViewNode("TimeSeriesView", "/")]), auto=False)
    mine.sync(state)
    assert [v.kind for v in mine.views()] == ["TimeSeriesView"]  # a user's layout stays
    mine.reset_to_code()
    assert [v.name for v in mine.views()] == ["Only logs"]


def test_grid_and_shares_geometry():
    from ui.blueprint import ContainerNode, ViewNode
    from ui.blueprint.geometry import TAB_BAR, arrange

    views: list = []
    tabs: list = []
    grid = ContainerNode("Grid", [ViewNode("TextLogView", f"/v{i}") for i in range(5)])
    arrange(grid, (0, 0, 300, 200), views, tabs)
    assert [r for _, r in views][:4] == [(0, 0, 100, 100), (100, 0, 100, 100), (200, 0, 100, 100), (0, 100, 100, 100)]
    views.clear()
    h = ContainerNode("Horizontal", [ViewNode("TextLogView", "/a"), ViewNode("TextLogView", "/b")], shares=[1, 3])
    arrange(ContainerNode("Tabs", [h, ViewNode("TextLogView", "/c")]), (0, 0, 400, 300), views, tabs)
    assert [r for _, r in views] == [(0, TAB_BAR, 100, 300 - TAB_BAR), (100, TAB_BAR, 300, 300 - TAB_BAR)]
    assert len(tabs) == 1


def test_drag_a_view_onto_a_container_moves_it(auto_rrd):
    from imgui_bundle import imgui

    with headless_viewer(auto_rrd) as v:
        layout = v.workspace.layout  # Vertical[cam, Horizontal[metrics, log]]
        x0, y0, x1, y1 = v.state.ui_rects["bp_node:cam"]
        tx0, ty0, tx1, ty1 = v.state.ui_rects["bp_node:Horizontal"]
        io = imgui.get_io()
        io.add_mouse_pos_event(x0 + 20, (y0 + y1) / 2)
        v.step()
        io.add_mouse_button_event(0, True)
        v.step()
        for i in range(1, 6):
            io.add_mouse_pos_event(x0 + 20, (y0 + y1) / 2 + ((ty0 + ty1) / 2 - (y0 + y1) / 2) * i / 5)
            v.step()
        v.step()
        io.add_mouse_button_event(0, False)
        v.step()
        v.step()
        assert [n.name for n in layout.root.children[0].children] == ["metrics", "log", "cam"]
        assert not layout.auto


def test_panel_adds_a_container_and_a_view_into_it(auto_rrd):
    with headless_viewer(auto_rrd) as v:
        layout = v.workspace.layout
        click(v, "bp_add_container")
        v.step()
        click(v, "bp_kind:Grid")
        grid = layout.root.children[-1]
        assert grid.kind == "Grid" and grid.children == []
        assert v.workspace.blueprint_panel.selected_uid == grid.uid  # new views go into it
        click(v, "bp_add_view")
        v.step()
        click(v, "bp_kind:TextLogView")
        assert [c.kind for c in grid.children] == ["TextLogView"]
        assert [n.name for n in layout.views()][-1] == "Text log"


def test_3d_view_entity_filter_hides_excluded_entities(dna_rrd):
    from ui.blueprint import ContainerNode, ViewNode

    from ._dna import LEFT, RIGHT, color_mask

    with headless_viewer(dna_rrd) as v:
        layout = v.workspace.layout
        left_only = ViewNode("Spatial3DView", "/", ["+ /**", "- /dna/structure/right"], "no right")
        layout.set_root(ContainerNode("Horizontal", [ViewNode("Spatial3DView", "/", name="all"), left_only]), False)
        for _ in range(3):
            v.step()
        full, filtered = v.gpus["all"].read(), v.gpus["no right"].read()
        assert color_mask(full, RIGHT).sum() > 100 and color_mask(full, LEFT).sum() > 100
        assert color_mask(filtered, RIGHT).sum() == 0 and color_mask(filtered, LEFT).sum() > 100
        assert v.workspace.caches[left_only.uid].scene is not v.scene_cache.scene


def test_automatic_layout_follows_new_data_at_most_twice_a_second():
    from ui.blueprint import Layout
    from ui.state import AppState

    class Store:
        """The part of the store API the layout reads."""

        def __init__(self) -> None:
            self.entities = {"/a": ["Scalars:scalars"]}

        def entity_paths(self):
            return sorted(self.entities)

        def components(self, path):
            return {k: None for k in self.entities[path]}

        def latest_at(self, path, timeline, t):
            raise KeyError(path)

    st = Store()
    state = AppState(store=st)
    layout = Layout()
    layout.sync(state, now=100.0)
    assert [v.kind for v in layout.views()] == ["TimeSeriesView"]
    st.entities["/b"] = ["TextLog:text"]
    state.generation += 1
    layout.sync(state, now=100.1)  # too soon: postponed
    assert [v.kind for v in layout.views()] == ["TimeSeriesView"]
    layout.sync(state, now=100.7)  # no new data, but the postponed regeneration happens
    assert [v.kind for v in layout.views()] == ["TimeSeriesView", "TextLogView"]
