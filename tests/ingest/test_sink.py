"""The SDK's network sink on its own: memory policies, flush without an ingest, late ingest, tee to a file."""

from __future__ import annotations

import socket
import time
import warnings

import pytest

import rerun_zmq as rr
from rerun_zmq._errors import RerunZmqWarning
from rerun_zmq._net import connect
from rerun_zmq._rrd import RrdReader
from rerun_zmq._wire import ChunkMsg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_chunks(rec: rr.RecordingStream, n_chunks: int, rows: int = 100) -> None:
    """``n_chunks`` chunks of ``rows`` rows each (a batcher flush cuts each one)."""
    for c in range(n_chunks):
        for i in range(rows):
            rec.set_time("step", sequence=c * rows + i)
            rec.log("s", rr.Scalars(float(i)))
        rec.batcher.flush()


def new_rec(rid: str) -> rr.RecordingStream:
    return rr.new_recording("sink_test", recording_id=rid)


def test_drop_oldest_bounds_memory_and_counts_every_row():
    rec = new_rec("d1")
    sink = connect(rec, f"127.0.0.1:{free_port()}", policy="drop_oldest", max_bytes_in_flight=8_000,
                   flush_timeout_sec=0.2)
    with pytest.warns(RerunZmqWarning, match="dropped"):
        log_chunks(rec, 20)
    assert sink.stats.dropped_rows > 0 and sink.stats.dropped_rows % 100 == 0
    assert sink._queued_bytes <= 8_000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert rec.flush(0.2) is False  # nothing listens: it says so instead of hanging
        rec.close()
    assert sink.stats.dropped_rows + sink.stats.undelivered_rows == 2000


def test_block_waits_then_warns_and_drops_instead_of_hanging():
    rec = new_rec("b1")
    sink = connect(rec, f"127.0.0.1:{free_port()}", max_bytes_in_flight=8_000, block_timeout_sec=0.2,
                   flush_timeout_sec=0.2)
    start = time.monotonic()
    with pytest.warns(RerunZmqWarning) as caught:
        log_chunks(rec, 5)
    assert time.monotonic() - start < 10
    messages = [str(w.message) for w in caught]
    assert any("has not accepted data" in m for m in messages), messages
    assert any("dropped" in m and "(policy block)" in m for m in messages), messages  # the drop is reported too
    assert sink.stats.dropped_rows > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec.close()


def test_data_logged_before_the_ingest_starts_is_delivered(ingest, tmp_path):
    port = free_port()
    rec = new_rec("late")
    sink = connect(rec, f"127.0.0.1:{port}", save_path=tmp_path / "tee.rrd")
    log_chunks(rec, 5)
    ing = ingest(port=port)
    assert rec.flush(20)
    assert sink.stats.acked_rows == 500 and sink.stats.dropped_rows == 0
    rec.close()
    rows = sum(m.batch.num_rows for m in RrdReader(tmp_path / "tee.rrd") if isinstance(m, ChunkMsg))
    assert rows == 500  # the tee wrote the same rows to the file
    assert ing.stop() == 0


def test_a_closed_sink_flushes_at_once_instead_of_waiting_out_the_timeout():
    """Closing the recording after its sink was closed used to wait the full 10 s timeout (e.g. at
    interpreter exit) for acknowledgements that could no longer come."""
    rec = new_rec("c0")
    sink = connect(rec, f"127.0.0.1:{free_port()}", flush_timeout_sec=0.2, block_timeout_sec=0.5)
    log_chunks(rec, 1)
    with pytest.warns(RerunZmqWarning, match="not acknowledged"):
        sink.close()
    assert sink.flush(30.0) is False  # returns at once: nothing can be acknowledged any more
    with pytest.warns(RerunZmqWarning, match="data still not accepted"):
        rec.close(timeout=30.0)


def test_close_with_undelivered_rows_warns():
    rec = new_rec("c1")
    connect(rec, f"127.0.0.1:{free_port()}", flush_timeout_sec=0.2, block_timeout_sec=0.5)
    log_chunks(rec, 1)
    with pytest.warns(RerunZmqWarning) as caught:
        rec.close()
    said = " ".join(str(w.message) for w in caught)
    assert "not acknowledged" in said or "dropped" in said, said
