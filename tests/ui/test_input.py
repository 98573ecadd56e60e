"""Injected input: clicks go straight into ImGui's io of a headless viewer, frame by frame."""

from __future__ import annotations

import pytest
from imgui_bundle import imgui

from ._dna import BEAD, LEFT, RIGHT, color_mask

pytestmark = pytest.mark.gui


def click(viewer, key: str, button: int = 0) -> None:
    """Move to the centre of the widget recorded as ``key``, press and release over a few frames."""
    x0, y0, x1, y1 = viewer.state.ui_rects[key]
    io = imgui.get_io()
    io.add_mouse_pos_event((x0 + x1) / 2, (y0 + y1) / 2)
    viewer.step()
    io.add_mouse_button_event(button, True)
    viewer.step()
    io.add_mouse_button_event(button, False)
    viewer.step()


def view_image(viewer):
    viewer.step()
    return viewer.gpus[viewer.state.views[0].name].read()


def test_tree_lists_implicit_parents_and_row_counts(viewer):
    keys = viewer.state.ui_rects
    assert "tree:/dna" in keys  # never logged: an implicit parent
    assert "tree:/dna/structure/scaffolding/beads" in keys
    assert viewer.tree.rows["/dna/structure/scaffolding/beads"] == 40


def test_clicking_an_entity_selects_it(viewer):
    assert viewer.state.selected is None
    click(viewer, "tree:/dna/structure/left")
    assert viewer.state.selected == "/dna/structure/left"


def test_eye_toggle_hides_and_shows_points(viewer):
    img = view_image(viewer)
    assert color_mask(img, LEFT).sum() > 100
    click(viewer, "eye:/dna/structure/left")
    assert not viewer.state.is_visible("/dna/structure/left")
    img = view_image(viewer)
    assert color_mask(img, LEFT).sum() == 0
    assert color_mask(img, RIGHT).sum() > 100
    click(viewer, "eye:/dna/structure/left")
    assert color_mask(view_image(viewer), LEFT).sum() > 100


def test_subtree_eye_hides_every_descendant(viewer):
    click(viewer, "eye:/dna/structure")
    img = view_image(viewer)
    for rgb in (LEFT, RIGHT):
        assert color_mask(img, rgb).sum() == 0
    assert color_mask(img, BEAD, 12).sum() == 0


def test_timeline_selector_switches_timelines(viewer):
    assert viewer.state.time.timeline == "stable_time"
    click(viewer, "timeline_combo")
    viewer.step()  # a popup settles its size and position on its first frames
    viewer.step()
    assert "timeline_item:log_time" in viewer.state.ui_rects
    click(viewer, "timeline_item:log_time")
    assert viewer.state.time.timeline == "log_time"
    assert viewer.state.time.kind == "timestamp"


def test_play_advances_the_cursor(viewer):
    t = viewer.state.time
    click(viewer, "start")
    start = t.cursor
    assert start == viewer.state.store.time_range("stable_time")[0]
    click(viewer, "play")
    assert t.playing
    for _ in range(5):
        viewer.step()
    assert t.cursor > start
    click(viewer, "play")
    assert not t.playing


def test_step_moves_between_data_times(viewer):
    t = viewer.state.time
    end = t.cursor
    click(viewer, "step_back")
    assert t.cursor == t.times["stable_time"][-2] and t.cursor < end
    click(viewer, "step_fwd")
    assert t.cursor == end


def test_scrubber_click_moves_cursor_to_start(viewer):
    x0, y0, _, y1 = viewer.state.ui_rects["scrubber"]
    viewer.state.ui_rects["_left"] = (x0, y0, x0 + 1, y1)
    click(viewer, "_left")
    rng = viewer.state.store.time_range("stable_time")
    assert viewer.state.time.cursor == rng[0]
    assert not viewer.state.time.follow


def test_drag_rotates_camera_and_redraws(viewer):
    view = viewer.state.views[0]
    gpu = viewer.gpus[view.name]
    before, redraws = view.camera.yaw, gpu.redraws
    viewer.step()
    assert gpu.redraws == redraws  # nothing changed: the last image is reused
    x0, y0, x1, y1 = viewer.state.ui_rects[f"view:{view.name}"]
    io = imgui.get_io()
    io.add_mouse_pos_event((x0 + x1) / 2, (y0 + y1) / 2)
    viewer.step()
    io.add_mouse_button_event(0, True)
    viewer.step()
    for i in range(1, 4):
        io.add_mouse_pos_event((x0 + x1) / 2 + 20 * i, (y0 + y1) / 2)
        viewer.step()
    io.add_mouse_button_event(0, False)
    viewer.step()
    assert view.camera.yaw != before
    assert gpu.redraws > redraws


def test_selected_entity_is_highlighted_in_the_view(viewer):
    before = color_mask(view_image(viewer), LEFT).sum()
    click(viewer, "tree:/dna/structure/left")
    after = view_image(viewer)
    assert color_mask(after, LEFT).sum() < before  # lightened towards white
    assert color_mask(after, RIGHT).sum() > 100


def test_space_toggles_playback(viewer):
    io = imgui.get_io()
    io.add_key_event(imgui.Key.space, True)
    viewer.step()
    io.add_key_event(imgui.Key.space, False)
    viewer.step()
    assert viewer.state.time.playing


def test_collapsing_a_tree_node_hides_its_rows(viewer):
    x0, y0, _, y1 = viewer.state.ui_rects["tree:/dna/structure"]
    viewer.state.ui_rects["_arrow"] = (x0 + 2, y0, x0 + 10, y1)
    click(viewer, "_arrow")
    assert "/dna/structure" in viewer.tree.closed
    assert "tree:/dna/structure/left" not in viewer.state.ui_rects
    assert viewer.state.selected is None  # the arrow toggles, it does not select
    viewer.state.ui_rects["_arrow"] = (x0 + 2, y0, x0 + 10, y1)
    click(viewer, "_arrow")
    assert "tree:/dna/structure/left" in viewer.state.ui_rects


def test_thousands_of_entities_draw_only_the_rows_on_screen(viewer, tmp_path):
    import time

    import rerun_zmq as rr

    path = str(tmp_path / "many.rrd")
    rec = rr.new_recording("many", recording_id="many")
    rr.save(path, recording=rec)
    rr.set_time_sequence("frame", 0, recording=rec)
    for i in range(3000):
        rr.log(f"robots/r{i // 100}/part{i % 100}", rr.Points3D([[i % 100, i // 100, 0]]), recording=rec)
    rr.disconnect(recording=rec)
    viewer.open_file(path, wait=True)
    viewer.step()
    assert len(viewer.tree._flat) == 3030 + 1
    frames = []
    for _ in range(5):
        t0 = time.perf_counter()
        viewer.step()
        frames.append(time.perf_counter() - t0)
    rows = [k for k in viewer.state.ui_rects if k.startswith("tree:")]
    assert 10 < len(rows) < 100
    assert sorted(frames)[2] < 0.1
