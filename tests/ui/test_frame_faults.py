"""A fault inside one frame (a view's drawing, a panel, a data update) is caught at its own level,
logged once, shown, and the frame loop goes on; only the window/GL surface, KeyboardInterrupt and
SystemExit end it. Each GUI test here failed on the viewer before ``ui/faults.py``."""

from __future__ import annotations

import logging
import signal

import pytest

from ._viewer2 import color_count, headless_viewer, region
from ._viewer2_data import IMAGE_COLOR, write_mixed


@pytest.fixture(scope="module")
def mixed_rrd(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("faults") / "faults.rrd")
    write_mixed(path, app_id="faults_test", recording_id="faults_rec")
    return path


def _fault_records(caplog, where: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "ui" and r.getMessage().startswith(f"{where} failed")]


# -- de-duplication (no OpenGL) -----------------------------------------------------------------


def test_a_repeated_fault_is_logged_once_and_stays_active_until_it_runs_cleanly(caplog):
    from ui.faults import FrameFaults

    faults, errors = FrameFaults(), []

    def fail(n: int) -> None:
        raise IndexError(f"index {n} is out of bounds")  # a message that changes every time

    for frame in range(5):
        try:
            fail(frame)
        except IndexError as exc:
            faults.report("view cam", exc, frame, errors)
    try:
        raise ValueError("elsewhere")
    except ValueError as exc:
        faults.report("view cam", exc, 5, errors)
    recs = _fault_records(caplog, "view cam")
    assert len(recs) == 2 and all(r.exc_info for r in recs)  # one per distinct (place, type, line)
    assert len(errors) == 2 and faults.total == 6
    assert faults.active["view cam"].message == "ValueError: elsewhere"
    faults.clear("view cam")
    assert not faults.active


# -- a view that raises mid-draw ----------------------------------------------------------------


@pytest.mark.gui
def test_a_view_that_raises_is_shown_failed_and_the_other_views_keep_drawing(mixed_rrd, monkeypatch, caplog):
    from imgui_bundle import imgui, implot

    from ui.views.timeseries import TimeSeriesView

    broken = {"on": True}
    real_draw = TimeSeriesView.draw

    def draw(self, state, node, rect):
        if not broken["on"]:
            return real_draw(self, state, node, rect)
        imgui.begin(f"{node.name}###view:{node.uid}")  # half-way through: a window and a plot open
        imgui.push_id("deep")
        implot.begin_plot("##half", imgui.ImVec2(100, 100))
        raise ValueError("malformed series")

    monkeypatch.setattr(TimeSeriesView, "draw", draw)
    with caplog.at_level(logging.ERROR, logger="ui"), headless_viewer(mixed_rrd) as v:
        for _ in range(5):
            v.step()  # raised out of step() before
        s = v.state
        fault = s.faults.active["view metrics"]
        assert fault.message == "ValueError: malformed series" and fault.count >= 5
        assert len(_fault_records(caplog, "view metrics")) == 1  # once, not every frame
        assert sum("malformed series" in e for e in s.errors) == 1
        assert "view_error:metrics" in s.ui_rects  # the error line in place of the view
        assert "malformed series" in v.workspace.status_bar.message[0]
        assert "log_search:log" in s.ui_rects  # the text log view drew
        cam = region(v.screenshot(), s.ui_rects["view:cam"])
        assert color_count(cam, IMAGE_COLOR) > 100  # the 2D view drew its image
        broken["on"] = False
        v.step()
        v.step()
        assert "view metrics" not in s.faults.active
        assert "plot:metrics" in s.ui_rects and "view_error:metrics" not in s.ui_rects
        assert v.workspace.status_bar.message is None


@pytest.mark.gui
def test_a_panel_that_raises_leaves_the_rest_of_the_window_drawn(mixed_rrd, monkeypatch):
    from ui.panels.entity_tree import EntityTreePanel

    def draw(self, state, rect):
        raise OSError("the file vanished")

    monkeypatch.setattr(EntityTreePanel, "draw", draw)
    with headless_viewer(mixed_rrd) as v:
        v.step()
        assert v.state.faults.active["panel entities"].message == "OSError: the file vanished"
        assert {"timeline_combo", "view:cam", "status_message"} <= set(v.state.ui_rects)


# -- a data update that raises ------------------------------------------------------------------


@pytest.mark.gui
def test_a_malformed_update_is_dropped_and_the_next_one_applies(mixed_rrd, tmp_path, caplog):
    from ui.data_client import FileSource, Update

    more = str(tmp_path / "more.rrd")
    write_mixed(more, app_id="faults_test", recording_id="faults_rec", steps=5, start=20)
    good = [u for u in FileSource(more).messages() if u.kind == "chunk"]
    with caplog.at_level(logging.ERROR, logger="ui"), headless_viewer(mixed_rrd) as v:
        s = v.state
        rows = sum(s.store.row_counts().values())
        v.client.queue.put(Update("chunk", "live", "faults_rec", batch="not a chunk"))  # TypeError in insert
        for u in good:
            v.client.queue.put(u)
        v.step()
        v.step()
        assert sum(s.store.row_counts().values()) == rows + sum(u.batch.num_rows for u in good)
        assert s.time.cursor == 24  # following the newest data still works
        assert s.notice is not None and s.notice.level == "error" and "TypeError" in s.notice.text
        assert len(_fault_records(caplog, "data from live")) == 1


# -- main(): the loop goes on; fatal conditions still end it ----------------------------------


def _main_with(monkeypatch, mixed_rrd, exc: BaseException) -> int:
    from ui import app
    from ui.panels.entity_tree import EntityTreePanel

    def draw(self, state, rect):
        raise exc

    monkeypatch.setattr(EntityTreePanel, "draw", draw)
    before = signal.getsignal(signal.SIGINT)
    try:
        return app.main(["--headless", "--window-size", "640x400", "--max-frames", "6", mixed_rrd])
    finally:
        assert signal.getsignal(signal.SIGINT) is before  # main() put the handlers back


@pytest.mark.gui
@pytest.mark.parametrize("exc", [ValueError("bad recording"), OSError("the file vanished"), ZeroDivisionError()])
def test_main_goes_on_after_a_frame_raises(monkeypatch, mixed_rrd, exc, caplog):
    with caplog.at_level(logging.ERROR, logger="ui"):
        assert _main_with(monkeypatch, mixed_rrd, exc) == 0  # all 6 frames ran; before: exit 1 or a traceback
    assert len(_fault_records(caplog, "panel entities")) == 1


@pytest.mark.gui
def test_keyboard_interrupt_and_system_exit_still_end_main(monkeypatch, mixed_rrd):
    assert _main_with(monkeypatch, mixed_rrd, KeyboardInterrupt()) == 130
    with pytest.raises(SystemExit):
        _main_with(monkeypatch, mixed_rrd, SystemExit(3))


@pytest.mark.gui
def test_a_failing_surface_ends_main_with_an_error(monkeypatch, mixed_rrd, caplog):
    from ui.window import HeadlessSurface

    closed = []
    real_shutdown = HeadlessSurface.shutdown

    def end_frame(self):
        raise RuntimeError("GL context lost")

    def shutdown(self):
        closed.append(True)
        real_shutdown(self)

    monkeypatch.setattr(HeadlessSurface, "end_frame", end_frame)
    monkeypatch.setattr(HeadlessSurface, "shutdown", shutdown)
    from ui import app

    with caplog.at_level(logging.ERROR, logger="ui"):
        assert app.main(["--headless", "--max-frames", "50", mixed_rrd]) == 1
    assert closed  # torn down
    assert any("GL context lost" in r.getMessage() for r in caplog.records)
