"""File > Save writes on a background thread (``ui/save_job.py``): the frame loop keeps stepping and
live data keeps arriving while the file is written, the file holds exactly the snapshot taken when
Save was pressed and verifies, a second save is refused while one runs, a failure is reported and
leaves no file behind. The writer is held part-way through the file by an event, so every "while
the save runs" below is a fact, not timing luck."""

from __future__ import annotations

import os
import threading

import pytest
from imgui_bundle import imgui

from rerun_zmq import _wire
from rerun_zmq._rrd import RrdReader, RrdWriter
from rerun_zmq._rrd_tools import stats

from ._viewer2 import click, headless_viewer, press, step_until, type_text
from ._viewer2_data import write_mixed

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def mixed_rrd(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("save") / "save.rrd")
    write_mixed(path, app_id="save_test", recording_id="save_rec")
    return path


@pytest.fixture
def more_chunks(tmp_path):
    """Chunk updates of 10 more frames of the same recording, as a live source would queue them."""
    from ui.data_client import FileSource

    path = str(tmp_path / "more.rrd")
    write_mixed(path, app_id="save_test", recording_id="save_rec", steps=10, start=20)
    return [u for u in FileSource(path).messages() if u.kind == "chunk"]


class Gate:
    """Patches the save's writer: the Nth chunk waits for ``release`` (``inside`` says it got there)."""

    def __init__(self, monkeypatch, at_chunk: int = 2, fail: Exception | None = None) -> None:
        from ui import recording_io

        self.inside, self.release = threading.Event(), threading.Event()
        gate = self

        class GatedWriter(RrdWriter):
            chunks = 0

            def write(self, msg):
                if isinstance(msg, _wire.ChunkMsg):
                    GatedWriter.chunks += 1
                    if GatedWriter.chunks == at_chunk:
                        gate.inside.set()
                        assert gate.release.wait(30), "the test never released the save"
                        if fail is not None:
                            raise fail
                super().write(msg)

        monkeypatch.setattr(recording_io, "RrdWriter", GatedWriter)


def _open_save_dialog(v, path: str) -> None:
    press(v, imgui.Key.s, ctrl=True)
    v.step()
    type_text(v, "save_path", path)


def test_save_runs_off_the_frame_loop_while_data_arrives(mixed_rrd, more_chunks, tmp_path, monkeypatch):
    gate = Gate(monkeypatch)
    out = str(tmp_path / "out.rrd")
    with headless_viewer(mixed_rrd) as v:
        s = v.state
        expected = dict(s.store.row_counts())
        try:
            _open_save_dialog(v, out)
            click(v, "save_ok")  # returns at once: the dialog closed, the write goes on elsewhere
            assert gate.inside.wait(10), "the save thread never reached its second chunk"
            job = s.save_job
            assert job is not None and job.running and 0 < job.done < job.total
            assert not os.path.exists(out)  # nothing half-written under the name asked for
            v.step()
            assert "save_path" not in s.ui_rects  # the dialog closed

            frame = s.frame
            for u in more_chunks:  # live data arrives while the file is half written
                v.client.queue.put(u)
            for _ in range(5):
                v.step()
            assert s.frame == frame + 5  # the frame loop did not wait for the file
            assert "status_save" in s.ui_rects  # progress in the status bar
            assert sum(s.store.row_counts().values()) > sum(expected.values())
            assert s.time.cursor == 29

            s.save_dialog = "recording"  # a second save while this one runs is refused
            v.step()
            v.step()
            type_text(v, "save_path", str(tmp_path / "second.rrd"))
            click(v, "save_ok")
            assert "already running" in v.workspace.save_dialog.message and s.save_job is job
            click(v, "save_cancel")
        finally:
            gate.release.set()
        step_until(v, lambda: s.save_job is None, what="the save to finish")
        assert s.notice is not None and s.notice.level == "info"
        assert out in s.notice.text and "rows" in s.notice.text and "KB" in s.notice.text
        assert not (tmp_path / "second.rrd").exists()
    info = stats(out)
    assert info["complete"] and info["invalid_chunks"] == 0
    assert info["rows"] == sum(expected.values())  # the snapshot, none of the rows that came later
    from store import TimelineStore

    st = TimelineStore()
    for msg in RrdReader(out):
        if isinstance(msg, _wire.ChunkMsg):
            st.insert(msg.batch)
    assert st.row_counts() == expected and st.time_range("frame") == (0, 19)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_a_failed_save_is_reported_and_keeps_the_old_file(mixed_rrd, tmp_path, monkeypatch):
    gate = Gate(monkeypatch, fail=OSError("disk full"))
    out = tmp_path / "out.rrd"
    out.write_bytes(b"the previous file")
    with headless_viewer(mixed_rrd) as v:
        s = v.state
        _open_save_dialog(v, str(out))
        click(v, "save_ok")
        assert gate.inside.wait(10)
        gate.release.set()
        step_until(v, lambda: s.save_job is None, what="the save to fail")
        assert s.notice is not None and s.notice.level == "error" and "disk full" in s.notice.text
        assert any("disk full" in e for e in s.errors)
        assert "status_message" in s.ui_rects
    assert out.read_bytes() == b"the previous file"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.rrd")] == []  # no partial file left


def test_a_folder_that_does_not_exist_is_a_message_in_the_dialog(mixed_rrd, tmp_path):
    with headless_viewer(mixed_rrd) as v:
        _open_save_dialog(v, str(tmp_path / "nope" / "out.rrd"))
        click(v, "save_ok")
        assert "does not exist" in v.workspace.save_dialog.message
        assert v.state.save_job is None and "save_path" in v.state.ui_rects  # still open to fix it


def test_closing_the_viewer_lets_a_running_save_finish(mixed_rrd, tmp_path, monkeypatch):
    gate = Gate(monkeypatch)
    out = str(tmp_path / "out.rrd")
    with headless_viewer(mixed_rrd) as v:
        _open_save_dialog(v, out)
        click(v, "save_ok")
        assert gate.inside.wait(10)
        client_close = v.client.close

        def close_then_release():  # the save is still held when the viewer starts closing
            client_close()
            gate.release.set()

        v.client.close = close_then_release
    assert stats(out)["complete"]  # close() waited for the file
