"""Opening files in the headless viewer: background loading, merging, drag-and-drop, hover, focus."""

from __future__ import annotations

import time

import numpy as np
import pytest
from imgui_bundle import imgui

from .test_input import click

pytestmark = pytest.mark.gui


def write(path: str, recording_id: str, entity: str, frames: int, n: int) -> None:
    import rerun_zmq as rr
    from rerun_zmq.archetypes.points3d import Points3D

    rec = rr.new_recording("merge_test", recording_id=recording_id)
    rr.save(path, recording=rec)
    rng = np.random.default_rng(0)
    for i in range(frames):
        rr.set_time_sequence("frame", i, recording=rec)
        rr.log(entity, Points3D(rng.random((n, 3)), colors=[0, 255, 0]), recording=rec)
    rr.disconnect(recording=rec)


def test_large_file_loads_in_background_with_progress(viewer, tmp_path):
    path = str(tmp_path / "big.rrd")
    write(path, "big", "cloud", 300, 5000)
    viewer.open_file(path)
    seen, frame_ms = [], []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        viewer.step()
        frame_ms.append((time.perf_counter() - t0) * 1e3)
        seen.append(viewer.state.progress["big.rrd"])
        if seen[-1][1]:
            break
    assert seen[-1] == (1.0, True)
    assert len(frame_ms) >= 3  # the UI kept drawing frames while the file loaded
    assert viewer.state.recording_id == "big"  # the newly opened recording is active
    assert viewer.state.store.row_counts()["/cloud"] == 300
    assert np.median(frame_ms) < 150


def test_two_files_of_one_recording_merge(viewer, tmp_path):
    a, b = str(tmp_path / "a.rrd"), str(tmp_path / "b.rrd")
    write(a, "shared", "left", 3, 10)
    write(b, "shared", "right", 5, 10)
    viewer.open_file(a, wait=True)
    viewer.open_file(b, wait=True)
    viewer.step()
    st = viewer.state.store
    assert viewer.state.recording_id == "shared"
    assert {"/left", "/right"} <= set(st.entity_paths())
    assert st.time_range("frame") == (0, 4)
    assert "shared" in viewer.state.recordings and len(viewer.state.recordings) == 2  # + the DNA


def test_dropped_rrd_files_open(viewer, tmp_path):
    path = str(tmp_path / "dropped.rrd")
    write(path, "dropped", "pts", 2, 10)
    viewer._on_drop([path, str(tmp_path / "notes.txt")])
    assert viewer.state.open_requests == [path]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not viewer.state.progress.get("dropped.rrd", (0, False))[1]:
        viewer.step()
    viewer.step()
    assert viewer.state.recording_id == "dropped"


def _screen_xy(viewer, point: np.ndarray) -> tuple[float, float]:
    view = viewer.state.views[0]
    x0, y0, _, _ = viewer.state.ui_rects[f"view:{view.name}"]
    w, h = view.image_size
    clip = np.r_[point, 1.0] @ view.camera.view_proj(w / h).T
    return x0 + (clip[0] / clip[3] * 0.5 + 0.5) * w, y0 + (0.5 - clip[1] / clip[3] * 0.5) * h


def _point_of(viewer, path: str, i: int) -> np.ndarray:
    batch = viewer.scene_cache.scene.points
    pos, _, _ = batch.arrays()
    first = next(f for p, f, _ in batch.owners if p == path)
    return pos[first + i]


def test_hover_shows_entity_and_instance(viewer):
    io = imgui.get_io()
    target = _point_of(viewer, "/dna/structure/left", 50)
    x, y = _screen_xy(viewer, target)
    io.add_mouse_pos_event(x - 3, y)
    viewer.step()
    io.add_mouse_pos_event(x, y)
    viewer.step()
    hovered = viewer.state.views[0].hovered
    assert hovered is not None and hovered[0].startswith("/dna/structure")


def test_double_click_focuses_the_entity(viewer):
    view = viewer.state.views[0]
    before = view.camera.distance
    target = _point_of(viewer, "/dna/structure/left", 50)
    x, y = _screen_xy(viewer, target)
    io = imgui.get_io()
    io.add_mouse_pos_event(x - 3, y)
    viewer.step()
    io.add_mouse_pos_event(x, y)
    viewer.step()
    entity = view.hovered[0]
    for _ in range(2):
        io.add_mouse_button_event(0, True)
        viewer.step()
        io.add_mouse_button_event(0, False)
        viewer.step()
    assert viewer.state.selected == entity
    lo, hi = viewer.scene_cache.scene.entity_bounds[entity]
    assert np.allclose(view.camera.target, (lo + hi) / 2)
    assert view.camera.distance != before
    target_before = view.camera.target.copy()
    click(viewer, "view:" + view.name)  # a plain click keeps the camera (it selects what it hits)
    assert np.allclose(view.camera.target, target_before)
    hit = view.hovered[0] if view.hovered else entity
    assert viewer.state.selected == hit


def test_file_open_dialog_opens_the_typed_path(viewer, tmp_path):
    path = str(tmp_path / "typed.rrd")
    write(path, "typed", "pts", 2, 10)
    viewer.state.open_dialog = True  # what File > Open and Ctrl+O do
    viewer.step()
    viewer.step()
    click(viewer, "open_path")
    imgui.get_io().add_input_characters_utf8(path)
    viewer.step()
    viewer.step()
    click(viewer, "open_ok")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not viewer.state.progress.get("typed.rrd", (0, False))[1]:
        viewer.step()
    viewer.step()
    assert viewer.state.recording_id == "typed"


def test_close_stops_threads_and_is_idempotent(dna_rrd):
    import threading

    from ui.app import Viewer
    from ui.state import Options

    v = Viewer(Options(headless=True, window_size=(640, 400)))
    v.connect("127.0.0.1:9")  # nothing listens there: the client just waits
    v.open_file(dna_rrd)
    for _ in range(3):
        v.step()
    v.close()
    v.close()
    alive = [t.name for t in threading.enumerate() if t.name.startswith(("viewer-live", "rrd:"))]
    assert alive == []
