"""The query endpoint: standing latest_at pushed on change, store events in order, live dataframes."""

from __future__ import annotations

import time

import numpy as np

import rerun_zmq as rr
from ingest.client import IngestClient
from rerun_zmq._net import connect
from rerun_zmq._wire import Event, Result
from rerun_zmq.dataframe import connect_recording


def wait_result(client: IngestClient, qid: int, pred, events: list | None = None, timeout: float = 10.0) -> Result:
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        for msg in client.poll(remaining):
            if isinstance(msg, Result) and msg.query_id == qid and pred(msg):
                return msg
            if isinstance(msg, Event) and events is not None:
                events.append(msg)
    raise TimeoutError("no matching result")


def scalar_of(res: Result) -> float:
    return res.batch.column("Scalars:scalars")[0].values[0].as_py()


def producer(addr: str, recording_id: str) -> rr.RecordingStream:
    rec = rr.new_recording("query_test", recording_id=recording_id)
    connect(rec, addr)
    return rec


def test_standing_latest_at_is_pushed_when_the_answer_changes(ingest):
    ing = ingest()
    rec = producer(ing.addr, "q1")
    with IngestClient(ing.addr) as client:
        client.subscribe()
        qid = client.latest_at(timeline="step", time=100, entities=["/q"], recording_id="q1")
        rec.set_time("step", sequence=1)
        rec.log("q", rr.Scalars(1.0))
        assert rec.flush(10)
        events: list[Event] = []
        first = wait_result(client, qid, lambda r: r.params.get("entity") == "/q", events)
        assert scalar_of(first) == 1.0 and first.params["times"] == {"Scalars:scalars": 1}
        rec.set_time("step", sequence=5)
        rec.log("q", rr.Scalars(5.0))
        assert rec.flush(10)
        assert scalar_of(wait_result(client, qid, lambda r: r.params.get("entity") == "/q", events)) == 5.0
        client.update(qid, time=2)  # cursor moved back: the older value is pushed
        assert scalar_of(wait_result(client, qid, lambda r: r.params.get("entity") == "/q", events)) == 1.0
    rec.close()
    names = [e.name for e in events]
    assert events and [e.seq for e in events] == list(range(events[0].seq, events[0].seq + len(events)))
    assert not client.gap
    assert ing.stop() == 0
    assert names[0] == "snapshot" and events[0].seq == 1 and "entity_added" in names


def test_events_describe_new_entities_and_time_ranges(ingest):
    ing = ingest()
    with IngestClient(ing.addr) as client:
        client.subscribe()
        rec = producer(ing.addr, "q2")
        for i in range(10):
            rec.set_time("step", sequence=i)
            rec.log("a/b", rr.Scalars(float(i)))
        assert rec.flush(10)
        seen: dict[str, list] = {}
        deadline = time.monotonic() + 10
        while "rows_added" not in seen or "timeline_extended" not in seen:
            assert time.monotonic() < deadline, seen
            for m in client.poll(1.0):
                if isinstance(m, Event):
                    seen.setdefault(m.name, []).append(m.params)
        rec.close()
    assert seen["snapshot"][0]["recordings"] == []
    assert {"recording_id": "q2", "entity_path": "/a/b"} in seen["entity_added"]
    step = [p for p in seen["timeline_extended"] if p["timeline"] == "step"][-1]
    assert (step["min"], step["max"]) <= (0, 9) and step["kind"] == "sequence"
    assert sum(p["rows"].get("/a/b", 0) for p in seen["rows_added"]) >= 1
    assert ing.stop() == 0


def test_connect_recording_answers_live(ingest):
    ing = ingest()
    rec = producer(ing.addr, "q3")
    for i in range(100):
        rec.set_time("step", sequence=i)
        rec.log("live", rr.Scalars(float(i)))
    assert rec.flush(10)
    with connect_recording(ing.addr, "q3") as live:
        assert live.entity_paths() == ["/live"]
        assert live.latest_at("/live", "step")["Scalars:scalars"].tolist() == [99.0]
        for i in range(100, 150):
            rec.set_time("step", sequence=i)
            rec.log("live", rr.Scalars(float(i)))
        assert rec.flush(10)
        deadline = time.monotonic() + 10
        while live.latest_at("/live", "step")["Scalars:scalars"].tolist() != [149.0]:
            assert time.monotonic() < deadline
            live._client._sock.poll(100)  # wait for the next push (an event), then query again
        table = live.range("/live", "step", 0, 149)
        assert table.num_rows == 150
        assert np.array_equal(np.asarray(table.column("step")), np.arange(150))
    rec.close()
    assert ing.stop() == 0


def test_recursive_clear_on_a_parent_updates_a_standing_query_on_its_child(ingest):
    ing = ingest()
    rec = producer(ing.addr, "q4")
    with IngestClient(ing.addr) as client:
        qid = client.latest_at(timeline="step", time=100, entities=["/a/b"], recording_id="q4")
        rec.set_time("step", sequence=1)
        rec.log("a/b", rr.Scalars(1.0))
        assert rec.flush(10)
        assert scalar_of(wait_result(client, qid, lambda r: r.params.get("entity") == "/a/b")) == 1.0
        rec.set_time("step", sequence=2)
        rec.log("a", rr.Clear(recursive=True))
        assert rec.flush(10)
        cleared = wait_result(client, qid, lambda r: r.params.get("entity") == "/a/b")
        assert cleared.params["times"] == {}  # the child's value is hidden now
    rec.close()
    assert ing.stop() == 0


def test_memory_limit_drops_are_pushed_to_viewers(ingest):
    ing = ingest("--memory-limit", "300KB")
    with IngestClient(ing.addr) as client:
        client.subscribe()
        deadline = time.monotonic() + 10
        early = []  # the subscription is in place once its snapshot arrived: no drop can be missed
        while not any(isinstance(m, Event) and m.name == "snapshot" for m in early):
            assert time.monotonic() < deadline
            early += client.poll(1.0)
        rec = producer(ing.addr, "q5")
        for c in range(40):
            for i in range(200):
                rec.set_time("step", sequence=c * 200 + i)
                rec.log("big", rr.Points3D(np.full((10, 3), float(i), dtype=np.float32)))
            rec.batcher.flush()
        assert rec.flush(10)
        dropped = []
        deadline = time.monotonic() + 10
        while not dropped:
            assert time.monotonic() < deadline
            dropped += [m.params for m in client.poll(1.0) if isinstance(m, Event) and m.name == "data_dropped"]
        rec.close()
    assert dropped[0]["recording_id"] == "q5" and dropped[0]["entity_path"] == "/big" and dropped[0]["rows"] > 0
    assert ing.stop() == 0
