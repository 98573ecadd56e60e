"""UI state per application id across two runs; recordings panel; save / save time selection;
Home / End / Ctrl+S; status bar."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from imgui_bundle import imgui

from ._viewer2 import click, headless_viewer, press, step_until, type_text
from ._viewer2_data import write_mixed

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def mixed_rrd(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("state") / "state.rrd")
    write_mixed(path, app_id="state_test")
    return path


def test_ui_state_comes_back_on_the_next_run(mixed_rrd, dna_rrd):
    from ui.panels.blueprint_panel import rename_node
    from ui.persist import state_dir

    with headless_viewer(mixed_rrd) as v:
        layout = v.workspace.layout
        rename_node(layout, layout.views()[0].uid, "Camera")
        click(v, "timeline_combo")
        v.step()
        v.step()
        click(v, "timeline_item:log_time")
        assert v.state.time.timeline == "log_time"
    saved = state_dir("state_test") / "ui_state.json"
    assert saved.parents[2] == Path(os.environ["XDG_DATA_HOME"])
    data = json.loads(saved.read_text())
    assert data["version"] == 1 and data["timeline"] == "log_time"
    with headless_viewer(mixed_rrd) as v:
        assert [n.name for n in v.workspace.layout.views()] == ["Camera", "metrics", "log"]
        assert not v.workspace.layout.auto
        assert v.state.time.timeline == "log_time"
    # a 3D camera persists too (another application id: its own state)
    with headless_viewer(dna_rrd) as v:
        cam = v.state.views[0].camera
        cam.rotate(120, 30)
        yaw, pitch = cam.yaw, cam.pitch
    with headless_viewer(dna_rrd) as v:
        cam = v.state.views[0].camera
        assert cam.yaw == pytest.approx(yaw) and cam.pitch == pytest.approx(pitch)


def test_broken_state_file_is_reported_not_fatal(mixed_rrd):
    from ui.persist import state_dir

    folder = state_dir("state_test")
    folder.mkdir(parents=True)
    (folder / "ui_state.json").write_text("{not json")
    with headless_viewer(mixed_rrd) as v:
        assert any("ui state" in e for e in v.state.errors)
        assert len(v.workspace.layout.views()) == 3


def test_recordings_panel_switches_and_closes(mixed_rrd, dna_rrd):
    with headless_viewer(mixed_rrd, dna_rrd) as v:
        s = v.state
        assert len(s.recordings) == 2
        first, second = list(s.recordings)
        assert s.recording_sources[first] == ["state.rrd"] and s.recording_sources[second] == ["dna.rrd"]
        assert s.recording_id == second
        click(v, f"rec:{first}")
        assert s.recording_id == first and s.application_id == "state_test"
        v.step()
        assert [n.kind for n in v.workspace.layout.views()][0] == "Spatial2DView"
        click(v, f"rec_close:{first}")
        assert list(s.recordings) == [second] and s.recording_id == second
        v.step()  # the panel's rows moved up
        click(v, f"rec_close:{second}")
        assert s.store is None and not s.recordings
        v.step()


def test_save_recording_and_time_selection(mixed_rrd, tmp_path):
    from rerun_zmq import _wire
    from rerun_zmq._rrd import RrdReader
    from store import TimelineStore

    def load(path):
        st = TimelineStore()
        hello = None
        for msg in RrdReader(path):
            if isinstance(msg, _wire.Hello):
                hello = msg
            elif isinstance(msg, _wire.ChunkMsg):
                st.insert(msg.batch)
        return hello, st

    with headless_viewer(mixed_rrd) as v:
        press(v, imgui.Key.s, ctrl=True)
        v.step()
        assert "save_path" in v.state.ui_rects
        full = str(tmp_path / "full.rrd")
        type_text(v, "save_path", full)
        click(v, "save_ok")
        step_until(v, lambda: v.state.save_job is None, what="the save")  # written on a thread
        hello, st = load(full)
        assert hello.recording_id == v.state.recording_id and hello.application_id == "state_test"
        assert st.row_counts() == v.state.store.row_counts()
        v.state.save_dialog = "selection"  # what File > Save time selection does
        v.step()
        v.step()
        part = str(tmp_path / "part.rrd")
        type_text(v, "save_path", part)
        type_text(v, "save_from", "5")
        type_text(v, "save_to", "9")
        click(v, "save_ok")
        step_until(v, lambda: v.state.save_job is None, what="the save")
    _, st = load(part)
    assert st.time_range("frame") == (5, 9)
    assert st.row_counts()["/metrics/sin"] == 5
    assert "/cam/image" in st.entity_paths()  # static data comes along


def test_home_end_keys_and_status_bar(mixed_rrd):
    with headless_viewer(mixed_rrd) as v:
        t = v.state.time
        assert t.cursor == 19
        press(v, imgui.Key.home)
        assert t.cursor == 0 and not t.follow
        press(v, imgui.Key.end)
        assert t.cursor == 19 and t.follow
        v.workspace.status_bar._t = 0.0
        v.step()
        text = v.workspace.status_bar.text
        assert "1 recording(s)" in text and "rows" in text and "rows/s" in text
        assert np.isfinite(v.workspace.status_bar.rate)


def test_status_bar_shows_the_ingests_stats(mixed_rrd):
    from ui.data_client import Update

    with headless_viewer(mixed_rrd) as v:

        class FakeLive:  # as if connected (no socket needed: the stats arrive as an event)
            mode = "mirror"

            def query_latest_at(self, *args) -> None:
                pass

        v.live = v.client.live = FakeLive()
        v.state.live_endpoint = "tcp://127.0.0.1:1"
        stats = {"producers": 3, "rows_per_s": 1234.0, "dropped_rows": 7, "rejected": 2}
        v.client.apply(Update("event", "live", value=("stats", stats)))
        v.workspace.status_bar._t = 0.0
        v.step()
        text = v.workspace.status_bar.text
        assert "3 producer(s)" in text and "1,234 rows/s" in text
        assert "dropped 7 rows" in text and "refused 2" in text
        v.live = v.client.live = None


def drag(viewer, key: str, dx: float, dy: float) -> None:
    x0, y0, x1, y1 = viewer.state.ui_rects[key]
    x, y = (x0 + x1) / 2, (y0 + y1) / 2
    io = imgui.get_io()
    io.add_mouse_pos_event(x, y)
    viewer.step()
    io.add_mouse_button_event(0, True)
    viewer.step()
    for i in range(1, 4):
        io.add_mouse_pos_event(x + dx * i / 3, y + dy * i / 3)
        viewer.step()
    io.add_mouse_button_event(0, False)
    viewer.step()


def test_panel_borders_drag_and_their_sizes_persist(mixed_rrd):
    with headless_viewer(mixed_rrd) as v:
        ws = v.workspace
        width, split = ws.selection_width, ws.left_split[1]
        drag(v, "split_selection", -60, 0)
        assert ws.selection_width == pytest.approx(width + 60)
        drag(v, "split_blueprint", 0, 40)
        assert ws.left_split[1] > split
        sizes = (ws.selection_width, list(ws.left_split))
    with headless_viewer(mixed_rrd) as v:
        assert (v.workspace.selection_width, v.workspace.left_split) == sizes


def test_switching_to_another_application_brings_its_own_layout(mixed_rrd, dna_rrd):
    from ui.panels.blueprint_panel import rename_node

    with headless_viewer(mixed_rrd, dna_rrd) as v:
        s = v.state
        first, second = list(s.recordings)
        layout = v.workspace.layout
        rename_node(layout, layout.views()[0].uid, "Mine")  # a user layout for dna_test
        click(v, f"rec:{first}")
        v.step()
        assert [n.kind for n in layout.views()] == ["Spatial2DView", "TimeSeriesView", "TextLogView"]
        click(v, f"rec:{second}")
        v.step()
        assert [n.name for n in layout.views()] == ["Mine"]  # saved when it was left, back again


def test_shift_drag_selects_a_time_range_for_loop_and_save(mixed_rrd, tmp_path):
    with headless_viewer(mixed_rrd) as v:
        t = v.state.time
        x0, y0, x1, y1 = v.state.ui_rects["scrubber"]
        io = imgui.get_io()
        y = (y0 + y1) / 2
        io.add_key_event(imgui.Key.mod_shift, True)
        io.add_mouse_pos_event(x0 + (x1 - x0) * 0.25, y)
        v.step()
        io.add_mouse_button_event(0, True)
        v.step()
        for f in (0.4, 0.55, 0.5):
            io.add_mouse_pos_event(x0 + (x1 - x0) * f, y)
            v.step()
        io.add_mouse_button_event(0, False)
        io.add_key_event(imgui.Key.mod_shift, False)
        v.step()
        assert t.selection is not None and t.selection[0] in (4, 5) and t.selection[1] in (9, 10)
        assert t.cursor == 19  # the cursor did not move
        lo, hi = t.selection
        t.loop, t.playing, t.cursor = True, True, hi
        from ui import playback

        playback.advance(v.state, 0.2)  # 6 frames at 30 frames/s: past the end of the selection
        assert lo <= t.cursor <= hi
        t.playing = False
        io.add_mouse_pos_event(x0 + (x1 - x0) * 0.5, y)  # a right-click clears it
        v.step()
        io.add_mouse_button_event(1, True)
        v.step()
        io.add_mouse_button_event(1, False)
        v.step()
        assert t.selection is None
        t.selection = (lo, hi)
        v.state.save_dialog = "selection"
        v.step()
        v.step()
        from ui.timefmt import parse_time

        dialog = v.workspace.save_dialog
        assert [parse_time(x, "sequence") for x in dialog.range_text] == [lo, hi]


def test_file_menu_opens_the_save_dialogs(mixed_rrd):
    with headless_viewer(mixed_rrd) as v:
        for item, mode in (("menu_save", "recording"), ("menu_save_selection", "selection")):
            click(v, "menu_file")
            v.step()
            click(v, item)
            v.step()
            assert v.workspace.save_dialog.mode == mode
            assert "save_path" in v.state.ui_rects
            assert ("save_from" in v.state.ui_rects) == (mode == "selection")
            click(v, "save_cancel")
            v.step()
            assert "save_path" not in v.state.ui_rects
