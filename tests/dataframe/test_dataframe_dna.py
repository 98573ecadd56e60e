"""The DNA recording from the tutorial, saved by ``examples/dna.py`` and queried back."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from math import tau
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from rerun_zmq import dataframe
from rerun_zmq.utilities import bounce_lerp, build_color_spiral
from store import UnknownEntityError, UnknownTimelineError

ROOT = Path(__file__).resolve().parents[2]
SEED = 7
TIMES = [i * 0.01 for i in range(400)]


@pytest.fixture(scope="module")
def dna_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("dna") / "dna.rrd"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "dna.py"), "--save", str(out), "--seed", str(SEED)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def rec(dna_path):
    return dataframe.load_recording(dna_path)


def _expected_beads(t: float) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    rng.random(100)  # the initial bead offsets
    time_offsets = rng.random(100)
    p1, _ = build_color_spiral(100)
    p2, _ = build_color_spiral(100, angular_offset=tau * 0.5)
    return np.array([bounce_lerp(p1[n], p2[n], t + time_offsets[n]) for n in range(100)])


def test_recording_summary(rec):
    assert rec.application_id == "rerun_example_dna_abacus"
    assert rec.recording_id and rec.complete
    assert rec.entity_paths() == [
        "/dna/structure", "/dna/structure/left", "/dna/structure/right",
        "/dna/structure/scaffolding", "/dna/structure/scaffolding/beads",
    ]
    assert rec.timelines() == {"log_time": "timestamp", "stable_time": "duration"}


def test_structure_visible_at_every_stable_time(rec):
    p1, _ = build_color_spiral(100)
    p2, _ = build_color_spiral(100, angular_offset=tau * 0.5)
    for t in [*TIMES, 3.995, 100.0, None]:
        left = rec.latest_at("dna/structure/left", "stable_time", t)
        right = rec.latest_at("/dna/structure/right", timeline="stable_time", time=t)
        assert np.allclose(left["Points3D:positions"], p1, atol=1e-6)
        assert np.allclose(right["Points3D:positions"], p2, atol=1e-6)
        assert left["Points3D:colors"].shape == (100, 4) and left["Points3D:colors"].dtype == np.uint8
        assert left["Points3D:radii"].shape == (100,) and np.allclose(left["Points3D:radii"], 0.08)
        strips = rec.latest_at("dna/structure/scaffolding", "stable_time", t)["LineStrips3D:strips"]
        assert len(strips) == 100 and strips[0].shape == (2, 3)


def test_nothing_before_the_first_time(rec):
    assert rec.latest_at("dna/structure/left", "stable_time", -0.5) == {}


@pytest.mark.parametrize("t, logged", [(0.0, 0.0), (0.5, 0.5), (1.234, 1.23), (3.99, 3.99), (9.0, 3.99)])
def test_beads_positions(rec, t, logged):
    got = rec.latest_at("dna/structure/scaffolding/beads", "stable_time", t)
    assert got["Points3D:positions"].shape == (100, 3)
    assert np.allclose(got["Points3D:positions"], _expected_beads(logged), atol=1e-5)
    assert np.allclose(got["Points3D:radii"], 0.06)


def test_world_transform_is_the_logged_rotation(rec):
    for t in [0.0, 0.37, 1.0, 2.0, 3.99]:
        angle = t / 4.0 * tau
        c, s = np.cos(angle), np.sin(angle)
        want = np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
        assert np.allclose(rec.world_transform("dna/structure/left", "stable_time", t), want, atol=1e-6)
    assert np.allclose(rec.world_transform("dna/structure/left", "stable_time", -1.0), np.eye(4))


def test_range_of_beads(rec):
    table = rec.range("dna/structure/scaffolding/beads", timeline="stable_time", start=0.0, end=1.0)
    assert table.column_names[0] == "stable_time"
    assert table.schema.field("stable_time").type == pa.duration("ns")
    assert table.num_rows == 102  # two rows at t=0 (before and in the loop), then 0.01 .. 1.0
    times = table.column("stable_time").cast(pa.int64()).to_numpy()
    assert np.all(np.diff(times) >= 0)
    assert rec.range("dna/structure/scaffolding/beads", "stable_time").num_rows == 401


def test_errors_are_typed(rec):
    with pytest.raises(UnknownTimelineError):
        rec.latest_at("dna/structure/left", "nope", 1.0)
    with pytest.raises(UnknownEntityError):
        rec.latest_at("dna/nothing", "stable_time", 1.0)


def test_truncated_file_loads_what_is_complete(dna_path, tmp_path):
    data = dna_path.read_bytes()
    cut = tmp_path / "cut.rrd"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = dataframe.load_recording(cut)
    assert not rec.complete and rec.load_errors
    assert any("load_recording" in str(w.message) for w in caught)
    assert "/dna/structure/left" in rec.entity_paths()


def _save(path, recording_id, entity, frames, application_id="merge_test"):
    import rerun_zmq as rr

    stream = rr.new_recording(application_id, recording_id=recording_id)
    stream.save(path)
    for f in frames:
        rr.set_time("frame", sequence=f, recording=stream)
        rr.log(entity, rr.Scalars(float(f)), recording=stream)
    stream.close()


def test_several_files_of_one_recording_merge(tmp_path):
    _save(tmp_path / "a.rrd", "rec-1", "sensor/a", [0, 2, 4])
    _save(tmp_path / "b.rrd", "rec-1", "sensor/b", [1, 3])
    rec = dataframe.load_recording([tmp_path / "a.rrd", tmp_path / "b.rrd"])
    assert rec.recording_id == "rec-1" and rec.application_id == "merge_test"
    assert rec.entity_paths() == ["/sensor/a", "/sensor/b"]
    assert rec.latest_at("sensor/b", "frame", 2)["Scalars:scalars"].tolist() == [1.0]
    assert rec.range("sensor/a", "frame", 1, 4).column("frame").to_pylist() == [2, 4]
    _save(tmp_path / "c.rrd", "rec-2", "sensor/c", [0])
    with pytest.raises(ValueError, match="recording_id="):
        dataframe.load_recording([tmp_path / "a.rrd", tmp_path / "c.rrd"])
    only = dataframe.load_recording([tmp_path / "a.rrd", tmp_path / "c.rrd"], recording_id="rec-2")
    assert only.entity_paths() == ["/sensor/c"]


def test_time_units_and_clamping(rec):
    import datetime as dt

    a = rec.latest_at("dna/structure/scaffolding/beads", "stable_time", dt.timedelta(seconds=1.5))
    b = rec.latest_at("dna/structure/scaffolding/beads", "stable_time", 1.5)
    assert np.array_equal(a["Points3D:positions"], b["Points3D:positions"])
    now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    left = rec.latest_at("dna/structure/left", "log_time", now)
    assert left["Points3D:positions"].shape == (100, 3)
    assert rec.latest_at("dna/structure/left", "log_time", dt.datetime(2000, 1, 1)) == {}
    raw = rec.latest_at("dna/structure/left", "stable_time", 1.0, clamp=False)
    assert raw["Points3D:radii"].shape == (1,)
    only = rec.latest_at("dna/structure/left", "stable_time", 1.0, components=["Points3D:radii"])
    assert list(only) == ["Points3D:radii"]
    log = rec.range("dna/structure", "log_time")
    assert log.schema.field("log_time").type == pa.timestamp("ns", tz="UTC") and log.num_rows == 400
    with pytest.raises(TypeError):
        rec.latest_at("dna/structure/left", "stable_time", "soon")


def test_progress_bar_only_on_a_terminal_for_big_files(monkeypatch):
    import io

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    bar = dataframe._Progress("big.rrd", 50_000_000)
    bar.update(25_000_000, final=True)
    assert "50.0%" in tty.getvalue() and "big.rrd" in tty.getvalue()
    small = dataframe._Progress("small.rrd", 1000)
    small.update(500, final=True)
    assert "small.rrd" not in tty.getvalue()


def test_reachable_as_rr_dataframe(dna_path):
    import rerun_zmq as rr

    assert rr.dataframe.load_recording(dna_path).application_id == "rerun_example_dna_abacus"


def test_grouped_loading_refuses_only_the_bad_chunks(tmp_path):
    """Small chunks of one entity are merged before insertion; a conflicting group is refused alone."""
    import numpy as np
    import pyarrow as pa
    import pytest

    from rerun_zmq import _wire, dataframe
    from rerun_zmq._chunk import build_chunk
    from rerun_zmq._rrd import RrdWriter

    def chunk(i, dtype, values):
        return build_chunk("/s", np.array([[i, 0]], np.uint64), {"t": ("sequence", np.array([i]))},
                           {"Scalars:scalars": (dtype, pa.array(values, dtype), np.array([1]))}, ["Scalars"], False)

    path = tmp_path / "mixed.rrd"
    w = RrdWriter(path)
    w.write(_wire.Hello("app", "rec", "p"))
    for i in range(1, 50):
        w.write(_wire.ChunkMsg("rec", chunk(i, pa.float64(), [float(i)])))
    w.write(_wire.ChunkMsg("rec", chunk(99, pa.string(), ["not a number"])))
    w.close()
    with pytest.warns(Warning, match="stored as"):
        rec = dataframe.load_recording(path)
    assert rec.range("/s", timeline="t").num_rows == 49
    assert len(rec.load_errors) == 1
