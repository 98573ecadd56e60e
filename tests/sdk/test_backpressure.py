"""A sink that stops accepting data makes rr.log wait (bounded memory) instead of piling rows up."""

from __future__ import annotations

import threading

import numpy as np

import rerun_zmq as rr
from rerun_zmq._sinks import MemorySink
from rerun_zmq._wire import ChunkMsg


class GateSink(MemorySink):
    """A memory sink whose ``send`` blocks until ``gate`` is set (like a network sink out of credit)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.entered = threading.Event()

    def send(self, msg):
        if isinstance(msg, ChunkMsg):
            self.entered.set()
            self.gate.wait(30)
        super().send(msg)


def test_log_waits_while_the_sink_is_blocked_then_delivers_everything():
    config = rr.BatcherConfig(flush_tick=0.001, flush_num_bytes=4096, max_backlog_bytes=16 * 1024)
    rec = rr.new_recording("backpressure", batcher_config=config)
    sink = GateSink()
    rec.set_sink(sink)
    row = np.zeros(256, dtype=np.float32)  # 1 KiB per row
    logged = []

    def producer():
        for i in range(200):
            rec.log("x", rr.Points3D(row.reshape(-1, 1).repeat(3, axis=1)[:64]))
            logged.append(i)

    t = threading.Thread(target=producer)
    t.start()
    assert sink.entered.wait(30)
    t.join(1.0)
    assert t.is_alive(), "rr.log kept going although the sink accepted nothing"
    held = len(logged)
    assert held < 200
    sink.gate.set()
    t.join(30)
    assert not t.is_alive()
    rec.flush()
    rows = sum(m.batch.num_rows for m in sink.messages() if isinstance(m, ChunkMsg))
    assert rows == 200
    rec.close()


def test_warnings_as_errors_on_the_batcher_thread_do_not_stop_it(recwarn):
    """A sink failure is reported as a warning; with warnings turned into errors the thread goes on."""
    import warnings

    class FailingSink(MemorySink):
        def send(self, msg):
            if isinstance(msg, ChunkMsg) and msg.batch.schema.metadata[b"rz.entity_path"] == b"/bad":
                raise OSError("disk full")
            super().send(msg)

    rec = rr.new_recording("warn_errors")
    sink = FailingSink()
    rec.set_sink(sink)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec.log("bad", rr.Scalars(1.0))
        assert rec.batcher.flush(30)
        rec.log("good", rr.Scalars(2.0))
        assert rec.batcher.flush(30)
    assert any(isinstance(m, ChunkMsg) for m in sink.messages())
    rec.close()


def test_close_with_a_blocked_sink_warns_that_data_is_lost():
    """close() used to give up silently after its timeout: rows never written and no word said."""
    import pytest

    rec = rr.RecordingStream("close_blocked")
    sink = GateSink()
    rec.set_sink(sink)
    rec.log("e", rr.Scalars(1.0))
    assert sink.entered.wait(10)
    rec.log("e", rr.Scalars(2.0))
    opener = threading.Timer(1.0, sink.gate.set)  # lets the stuck send end later; close does not wait for it
    opener.start()
    try:
        with pytest.warns(rr.RerunZmqWarning, match="still not accepted by its sink; that data is lost"):
            rec.close(timeout=0.2)
    finally:
        sink.gate.set()
        opener.join()


def test_close_with_a_working_sink_says_nothing():
    import warnings

    rec = rr.RecordingStream("close_ok")
    sink = MemorySink()
    rec.set_sink(sink)
    rec.log("e", rr.Scalars(1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec.close(timeout=5)
    assert sum(m.batch.num_rows for m in sink.messages() if isinstance(m, ChunkMsg)) == 1
