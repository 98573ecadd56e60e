"""``--shards 2``: what a dying worker leaves behind is accounted for: one-shot queries it had not
answered still finish, and a death while the ingest shuts down is reported like any other."""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import sys
import time

import rerun_zmq as rr
from ingest.client import IngestClient
from rerun_zmq._net import connect
from rerun_zmq._wire import Event, Result

from .conftest import ROOT
from .test_server_inproc import log_rows, running_server
from .test_worker_recovery import SAFETY, on_shard, wait_events


@contextlib.contextmanager
def frozen(pid: int):
    """Worker ``pid`` stopped (SIGSTOP), so it answers nothing; yields a function that kills it, which
    also happens at the end whatever happens (through a pidfd: never another process reusing the pid)."""
    fd = os.pidfd_open(pid)

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(fd, signal.SIGKILL)

    try:
        signal.pidfd_send_signal(fd, signal.SIGSTOP)
        yield kill
    finally:
        kill()
        os.close(fd)


def wait_exit(pid: int) -> None:
    """Wait (without reaping it) until process ``pid`` has exited."""
    fd = os.pidfd_open(pid)
    try:
        assert select.select([fd], [], [], SAFETY)[0], f"process {pid} did not exit"
    finally:
        os.close(fd)


def answers(client: IngestClient, qids: set[int], until, got: dict | None = None) -> dict[int, list[Result]]:
    """Every ``Result`` of the queries ``qids`` received until ``until(results)`` holds (added to ``got``)."""
    got = {q: [] for q in qids} if got is None else got
    deadline = time.monotonic() + SAFETY
    while not until(got):
        assert time.monotonic() < deadline, {q: [r.params for r in rs] for q, rs in got.items()}
        for m in client.poll(0.5):
            if isinstance(m, Result) and m.query_id in got:
                got[m.query_id].append(m)
    return got


def done(results: list[Result]) -> Result | None:
    return next((r for r in results if r.params.get("done")), None)


def stored(srv, recording_id: str, entities: dict[str, int]) -> rr.RecordingStream:
    rec = rr.new_recording("gaps", recording_id=recording_id)
    connect(rec, f"127.0.0.1:{srv.port}")
    for ent, n in entities.items():
        log_rows(rec, ent, n)
    assert rec.flush(10)
    return rec


def test_a_one_shot_query_a_dead_worker_had_not_answered_is_answered_by_its_successor():
    """Worker 0 is frozen when a one-shot latest_at reaches it and then killed: its restarted worker
    answers the query, which ends with one ``done`` marker naming the restarted shard."""
    a, b = on_shard(0, "a"), on_shard(1, "b")
    with running_server("--shards", "2", "--shutdown-timeout", "2") as srv:
        rec = stored(srv, "once", {a: 3, b: 4})
        pid = srv.shards.procs[0].pid
        with IngestClient(f"127.0.0.1:{srv.port}") as client, frozen(pid) as kill:
            qid = client.latest_at(timeline="step", time=10**9, recording_id="once", once=True)
            # worker 1's answer shows the query went to both workers; worker 0 cannot answer it
            first = answers(client, {qid}, lambda got: any(r.params.get("entity") == f"/{b}" for r in got[qid]))
            kill()
            got = answers(client, {qid}, lambda got: done(got[qid]) is not None, first)[qid]
            restarted = srv.shards.procs[0].pid
        rec.close()
    marker = done(got)
    assert marker.params.get("restarted_shards") == [0] and "lost_shards" not in marker.params
    assert got[-1] is marker and [r.seq for r in got] == list(range(1, len(got) + 1))
    assert restarted != pid and srv.health.worker_deaths == 1 and srv.health.worker_restarts == 1


