"""The data client on its own (no OpenGL): timeline switching, follow-live, refused chunks, recordings."""

from __future__ import annotations

import numpy as np

from ui.data_client import DataClient, FileSource, Update, select_timeline
from ui.state import AppState


def write_two_timelines(path: str) -> None:
    import rerun_zmq as rr

    rec = rr.new_recording("timelines", recording_id="tl")
    rr.save(path, recording=rec)
    for i in range(3):
        rr.set_time_sequence("frame", i, recording=rec)
        rr.log("a", rr.Points3D([[i, 0, 0]]), recording=rec)
        rr.flush(recording=rec)
    rr.set_time_seconds("sim_time", 5.0, recording=rec)
    rr.log("b", rr.Points3D([[0, 1, 0]]), recording=rec)
    rr.disconnect(recording=rec)


def feed(path: str, state: AppState) -> DataClient:
    """Apply the file one update per 'frame', as the render loop would."""
    client = DataClient(state)
    for update in FileSource(path).messages():
        client.apply(update)
        client.finish_batch()
    return client


def test_switches_to_a_newly_appearing_user_timeline(tmp_path):
    path = str(tmp_path / "tl.rrd")
    write_two_timelines(path)
    s = AppState(store=None)
    feed(path, s)
    assert s.time.timeline == "sim_time"
    assert s.time.cursor == 5_000_000_000  # follow: at the newest time


def test_a_timeline_the_user_picked_is_kept(tmp_path):
    path = str(tmp_path / "tl.rrd")
    write_two_timelines(path)
    s = AppState(store=None)
    client = DataClient(s)
    updates = list(FileSource(path).messages())
    first_chunk = next(i for i, u in enumerate(updates) if u.kind == "chunk")
    for u in updates[: first_chunk + 1]:
        client.apply(u)
    client.finish_batch()
    select_timeline(s, "frame")
    for u in updates[first_chunk + 1 :]:
        client.apply(u)
        client.finish_batch()
    assert s.time.timeline == "frame" and s.time.cursor == 2
    assert np.array_equal(s.time.times["frame"], [0, 1, 2])


def test_refused_chunk_is_reported_not_raised(tmp_path):
    import pyarrow as pa

    s = AppState(store=None)
    client = DataClient(s)
    bad = pa.RecordBatch.from_pydict({"x": [1]})
    client.apply(Update("chunk", "test", "rid", batch=bad))
    assert len(s.errors) == 1 and "refused" in s.errors[0]


def test_new_run_becomes_the_active_recording():
    s = AppState(store=None)
    client = DataClient(s)
    client.apply(Update("hello", "live", "run1", "app", value="recording"))
    client.apply(Update("hello", "live", "run2", "app", value="recording"))
    client.apply(Update("hello", "live", "bp", "app", value="blueprint"))
    assert s.recording_id == "run2" and set(s.recordings) == {"run1", "run2"}
    assert s.application_id == "app"


class FakeLive:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.tailed: list[str] = []

    def tail(self, recording_id: str) -> None:
        self.tailed.append(recording_id)


def test_live_mirror_tails_each_recording_into_a_local_store(tmp_path):
    path = str(tmp_path / "tl.rrd")
    write_two_timelines(path)
    s = AppState(store=None)
    client = DataClient(s)
    client.live = FakeLive("mirror")
    snap = {"recordings": [{"recording_id": "tl", "application_id": "timelines"}]}
    client.apply(Update("event", "live", value=("snapshot", snap)))
    assert client.live.tailed == ["tl"] and s.recording_id == "tl"
    for u in FileSource(path).messages():  # what the tail delivers: the recording's chunks
        if u.kind == "chunk":
            client.apply(Update("chunk", "live", "tl", batch=u.batch))
            client.finish_batch()
    assert s.time.timeline == "sim_time" and set(s.store.entity_paths()) == {"/a", "/b"}
    client.apply(Update("reset", "live", "tl"))  # a gap: the tail starts over
    client.finish_batch()
    assert s.store.entity_paths() == [] and s.time.times == {}
    client.apply(Update("event", "live", value=("recording_added", {"recording_id": "r2", "application_id": "a"})))
    assert client.live.tailed == ["tl", "r2"] and s.recording_id == "r2"


def test_live_events_and_results_feed_a_remote_store():
    import pyarrow as pa

    s = AppState(store=None)
    client = DataClient(s)
    client.live = FakeLive("query")
    snap = {
        "recordings": [
            {
                "recording_id": "r1",
                "application_id": "app",
                "entities": {"/a": 2},
                "timelines": {"frame": {"kind": "sequence", "min": 0, "max": 1}},
            }
        ]
    }
    client.apply(Update("event", "live", value=("snapshot", snap)))
    client.finish_batch()
    assert s.recording_id == "r1" and s.time.timeline == "frame" and s.time.cursor == 1
    client.apply(
        Update(
            "event",
            "live",
            value=(
                "timeline_extended",
                {"recording_id": "r1", "timeline": "frame", "kind": "sequence", "min": 0, "max": 5},
            ),
        )
    )
    client.apply(Update("event", "live", value=("rows_added", {"recording_id": "r1", "rows": {"/a": 3}})))
    positions = pa.array([[[1.0, 2.0, 3.0]]], type=pa.list_(pa.list_(pa.float32(), 3)))
    batch = pa.RecordBatch.from_arrays([positions], names=["Points3D:positions"])
    client.apply(
        Update(
            "result",
            "live",
            batch=batch,
            value={"entity": "/a", "recording_id": "r1", "times": {"Points3D:positions": 5}},
        )
    )
    client.finish_batch()
    st = s.store
    assert st.row_counts() == {"/a": 5} and st.time_range("frame") == (0, 5) and s.time.cursor == 5
    cells = st.latest_at("/a", "frame", 5)
    assert cells["Points3D:positions"].values.to_pylist() == [[1.0, 2.0, 3.0]]
    counts, _ = st.density("/a", "frame", bins=6)
    assert counts.sum() == 3 and counts[-1] == 3
    assert 5 in s.time.times["frame"]
    client.apply(Update("event", "live", value=("recording_added", {"recording_id": "r2", "application_id": "app"})))
    assert s.recording_id == "r2"  # a new run becomes the active recording


def test_events_before_any_recording_are_harmless():
    s = AppState(store=None)
    client = DataClient(s)
    client.apply(Update("event", "live", value=("stats", {"rows": 0})))
    client.apply(Update("event", "live", value=("snapshot", {"recordings": []})))
    client.finish_batch()
    assert s.store is None and s.time.timeline is None
