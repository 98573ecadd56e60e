"""``--shards 2``: a store worker that dies is replaced (its loss reported), one that keeps dying is
given up, and a chunk whose confirmation never comes is refused at its deadline."""

from __future__ import annotations

import logging
import os
import select
import signal
import sys
import threading
import time

import pytest

import rerun_zmq as rr
from ingest.client import IngestClient
from ingest.routing import ShardMap
from rerun_zmq import _wire
from rerun_zmq._errors import RerunZmqWarning
from rerun_zmq._net import connect
from rerun_zmq._wire import Event, Result

from .conftest import finish_producer, read_line, rows_by_entity, start_producer
from .test_server_inproc import log_rows, running_server

SHARDS = ShardMap(2)
SAFETY = 30.0  # seconds; only a guard against a hang, never what decides an outcome


def on_shard(k: int, prefix: str) -> str:
    """An entity name (no leading slash) whose path maps to shard ``k`` of two."""
    return next(f"{prefix}{i}" for i in range(1000) if SHARDS.shard_of(f"/{prefix}{i}") == k)


def wait_events(client: IngestClient, names: set[str]) -> dict[str, Event]:
    """The first event of each name in ``names`` (``client`` is subscribed)."""
    got: dict[str, Event] = {}
    deadline = time.monotonic() + SAFETY
    while not names <= got.keys():
        assert time.monotonic() < deadline, f"no {sorted(names - got.keys())} event; got {sorted(got)}"
        for msg in client.poll(0.5):
            if isinstance(msg, Event) and msg.name in names:
                got.setdefault(msg.name, msg)
    return got


def test_a_killed_worker_is_replaced_and_every_row_is_stored_or_refused(ingest):
    """SIGKILL worker 0 mid-stream: the producers' flushes return, each row is stored or refused, the
    rows the dead worker held are reported lost (log, event) and a new worker stores shard 0 again."""
    ing = ingest("--shards", "2")
    a, b, after = on_shard(0, "a"), on_shard(1, "b"), on_shard(0, "after")
    rows = 4000
    with IngestClient(ing.addr) as client:
        client.subscribe()
        old = client.stats()["workers"]
        procs = {n: start_producer(ing.addr, n, "--rows", str(rows), "--rate", "4000", "--recording-id", "kill",
                                   "--report-half") for n in (a, b)}
        for p in procs.values():
            assert read_line(p) == "HALF"  # half of each is stored (acknowledged); now worker 0 dies mid-stream
        os.kill(old[0], signal.SIGKILL)
        got = {n: finish_producer(p) for n, p in procs.items()}
        events = wait_events(client, {"worker_lost", "worker_restarted"})
        rec = rr.new_recording("recovery", recording_id="kill")
        connect(rec, ing.addr)
        log_rows(rec, after, 25)
        assert rec.flush(10)
        _, batches = client.chunks("kill")
        stats = client.stats()
        rec.close()
    stored = {ent: len(r) for ent, r in rows_by_entity(batches).items()}
    for n in (a, b):
        assert got[n]["flushed"] and got[n]["undelivered_rows"] == 0 and got[n]["dropped_rows"] == 0, got[n]
        assert got[n]["acked_rows"] + got[n]["rejected_rows"] == rows, got[n]
    assert got[b]["acked_rows"] == rows and stored[f"/{b}"] == rows
    lost = events["worker_lost"].params
    assert lost["shard"] == 0 and lost["pid"] == old[0] and "SIGKILL" in lost["how"]
    assert lost["rows"] >= rows // 2  # at least the half acknowledged before the kill
    # acknowledged rows of /a: held by the dead worker (lost, reported) or by its successor (queryable)
    assert lost["rows"] + stored.get(f"/{a}", 0) == got[a]["acked_rows"]
    assert stats["rejected_by_code"].get("store_unavailable", 0) == lost["refused_chunks"]
    assert stored[f"/{after}"] == 25  # the new worker serves shard 0
    assert stats["workers"][0] != old[0] and stats["workers"][1] == old[1]
    assert events["worker_restarted"].params["pid"] == stats["workers"][0]
    text = ing.log_text()
    assert f"store worker 0 (pid {old[0]}) exited: killed by SIGKILL" in text
    assert f"the {lost['rows']} rows in" in text and "are gone from the live store" in text
    pidfds = [os.pidfd_open(pid) for pid in stats["workers"]]
    assert ing.stop() == 0
    for fd in pidfds:  # the new worker exits with the ingest, like the old one
        assert select.select([fd], [], [], 10)[0]
        os.close(fd)