def test_one_shot_queries_of_a_shard_given_up_finish_without_it():
    """Worker 0 is frozen when a one-shot latest_at and range reach it, then killed, and its successors
    die at start until the shard is given up: both queries end, naming the lost shard."""
    a, b = on_shard(0, "a"), on_shard(1, "b")
    with running_server("--shards", "2", "--shutdown-timeout", "2") as srv:
        shards = srv.shards
        shards.restart_backoff, shards.max_restarts = 0.02, 2
        rec = stored(srv, "gone", {a: 3, b: 4})
        shards._command = lambda k, ident: [sys.executable, "-c", "raise SystemExit(3)"]  # dies at once
        pid = shards.procs[0].pid
        with IngestClient(f"127.0.0.1:{srv.port}") as client, frozen(pid) as kill:
            rng = client.range(f"/{a}", timeline="step", t0=0, t1=100, recording_id="gone", once=True)
            lat = client.latest_at(timeline="step", time=10**9, recording_id="gone", once=True)
            first = answers(client, {rng, lat}, lambda got: any(r.params.get("entity") == f"/{b}" for r in got[lat]))
            kill()
            got = answers(client, {rng, lat}, lambda got: all(done(rs) is not None for rs in got.values()), first)
        rec.close()
    assert shards.status()[0]["state"] == "failed" and srv.health.workers_given_up == 1
    marker = done(got[lat])
    assert marker.params.get("lost_shards") == [0] and got[lat][-1] is marker
    assert {r.params.get("entity") for r in got[lat][:-1]} == {f"/{b}"}
    (ranged,) = got[rng]
    assert ranged.params["done"] and ranged.params["lost_shards"] == [0] and ranged.params["rows"] == 0
    assert ranged.batch is None and ranged.params["entity"] == f"/{a}"


def test_a_one_shot_query_is_answered_once_by_every_shard_even_one_without_that_recording():
    """Only shard 1 holds the recording: the one-shot query still ends (shard 0 answers at once), with
    one ``done`` marker after every shard's answer."""
    b = on_shard(1, "b")
    with running_server("--shards", "2", "--shutdown-timeout", "2") as srv:
        rec = stored(srv, "only1", {b: 4})
        with IngestClient(f"127.0.0.1:{srv.port}") as client:
            got = client.request("latest_at", {"timeline": "step", "time": 10**9, "recording_id": "only1"},
                                 timeout=SAFETY)
        rec.close()
    assert [r.params.get("entity") for r in got] == [f"/{b}", None] and got[-1].params["done"]
    assert "lost_shards" not in got[-1].params


def test_a_worker_that_died_after_the_last_supervision_is_reported_at_shutdown(caplog):
    """Worker 0 dies just before the ingest shuts down, unseen by supervision: shutting down reports
    it like any death (log, counters), and does not restart it."""
    caplog.set_level(logging.ERROR, logger="ingest")
    a = on_shard(0, "a")
    with running_server("--shards", "2", "--shutdown-timeout", "2") as srv:
        shards = srv.shards
        shards.supervise = lambda: None  # the death falls between the last check and the shutdown
        rec = stored(srv, "late", {a: 5})
        pid = shards.procs[0].pid
        os.kill(pid, signal.SIGKILL)
        wait_exit(pid)
        rec.close()
    h = srv.health
    assert (h.worker_deaths, h.worker_lost_rows, h.worker_lost_chunks, h.worker_restarts) == (1, 5, 1, 0)
    assert shards.status()[0]["state"] == "failed" and shards.procs[0].pid == pid
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert f"store worker 0 (pid {pid}) exited: killed by SIGKILL" in text and "not restarting it" in text


#: a store worker that exits with code 3 when told BYE (as if it crashed on its way out)
CRASH_ON_BYE = f"""
import os, sys
sys.path.insert(0, {str(ROOT)!r})
import ingest.worker as w
control = w.Worker.control
def crash_on_bye(self, frames):
    if control(self, frames):
        os._exit(3)
    return False
w.Worker.control = crash_on_bye
w.main(sys.argv[1:])
"""


