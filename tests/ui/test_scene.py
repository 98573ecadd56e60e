"""The scene at the cursor, straight from the store (no OpenGL): transforms, time, visibility, picking."""

from __future__ import annotations

import numpy as np
import pytest

from ui.data_client import DataClient, FileSource
from ui.scene import build_scene, pick
from ui.state import AppState

from ._dna import LEFT

NS = 1_000_000_000


@pytest.fixture
def state(dna_rrd) -> AppState:
    s = AppState(store=None)
    DataClient(s).load_now(FileSource(dna_rrd))
    return s


def owner_rows(batch, path):
    pos, col, extra = batch.arrays()
    for p, first, rows in batch.owners:
        if p == path:
            return (
                pos[first : first + rows],
                col[first : first + rows],
                None if extra is None else extra[first : first + rows],
            )
    raise KeyError(path)


def test_loading_picks_the_user_timeline_at_its_end(state):
    assert state.time.timeline == "stable_time" and state.time.kind == "duration"
    assert state.time.cursor == state.store.time_range("stable_time")[1]
    assert len(state.time.times["stable_time"]) == 40


def test_points_carry_colors_radii_and_the_parent_rotation(state):
    state.time.cursor = 0
    at0, colors, radii = owner_rows(build_scene(state).points, "/dna/structure/left")
    assert (colors[:, :3] == LEFT).all() and np.allclose(radii, 0.08)
    state.time.cursor = 2 * NS  # dna/structure turned by 2 / 4 * 2pi = pi about Z
    at2, _, _ = owner_rows(build_scene(state).points, "/dna/structure/left")
    assert np.allclose(at2[:, :2], -at0[:, :2], atol=1e-4) and np.allclose(at2[:, 2], at0[:, 2])


def test_beads_move_with_time(state):
    state.time.cursor = 1 * NS
    a, _, _ = owner_rows(build_scene(state).points, "/dna/structure/scaffolding/beads")
    state.time.cursor = 1 * NS + NS // 10
    b, _, _ = owner_rows(build_scene(state).points, "/dna/structure/scaffolding/beads")
    assert a.shape == b.shape == (100, 3) and not np.allclose(a, b)


def test_scaffolding_lines_and_hidden_subtree(state):
    scene = build_scene(state)
    assert len(scene.lines.arrays()[0]) == 200  # 100 two-point strips
    state.hidden.add("/dna/structure")
    scene = build_scene(state)
    assert len(scene.points.arrays()[0]) == 0 and len(scene.lines.arrays()[0]) == 0 and scene.bounds is None


def test_pick_finds_the_entity_and_instance_under_the_mouse(state):
    from ui.camera import OrbitCamera

    scene = build_scene(state)
    cam = OrbitCamera()
    cam.fit(*scene.bounds)
    vp = cam.view_proj(1.0)
    pos, _, _ = owner_rows(scene.points, "/dna/structure/right")
    clip = np.r_[pos[7], 1.0] @ vp.T
    xy = ((clip[0] / clip[3] * 0.5 + 0.5) * 400, (0.5 - clip[1] / clip[3] * 0.5) * 400)
    hit = pick(scene, vp, (400, 400), xy, max_px=0.5)
    assert hit is not None and hit[0].startswith("/dna/structure")
    assert pick(scene, vp, (400, 400), (-50, -50)) is None


def test_view_coordinates_set_the_up_axis(tmp_path):
    import rerun_zmq as rr

    path = str(tmp_path / "yup.rrd")
    rec = rr.new_recording("yup")
    rr.save(path, recording=rec)
    rr.log("world", rr.ViewCoordinates.RIGHT_HAND_Y_UP, static=True, recording=rec)
    rr.log("world/cam", rr.ViewCoordinates.RDF, static=True, recording=rec)  # deeper: ignored for "up"
    rr.log("world/pts", rr.Points3D([[0, 0, 0], [1, 1, 1]]), static=True, recording=rec)
    rr.disconnect(recording=rec)
    s = AppState(store=None)
    DataClient(s).load_now(FileSource(path))
    assert build_scene(s).up == (1, 1)


def test_undrawable_data_is_skipped_and_reported(tmp_path):
    import pyarrow as pa

    from rerun_zmq._chunk import build_chunk

    s = AppState(store=None)
    client = DataClient(s)
    good = build_chunk(
        "/good",
        np.array([[1, 1]], np.uint64),
        {"frame": ("sequence", np.array([0]))},
        {
            "Points3D:positions": (
                pa.list_(pa.float32(), 3),
                pa.array([[0.0, 0.0, 0.0]], type=pa.list_(pa.float32(), 3)),
                np.array([1]),
            )
        },
        ["Points3D"],
        False,
    )
    bad = build_chunk(
        "/bad",
        np.array([[1, 2]], np.uint64),
        {"frame": ("sequence", np.array([0]))},
        {"Points3D:positions": (pa.float32(), pa.array([1.0, 2.0], pa.float32()), np.array([2]))},
        ["Points3D"],
        False,
    )
    from ui.data_client import Update

    for batch in (good, bad):
        client.apply(Update("chunk", "test", "rid", batch=batch))
    client.finish_batch()
    scene = build_scene(s)
    assert [o[0] for o in scene.points.owners] == ["/good"]
    assert any("/bad" in e for e in s.errors)