def test_a_restarted_worker_gets_the_hierarchy_and_the_standing_queries_back():
    """The broadcast Transform3D chunks are copied to the new worker from the live one, and a viewer's
    standing latest_at query answers for entities of the restarted shard again."""
    tf, later = on_shard(0, "tf"), on_shard(0, "later")
    with running_server("--shards", "2", "--shutdown-timeout", "2") as srv:
        addr = f"127.0.0.1:{srv.port}"
        rec = rr.new_recording("recovery", recording_id="hier")
        connect(rec, addr)
        rec.log(tf, rr.Transform3D(translation=[1, 2, 3]), static=True)  # every shard holds it; shard 0 owns it
        assert rec.flush(10)
        with IngestClient(addr) as client:
            client.subscribe()
            qid = client.latest_at(timeline="step", time=10**9, recording_id="hier")
            os.kill(srv.shards.procs[0].pid, signal.SIGKILL)
            wait_events(client, {"worker_restarted"})
            deadline = time.monotonic() + SAFETY
            while f"/{tf}" not in rows_by_entity(client.chunks("hier")[1]):  # the copy follows the restart
                assert time.monotonic() < deadline, "the restarted worker never got the Transform3D chunk"
            log_rows(rec, later, 3)
            assert rec.flush(10)
            answered = None
            while answered is None:
                assert time.monotonic() < deadline, "the standing query never answered for the restarted shard"
                answered = next((m for m in client.poll(0.5) if isinstance(m, Result) and m.query_id == qid
                                 and m.params.get("entity") == f"/{later}"), None)
        rec.close()
    assert answered.batch.column("Scalars:scalars")[0].values[0].as_py() == 2.0
    assert srv.health.worker_deaths == 1 and srv.health.worker_restarts == 1


def test_a_worker_that_keeps_dying_at_start_is_given_up_and_the_other_shard_still_serves(caplog):
    caplog.set_level(logging.ERROR, logger="ingest")
    a, b = on_shard(0, "a"), on_shard(1, "b")
    with running_server("--shards", "2", "--shutdown-timeout", "2") as srv:
        addr = f"127.0.0.1:{srv.port}"
        shards = srv.shards
        shards.restart_backoff, shards.max_restarts = 0.02, 2
        shards._command = lambda k, ident: [sys.executable, "-c", "raise SystemExit(3)"]  # dies at once
        with IngestClient(addr) as client:
            client.subscribe()
            os.kill(shards.procs[0].pid, signal.SIGKILL)
            failed = wait_events(client, {"worker_failed"})["worker_failed"]
            rec = rr.new_recording("recovery", recording_id="giveup")
            sink = connect(rec, addr, flush_timeout_sec=3.0)
            with pytest.warns(RerunZmqWarning, match="store_unavailable.*gave up"):
                log_rows(rec, a, 5)
                log_rows(rec, b, 7)
                assert sink.flush(10)
            stats = client.stats()
        rec.close()
    assert sink.stats.rejected_rows == 5 and sink.stats.acked_rows == 7
    assert stats["rejected_by_code"] == {"store_unavailable": 1}
    assert failed.params["shard"] == 0 and "died 3 times" in failed.params["reason"]
    assert "exited with code 3" in failed.params["reason"]
    assert srv.health.worker_deaths == 3 and srv.health.worker_restarts == 2 and srv.health.workers_given_up == 1
    assert shards.status()[0]["state"] == "failed" and shards.status()[1]["state"] == "ready"
    assert any("gave up restarting it" in r.getMessage() for r in caplog.records)


def test_a_lost_worker_reply_is_refused_at_the_deadline_and_a_late_one_is_harmless():
    with running_server("--shards", "2", "--shutdown-timeout", "2") as srv:
        shards = srv.shards
        shards.chunk_deadline = 1.0
        from_worker, lost = shards._from_worker, []

        def lose_the_first_ack(frames, k):
            if not lost and frames[0].bytes == b"" and \
                    isinstance(_wire.decode([f.bytes for f in frames[1:]]), _wire.Ack):
                lost.append((frames, k))
                raise RuntimeError("a reply the ingest cannot read")  # logged, counted, skipped
            return from_worker(frames, k)

        shards._from_worker = lose_the_first_ack
        rec = rr.new_recording("recovery", recording_id="late")
        sink = connect(rec, f"127.0.0.1:{srv.port}", flush_timeout_sec=3.0)
        with pytest.warns(RerunZmqWarning, match="store_timeout"):
            log_rows(rec, "a", 5)
            assert sink.flush(5)  # returns: the chunk was refused at its deadline
        assert sink.stats.rejected_rows == 5 and sink.stats.acked_rows == 0
        delivered = threading.Event()

        def deliver_late() -> None:
            try:
                from_worker(*lost[0])
            finally:
                delivered.set()

        shards._loop.call_soon_threadsafe(deliver_late)
        assert delivered.wait(SAFETY)
        log_rows(rec, "a", 3)
        assert sink.flush(10)
        assert sink.stats.rejected_rows == 5 and sink.stats.acked_rows == 3
        (p,) = srv.registry.producers()
        assert not p.outstanding and p.done_seq == p.received_seq and p.rows == 3 and p.chunks == 1
        rec.close()
    h = srv.health
    assert (h.worker_errors, h.chunk_timeouts, h.late_worker_replies) == (1, 1, 1)
    assert (h.rows, h.chunks, dict(h.rejected)) == (3, 1, {"store_timeout": 1})
