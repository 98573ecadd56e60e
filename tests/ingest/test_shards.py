"""``--shards 2``: worker processes store the chunks; exactly once, queries see every shard, clean exit."""

from __future__ import annotations

import os
import select
import time

import rerun_zmq as rr
from ingest.client import IngestClient
from ingest.routing import ShardMap
from rerun_zmq._net import connect
from rerun_zmq._wire import Result
from rerun_zmq.dataframe import connect_recording

from .conftest import finish_producer, rows_by_entity, start_producer


def test_two_shards_store_everything_once_and_answer_queries(ingest):
    ing = ingest("--shards", "2")
    names = [f"s{k}" for k in range(6)]
    assert len({ShardMap(2).shard_of(f"/{n}") for n in names}) == 2  # both shards get entities
    procs = [start_producer(ing.addr, n, "--rows", "3000", "--recording-id", "sh") for n in names]
    for p in procs:
        assert finish_producer(p)["acked_rows"] == 3000
    rec = rr.new_recording("shards", recording_id="sh")
    connect(rec, ing.addr)
    rec.log("world", rr.Transform3D(translation=[1, 2, 3]), static=True)  # broadcast to every shard
    assert rec.flush(10)
    with IngestClient(ing.addr) as client:
        stats = client.stats()
        params, batches = client.chunks("sh")
        qid = client.latest_at(timeline="step", time=10_000, recording_id="sh")
        answered: dict[str, Result] = {}
        deadline = time.monotonic() + 10
        while len(answered) < len(names) + 1:
            assert time.monotonic() < deadline, sorted(answered)
            for m in client.poll(1.0):
                if isinstance(m, Result) and m.query_id == qid and "entity" in m.params:
                    answered[m.params["entity"]] = m
        seqs = [r.seq for r in answered.values()]
        assert len(set(seqs)) == len(seqs)  # one sequence across both shards
    rows = rows_by_entity(batches)
    assert params["chunks"] == len(batches)
    for n in names:
        assert len(rows[f"/{n}"]) == 3000 and len({rid for rid, _ in rows[f"/{n}"]}) == 3000
    assert len(rows["/world"]) == 1  # stored in both shards, reported once
    assert answered["/s0"].batch.column("Scalars:scalars")[0].values[0].as_py() == 2999.0
    with connect_recording(ing.addr, "sh") as live:
        assert sorted(live.entity_paths()) == sorted([f"/{n}" for n in names] + ["/world"])
    rec.close()
    assert len(stats["workers"]) == 2
    pidfds = [os.pidfd_open(pid) for pid in stats["workers"]]
    assert ing.stop() == 0
    for fd in pidfds:  # the workers exited with the ingest
        assert select.select([fd], [], [], 10)[0]
        os.close(fd)


def test_a_dead_worker_never_stalls_acks(ingest):
    """A worker killed before the producers start: it is replaced, and its entities' chunks are each
    stored or refused (counted), the others' stored; no hang (tests/ingest/test_worker_recovery.py
    covers the restart in detail)."""
    import signal

    ing = ingest("--shards", "2")
    shard = ShardMap(2)
    on0 = next(f"d{k}" for k in range(100) if shard.shard_of(f"/d{k}") == 0)
    on1 = next(f"d{k}" for k in range(100) if shard.shard_of(f"/d{k}") == 1)
    with IngestClient(ing.addr) as client:
        workers = client.stats()["workers"]
    os.kill(workers[0], signal.SIGKILL)
    procs = {n: start_producer(ing.addr, n, "--rows", "2000", "--recording-id", "dead") for n in (on0, on1)}
    got = {n: finish_producer(p) for n, p in procs.items()}
    assert got[on1]["flushed"] and got[on1]["acked_rows"] == 2000
    assert got[on0]["flushed"] and got[on0]["acked_rows"] + got[on0]["rejected_rows"] == 2000
    assert "store worker 0 (pid" in ing.log_text()
