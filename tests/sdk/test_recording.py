"""RecordingStream: time state, sinks, strict mode, current-recording resolution, processes."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

import rerun_zmq as rr
from rerun_zmq._rrd import RrdReader
from rerun_zmq._rrd_tools import stats
from rerun_zmq._wire import ChunkMsg, Hello

from .helpers import chunks, rows, scalar, text


def test_time_api_kinds_and_units(rec):
    rr.set_time_sequence("frame", 3)
    rr.set_time_seconds("sim", 1.5)
    rr.set_time_nanos("raw", 7)
    rr.set_time("dur", duration=dt.timedelta(milliseconds=2))
    rr.set_time("ts", timestamp=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    rr.set_time("np_ts", timestamp=np.datetime64("2020-01-01T00:00:01", "ns"))
    rr.set_time("np_dur", duration=np.timedelta64(5, "ms"))
    rr.log("a", scalar(1.0))
    (row,) = rows(rec)
    assert row["frame"] == 3
    assert row["sim"] == 1_500_000_000
    assert row["raw"] == 7
    assert row["dur"] == 2_000_000
    assert row["ts"] == 1_577_836_800_000_000_000
    assert row["np_ts"] == 1_577_836_801_000_000_000
    assert row["np_dur"] == 5_000_000
    assert row["log_time"] > 1_600_000_000_000_000_000
    kinds = __import__("json").loads(chunks(rec)[0].schema.metadata[b"rz.timelines"])
    assert kinds == {"log_time": "timestamp", "frame": "sequence", "sim": "duration", "raw": "duration",
                     "dur": "duration", "ts": "timestamp", "np_ts": "timestamp", "np_dur": "duration"}


def test_disable_and_reset_time(rec):
    rr.set_time_sequence("frame", 1)
    rr.set_time_sequence("other", 1)
    rr.disable_timeline("other")
    rr.log("a", scalar(1.0))
    rr.reset_time()
    rr.log("b", scalar(2.0))
    a, b = rows(rec)
    assert "frame" in a and "other" not in a
    assert set(b) >= {"log_time"} and "frame" not in b


def test_time_is_per_thread(rec):
    rr.set_time_sequence("frame", 100)
    done = threading.Event()

    def worker():
        with rec:
            rr.set_time_sequence("frame", 5)
            rr.log("worker", scalar(0.0))
        done.set()

    threading.Thread(target=worker).start()
    assert done.wait(10)
    rr.log("main", scalar(1.0))
    got = {r["entity"]: r["frame"] for r in rows(rec)}
    assert got == {"/worker": 5, "/main": 100}


def test_bad_time_input_warns_or_raises(rec):
    with pytest.warns(rr.RerunZmqWarning, match="sequence time must be an integer"):
        rr.set_time_sequence("frame", "three")
    with pytest.raises(TypeError, match="exactly one of"):
        rr.set_strict_mode(True)
        try:
            rr.set_time("x", sequence=1, duration=2)
        finally:
            rr.set_strict_mode(False)


def test_static_rows_have_no_timelines(rec):
    rr.set_time_sequence("frame", 1)
    rr.log("s", text("hello"), static=True)
    (batch,) = chunks(rec)
    assert batch.schema.metadata[b"rz.is_static"] == b"1"
    assert batch.schema.names == ["rz.row_id", "TextLog:text"]


def test_one_row_per_log_call_and_rowids_sorted(rec):
    for i in range(500):
        rr.set_time_sequence("frame", i)
        rr.log(f"e{i % 5}", scalar(float(i)))
    rs = rows(rec)
    assert len(rs) == 500
    ids = [r["rz.row_id"] for r in rs]
    assert ids == sorted(ids) and len(set(ids)) == 500
    for batch in chunks(rec):
        col = batch.column(0).to_pylist()
        assert col == sorted(col)


def test_bad_entity_path_type_warns_and_keeps_other_data(rec):
    with pytest.warns(rr.RerunZmqWarning, match="entity path must be a str"):
        rr.log(42, scalar(1.0))
    with pytest.warns(rr.RerunZmqWarning, match="reserved"):
        rr.log("__internal/x", scalar(1.0))
    with pytest.warns(rr.RerunZmqWarning, match="expected an archetype"):
        rr.log("a", object())
    rr.log("ok", scalar(1.0))
    assert [r["entity"] for r in rows(rec)] == ["/ok"]


def test_warning_points_at_user_line(rec):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rr.log(42, scalar(1.0))
    assert caught and caught[0].filename == __file__


def test_strict_mode_raises(rec):
    rr.set_strict_mode(True)
    try:
        with pytest.raises(TypeError):
            rr.log(42, scalar(1.0))
    finally:
        rr.set_strict_mode(False)
    with pytest.raises(TypeError):
        rr.log(42, scalar(1.0), strict=True)


def test_strict_mode_from_env(subprocess_env):
    code = "import rerun_zmq as rr\nrr.init('x')\nrr.log(1, [])\n"
    env = dict(subprocess_env, RERUN_ZMQ_STRICT="1")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "TypeError" in proc.stderr


def test_data_logged_before_save_reaches_the_file(tmp_path):
    stream = rr.new_recording("carry")
    stream.log("early", scalar(1.0))
    stream.save(tmp_path / "c.rrd")
    stream.log("late", scalar(2.0))
    stream.close()
    s = stats(str(tmp_path / "c.rrd"))
    assert s["entities"] == ["/early", "/late"] and s["rows"] == 2 and s["complete"]


def test_save_streams_before_exit(tmp_path):
    stream = rr.new_recording("streaming")
    stream.save(tmp_path / "s.rrd")
    stream.log("a", scalar(1.0))
    stream.flush()
    reader = RrdReader(tmp_path / "s.rrd")
    msgs = list(reader)
    assert any(isinstance(m, ChunkMsg) for m in msgs) and not reader.complete
    stream.close()


def test_memory_recording_drains_as_rrd(tmp_path):
    stream = rr.new_recording("mem")
    mem = stream.memory_recording()
    stream.log("a", scalar(1.0))
    stream.flush()
    data = mem.drain_as_bytes()
    msgs = list(RrdReader(data))
    assert isinstance(msgs[0], Hello) and isinstance(msgs[1], ChunkMsg)
    stream.close()


def test_disconnect_closes_file(tmp_path):
    stream = rr.new_recording("disc")
    stream.save(tmp_path / "d.rrd")
    stream.log("a", scalar(1.0))
    stream.disconnect()
    assert stats(str(tmp_path / "d.rrd"))["complete"]
    stream.log("b", scalar(1.0))  # buffered, not lost
    mem = stream.memory_recording()
    stream.flush()
    assert any(isinstance(m, ChunkMsg) for m in mem.messages())
    stream.close()


def test_recording_argument_and_context_manager():
    a = rr.new_recording("a")
    b = rr.new_recording("b")
    ma, mb = a.memory_recording(), b.memory_recording()
    rr.log("x", scalar(1.0), recording=a)
    with b:
        rr.log("y", scalar(1.0))
    a.flush(), b.flush()
    assert sum(isinstance(m, ChunkMsg) for m in ma.messages()) == 1
    assert sum(isinstance(m, ChunkMsg) for m in mb.messages()) == 1
    a.close(), b.close()


def test_batcher_thresholds_from_env(subprocess_env, tmp_path):
    code = (
        "import rerun_zmq as rr, numpy as np, pyarrow as pa\n"
        "rec = rr.init('env')\n"
        "assert rec.batcher.config.flush_num_rows == 10 and rec.batcher.config.flush_tick == 5.0\n"
        f"rr.save({str(tmp_path / 'e.rrd')!r})\n"
        "for i in range(100):\n"
        "    rr.log('a', rr.ComponentBatch('Scalars:scalars', pa.float64(), np.array([1.0])))\n"
        "rr.flush()\n"
    )
    env = dict(subprocess_env, RERUN_ZMQ_FLUSH_NUM_ROWS="10", RERUN_ZMQ_FLUSH_TICK_SECS="5")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    s = stats(str(tmp_path / "e.rrd"))
    # a 5 s tick would give one chunk; the 10-row threshold forces several
    assert s["rows"] == 100 and s["chunks"] >= 5


def test_bad_env_threshold_names_variable(subprocess_env):
    env = dict(subprocess_env, RERUN_ZMQ_FLUSH_TICK_SECS="soon")
    proc = subprocess.run([sys.executable, "-c", "import rerun_zmq as rr; rr.init('x')"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "RERUN_ZMQ_FLUSH_TICK_SECS" in proc.stderr


MP_CHILD = """
import multiprocessing as mp, sys
import numpy as np, pyarrow as pa
import rerun_zmq as rr

