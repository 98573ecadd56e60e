"""A forked child of a producer streams its own rows to the same ingest, as a producer of its own."""

from __future__ import annotations

import os

import rerun_zmq as rr
from ingest.client import IngestClient
from rerun_zmq._net import connect

from .conftest import rows_by_entity


def log_rows(rec: rr.RecordingStream, entity: str, n: int) -> None:
    for i in range(n):
        rec.set_time("step", sequence=i)
        rec.log(entity, rr.Scalars(float(i)))


def test_forked_child_delivers_its_rows_and_not_the_parents(ingest):
    ing = ingest()
    rec = rr.new_recording("fork", recording_id="f1")
    sink = connect(rec, ing.addr, flush_timeout_sec=5.0)
    log_rows(rec, "parent", 5)
    assert rec.flush(10)
    log_rows(rec, "pending", 3)  # logged, maybe not yet sent, when the fork happens
    pid = os.fork()
    if pid == 0:  # the child: only its own rows, through its own socket and thread
        code = 1
        try:
            log_rows(rec, "child", 7)
            ok = rec.flush(10)
            code = 0 if ok and rec.sink.stats.acked_rows == 7 else 3
            rec.close()
        finally:
            os._exit(code)
    assert rec.flush(10)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sink.stats.acked_rows == 8
    rec.close()
    with IngestClient(ing.addr) as client:
        _, batches = client.chunks("f1")
    counts = {e: len(rows) for e, rows in rows_by_entity(batches).items()}
    assert counts == {"/parent": 5, "/pending": 3, "/child": 7}
    assert ing.stop() == 0