def test_a_worker_that_exits_uncleanly_on_the_shutdown_bye_is_reported(caplog):
    caplog.set_level(logging.ERROR, logger="ingest")
    a, b = on_shard(0, "a"), on_shard(1, "b")
    with running_server("--shards", "2", "--shutdown-timeout", "2") as srv:
        shards = srv.shards
        command = shards._command
        shards._command = lambda k, ident: [sys.executable, "-c", CRASH_ON_BYE, *command(k, ident)[3:]]
        with IngestClient(f"127.0.0.1:{srv.port}") as client:
            client.subscribe()
            os.kill(shards.procs[0].pid, signal.SIGKILL)  # its successor runs CRASH_ON_BYE
            wait_events(client, {"worker_restarted"})
        rec = stored(srv, "bye", {a: 5, b: 2})
        pid = shards.procs[0].pid
        rec.close()
    h = srv.health
    assert (h.worker_deaths, h.worker_lost_rows, h.worker_lost_chunks, h.worker_restarts) == (2, 5, 1, 1)
    assert shards.procs[0].pid == pid and shards.procs[1].returncode == 0
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert f"store worker 0 (pid {pid}) exited with code 3" in text and "the 5 rows in 1 chunks" in text


def summary(client: IngestClient, recording_id: str, seen: list) -> dict:
    """The ingest's summary of one recording (a ``snapshot``); other events received go to ``seen``."""
    client._send(next(client._ids), "snapshot", {"recording_id": recording_id})
    deadline = time.monotonic() + SAFETY
    while True:
        assert time.monotonic() < deadline, "no snapshot"
        msgs = client.poll(0.5)
        for i, m in enumerate(msgs):
            if isinstance(m, Event) and m.name == "snapshot":
                seen += msgs[:i] + msgs[i + 1:]
                (rec,) = m.params["recordings"]
                return rec
        seen += msgs


def summary_until(client: IngestClient, recording_id: str, until, seen: list) -> dict:
    deadline = time.monotonic() + SAFETY
    while not until(rec := summary(client, recording_id, seen)):
        assert time.monotonic() < deadline, rec
    return rec


def test_the_summary_drops_the_time_ranges_a_dead_worker_held():
    """Shard 0 holds steps 0..99, shard 1 steps 0..4: once worker 0 is killed the summary's range of
    ``step`` is 0..4 (what is still stored), and viewers are told so with the loss."""
    a, b = on_shard(0, "a"), on_shard(1, "b")
    with running_server("--shards", "2", "--shutdown-timeout", "2") as srv:
        rec = stored(srv, "tl", {a: 100, b: 5})
        with IngestClient(f"127.0.0.1:{srv.port}") as client:
            summary_until(client, "tl", lambda r: r["entities"] == {f"/{a}": 100, f"/{b}": 5}
                          and r["timelines"]["step"]["max"] == 99, [])
            client.subscribe()
            os.kill(srv.shards.procs[0].pid, signal.SIGKILL)
            seen: list = []
            after = summary_until(client, "tl", lambda r: r["entities"][f"/{a}"] == 0, seen)
            deadline = time.monotonic() + SAFETY
            while not {"worker_lost", "worker_restarted"} <= {m.name for m in seen if isinstance(m, Event)}:
                assert time.monotonic() < deadline, "no worker_lost/worker_restarted event"
                seen += client.poll(0.5)
        rec.close()
    events = [m for m in seen if isinstance(m, Event)]
    lost = next(i for i, m in enumerate(events) if m.name == "worker_lost")
    narrowed = [m for m in events[:lost] if m.name == "timeline_extended" and m.params["max"] == 4]
    assert events[lost].params["shard"] == 0
    assert after["timelines"]["step"] == {"kind": "sequence", "min": 0, "max": 4}
    assert [(m.params["recording_id"], m.params["min"]) for m in narrowed] == [("tl", 0)]  # told with the loss