def work(k):
    rr.set_time_sequence("step", k)
    for i in range(200):
        rr.log(f"worker/{k}", rr.ComponentBatch("Scalars:scalars", pa.float64(), np.array([float(i)])))

if __name__ == "__main__":
    rr.init("mp_test")
    rr.save(sys.argv[1])
    rr.log("parent", rr.ComponentBatch("Scalars:scalars", pa.float64(), np.array([0.0])))
    ctx = mp.get_context(sys.argv[2])
    procs = [ctx.Process(target=work, args=(k,)) for k in range(2)]
    [p.start() for p in procs]
    [p.join() for p in procs]
    assert all(p.exitcode == 0 for p in procs)
"""


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing_children_land_in_the_same_recording(tmp_path, subprocess_env, method):
    script = tmp_path / "mp.py"
    script.write_text(MP_CHILD)
    out = tmp_path / "mp.rrd"
    proc = subprocess.run([sys.executable, str(script), str(out), method], env=subprocess_env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    s = stats(str(out))
    assert s["complete"], s["error"]
    assert len(s["recordings"]) == 1 and s["producers"] == 3
    assert s["rows"] == 401
    assert s["entities"] == ["/parent", "/worker/0", "/worker/1"]


def test_logging_before_init_warns_once(subprocess_env):
    code = "import rerun_zmq as rr\nfor i in range(3):\n    rr.log('a', rr.Scalars(1.0))\n"
    proc = subprocess.run([sys.executable, "-c", code], env=subprocess_env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stderr.count("logged before rr.init()") == 1


@pytest.mark.parametrize("kw", [
    {"sequence": 2**63}, {"sequence": -(2**63) - 1}, {"duration": 1e30}, {"timestamp": -1e30},
    {"duration": float("inf")}, {"duration": float("nan")}, {"timestamp": dt.datetime.max},
    {"timestamp": np.datetime64(10**6, "Y")}, {"duration": np.timedelta64("NaT")},
])
def test_time_outside_int64_is_refused_and_rows_around_it_survive(rec, kw):
    """An unstorable time used to be accepted, then failed on the batcher thread and took the
    good rows batched with it down (inf/NaN even raised OverflowError into the user's code)."""
    rec.set_time("t", sequence=1) if "sequence" in kw else rec.set_time("t", duration=1)
    rec.log("e", scalar(1.0))
    with pytest.warns(rr.RerunZmqWarning, match="fit a timeline|finite|NaT"):
        rec.set_time("t", **kw)
    rec.log("e", scalar(2.0))
    got = rows(rec, "/e")
    assert [r["Scalars:scalars"] for r in got] == [[1.0], [2.0]]


def test_send_columns_times_outside_int64_are_refused(rec):
    for bad in ([float("nan")], [1e30], [2**40]):
        with pytest.raises(ValueError, match="finite seconds"):
            rr._time.array_to_int64("duration", np.array(bad))
    assert list(rr._time.array_to_int64("duration", np.array([1.5, -3]))) == [1_500_000_000, -3_000_000_000]


@pytest.mark.parametrize("bad", [
    np.array(["2020-01-01", "NaT"], dtype="datetime64[D]"),
    np.array(["2020-01-01", "3000-01-01"], dtype="datetime64[D]"),
    np.array([1, 10**12], dtype="timedelta64[D]"),
])
def test_numpy_time_columns_that_wrap_or_are_nat_are_refused(bad):
    """numpy's cast to nanoseconds wraps silently (year 3000 became 1830) and NaT became INT64_MIN."""
    with pytest.raises(ValueError, match="NaT|fit int64"):
        rr._time.array_to_int64("timestamp", bad)


def test_numpy_time_columns_in_range_convert_exactly():
    days = np.array(["1970-01-02", "2020-01-01"], dtype="datetime64[D]")
    assert list(rr._time.array_to_int64("timestamp", days)) == [86_400 * 10**9, 1_577_836_800 * 10**9]
    assert list(rr._time.array_to_int64("duration", np.array([1500], dtype="timedelta64[ps]"))) == [1]


def test_every_memory_drain_is_a_file_that_says_whose_data_it_holds():
    """Only the first drain began with the Hello: later drains were files of orphan chunks."""
    stream = rr.new_recording("mem2")
    mem = stream.memory_recording()
    got = []
    for value in (1.0, 2.0):
        stream.log("a", scalar(value))
        stream.flush()
        got.append(list(RrdReader(mem.drain_as_bytes())))
    for msgs in got:
        assert isinstance(msgs[0], Hello) and msgs[0].recording_id == stream.recording_id
        assert [type(m) for m in msgs[1:]] == [ChunkMsg]
    assert list(RrdReader(mem.drain_as_bytes())) == []  # nothing new: no data, no Hello
    stream.close()


def test_thread_local_recording_stays_on_its_thread(rec):
    """The thread-local slot has a class default (a hot-path read); setting it on one thread must
    not leak to another, and clearing it falls back to the global recording."""
    other = rr.RecordingStream("other_app", recording_id="other")
    other.test_sink = other.memory_recording()
    seen = {}
    ready, go = threading.Event(), threading.Event()

    def worker():
        seen["before"] = rr.get_thread_local_data_recording()
        ready.set()
        go.wait(10)
        rr.log("from_worker", scalar(2.0))

    prev_global = rr.set_global_data_recording(rec)
    prev = rr.set_thread_local_data_recording(other)
    try:
        t = threading.Thread(target=worker)
        t.start()
        assert ready.wait(10)
        rr.log("from_main", scalar(1.0))
        go.set()
        t.join(10)
    finally:
        rr.set_thread_local_data_recording(prev)
        rr.set_global_data_recording(prev_global)
    assert seen["before"] is None
    assert rr.get_thread_local_data_recording() is prev
    assert [r["entity"] for r in rows(rec)] == ["/from_worker"]
    assert [r["entity"] for r in rows(other)] == ["/from_main"]
    other.close()


def test_scalars_float_fast_path_matches_general_path(rec):
    from rerun_zmq.archetypes._base import batches_signature

    fast, general = rr.Scalars(2.5), rr.Scalars(np.float64(2.5))
    (fb,), (gb,) = fast.as_component_batches(), general.as_component_batches()
    assert (fb.key, fb.arrow_type) == (gb.key, gb.arrow_type) == ("Scalars:scalars", gb.arrow_type)
    assert fast._sig == batches_signature([fb]) == general._sig
    rr.log("a", fast)
    rr.log("a", general)
    rr.log("a", rr.Scalars(float("nan")))
    values = [r["Scalars:scalars"] for r in rows(rec)]
    assert values[:2] == [[2.5], [2.5]] and np.isnan(values[2][0])
