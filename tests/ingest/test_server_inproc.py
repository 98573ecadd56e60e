"""The ingest ``Server`` run in a thread of the test process, so its internals can be made to fail."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import warnings

import pytest

import rerun_zmq as rr
from ingest.client import IngestClient
from ingest.config import config_from_args
from ingest.server import Server
from rerun_zmq._errors import RerunZmqWarning
from rerun_zmq._net import connect
from rerun_zmq._wire import Event


@contextlib.contextmanager
def running_server(*args: str):
    """An ingest ``Server`` on a random loopback port, served on a thread of this process; it must
    stop (port freed) when the block ends."""
    srv = Server(config_from_args(["--port", "0", "--bind", "127.0.0.1", "--quiet", *args]))
    ready = threading.Event()
    startup = srv.startup

    async def startup_then_signal() -> None:
        await startup()
        ready.set()

    srv.startup = startup_then_signal
    thread = threading.Thread(target=asyncio.run, args=(srv.serve(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(30), "the ingest did not start"
        yield srv
    finally:
        srv.should_exit = True
        thread.join(20)
    assert not thread.is_alive(), "the ingest did not stop"


@pytest.fixture
def server():
    with running_server("--stats-interval", "60") as srv:
        yield srv


def log_rows(rec: rr.RecordingStream, entity: str, n: int) -> None:
    for i in range(n):
        rec.set_time("step", sequence=i)
        rec.log(entity, rr.Scalars(float(i)))
    rec.batcher.flush()


def test_an_internal_error_refuses_one_chunk_and_later_chunks_are_still_acknowledged(server):
    insert = server.shards.insert

    def failing_insert(recording_id, batch, info, *args, **kw):
        if info.entity_path == "/boom":
            raise RuntimeError("store bug")
        return insert(recording_id, batch, info, *args, **kw)

    server.shards.insert = failing_insert
    rec = rr.new_recording("inproc", recording_id="i1")
    sink = connect(rec, f"127.0.0.1:{server.port}", flush_timeout_sec=3.0)
    with pytest.warns(RerunZmqWarning, match="internal error"):
        log_rows(rec, "boom", 3)
        assert sink.flush(10)
    log_rows(rec, "fine", 5)
    assert sink.flush(10), "the failed chunk blocked every later acknowledgement"
    assert sink.stats.rejected_rows == 3 and sink.stats.acked_rows == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec.close()


def test_a_failing_push_is_logged_and_later_pushes_still_go_out(server, caplog):
    push = server.queries.push
    calls = []

    def push_failing_once() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("push bug")
        push()

    server.queries.push = push_failing_once
    with IngestClient(f"127.0.0.1:{server.port}") as client:
        client.subscribe()
        rec = rr.new_recording("inproc", recording_id="i2")
        connect(rec, f"127.0.0.1:{server.port}", flush_timeout_sec=3.0)
        log_rows(rec, "pushed", 4)
        assert rec.flush(10)
        deadline = time.monotonic() + 10
        names: list[str] = []
        while "rows_added" not in names and time.monotonic() < deadline:
            names += [m.name for m in client.poll(0.5) if isinstance(m, Event)]
        assert "rows_added" in names, "the push task died with its first failure"
        rec.close()
    assert len(calls) >= 2
