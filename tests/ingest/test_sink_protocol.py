"""``NetworkSink`` against a scripted fake ingest (a ROUTER in the test): odd replies, accounting."""

from __future__ import annotations

import json
import threading
import time
import warnings

import pytest
import zmq

import rerun_zmq as rr
from rerun_zmq import _wire
from rerun_zmq._errors import RerunZmqWarning
from rerun_zmq._net import connect
from rerun_zmq._wire import Ack, ChunkMsg, Credit, Event, Hello

TIMEOUT_MS = 10_000


class FakeIngest:
    """A ROUTER on a random loopback port that the test answers by hand."""

    def __init__(self) -> None:
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.port = self.sock.bind_to_random_port("tcp://127.0.0.1")
        self.addr = f"127.0.0.1:{self.port}"

    def recv(self, kind: type) -> tuple[bytes, object]:
        """The next message of type ``kind`` (others, e.g. FLUSH heartbeats, are skipped)."""
        while True:
            if not self.sock.poll(TIMEOUT_MS):
                raise TimeoutError(f"no {kind.__name__} from the sink")
            ident, *frames = self.sock.recv_multipart()
            msg = _wire.decode(frames)
            if isinstance(msg, kind):
                return ident, msg

    def send(self, ident: bytes, frames: list) -> None:
        self.sock.send_multipart([ident, *frames])

    def close(self) -> None:
        self.sock.close(0)
        self.ctx.term()


@pytest.fixture
def fake():
    f = FakeIngest()
    yield f
    f.close()


def raw(kind: _wire.Kind, fields: dict) -> list:
    """A well-framed message whose fields have types the real ingest never sends."""
    good = _wire.encode(Credit(0))
    return [good[0][:3] + bytes([int(kind)]) + json.dumps(fields).encode()]


def test_malformed_replies_do_not_kill_the_io_thread(fake):
    rec = rr.new_recording("proto", recording_id="p1")
    sink = connect(rec, fake.addr, flush_timeout_sec=5.0)
    rec.log("s", rr.Scalars(1.0))
    rec.batcher.flush()
    ident, _ = fake.recv(Hello)
    with pytest.warns(RerunZmqWarning, match="unreadable message"):
        fake.send(ident, raw(_wire.Kind.ACK, {"seq": "one", "rows": 0, "bytes": 0}))
        fake.send(ident, raw(_wire.Kind.CREDIT, {"bytes": None}))
        fake.send(ident, raw(_wire.Kind.EVENT, {"seq": 0, "name": "ingest_info", "params": [1, 2]}))
        fake.send(ident, _wire.encode(Event(0, "ingest_info", {"max_message_bytes": 1 << 30})))
        fake.send(ident, _wire.encode(Ack(0, 0, 0)))
        fake.send(ident, _wire.encode(Credit(1 << 20)))
        _, chunk = fake.recv(ChunkMsg)  # the I/O thread lived through the bad replies
    fake.send(ident, _wire.encode(Ack(chunk.seq, 1, 100)))
    assert sink.flush(5.0)
    assert sink._thread.is_alive()
    assert sink.stats.acked_rows == 1 and sink.stats.acked_seq == chunk.seq
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec.close()


def slow_acker(fake: FakeIngest, stop: threading.Event, every: float) -> None:
    """Handshake, then acknowledge the received chunks one by one, one per ``every`` seconds."""
    ident, _ = fake.recv(Hello)
    fake.send(ident, _wire.encode(Ack(0, 0, 0)))
    fake.send(ident, _wire.encode(Credit(1 << 30)))
    received: list = []
    acked = rows = 0
    next_ack = time.monotonic() + every
    while not stop.is_set():
        if fake.sock.poll(10):
            _, *frames = fake.sock.recv_multipart()
            msg = _wire.decode(frames)
            if isinstance(msg, ChunkMsg):
                received.append(msg)
        if acked < len(received) and time.monotonic() >= next_ack:
            rows += received[acked].batch.num_rows
            acked += 1
            fake.send(ident, _wire.encode(Ack(received[acked - 1].seq, rows, 0)))
            next_ack = time.monotonic() + every


def test_block_keeps_waiting_while_the_ingest_makes_progress(fake):
    """A big chunk that needs many acks' worth of room waits past block_timeout_sec as long as acks come."""
    rec = rr.new_recording("proto", recording_id="p2")
    # 15 one-row chunks (~1.1 kB each) fill the window; the 400-row one (~18.6 kB) needs 14 acks of room,
    # which come one per 0.1 s: 1.4 s of steady progress, longer than the 0.8 s block timeout
    sink = connect(rec, fake.addr, max_bytes_in_flight=20_000, block_timeout_sec=0.8, flush_timeout_sec=5.0)
    stop = threading.Event()
    acker = threading.Thread(target=slow_acker, args=(fake, stop, 0.1))
    acker.start()
    try:
        for i in range(15):
            rec.set_time("step", sequence=i)
            rec.log("s", rr.Scalars(float(i)))
            rec.batcher.flush()
        for i in range(400):
            rec.set_time("step", sequence=100 + i)
            rec.log("s", rr.Scalars(float(i)))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert rec.batcher.flush(10)
            assert sink.flush(10)
        assert [str(w.message) for w in caught] == []  # no "has not accepted data", no drop
        assert sink.stats.dropped_rows == 0 and sink.stats.undelivered_rows == 0
        assert sink.stats.acked_rows == 415
    finally:
        stop.set()
        acker.join(10)
    rec.close()


def test_warnings_as_errors_do_not_kill_the_io_thread(fake, capfd):
    """Under ``-W error`` a warning raised on the I/O thread would end delivery; it is printed instead."""
    rec = rr.new_recording("proto", recording_id="p3")
    sink = connect(rec, fake.addr, flush_timeout_sec=5.0)
    rec.log("s", rr.Scalars(1.0))
    rec.batcher.flush()
    ident, _ = fake.recv(Hello)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RerunZmqWarning)
        fake.send(ident, raw(_wire.Kind.ACK, {"seq": "one", "rows": 0, "bytes": 0}))  # warned on the I/O thread
        fake.send(ident, _wire.encode(Ack(0, 0, 0)))
        fake.send(ident, _wire.encode(Credit(1 << 20)))
        _, chunk = fake.recv(ChunkMsg)
        fake.send(ident, _wire.encode(Ack(chunk.seq, 1, 100)))
        assert sink.flush(5.0)
    assert sink._thread.is_alive() and sink.stats.acked_rows == 1
    assert "unreadable message" in capfd.readouterr().err
    rec.close()


def test_dropping_a_sent_chunk_warns_with_its_rows(fake):
    """A sent but never acknowledged chunk given up by the block timeout is counted in the warning."""
    rec = rr.new_recording("proto", recording_id="p4")
    sink = connect(rec, fake.addr, max_bytes_in_flight=2_500, block_timeout_sec=0.3, flush_timeout_sec=0.3)
    rec.log("s", rr.Scalars(1.0))
    rec.batcher.flush()
    ident, _ = fake.recv(Hello)
    fake.send(ident, _wire.encode(Ack(0, 0, 0)))
    fake.send(ident, _wire.encode(Credit(1 << 20)))
    fake.recv(ChunkMsg)  # sent; this fake ingest never acknowledges it
    with pytest.warns(RerunZmqWarning) as caught:
        for i in range(2):
            rec.set_time("step", sequence=i)
            rec.log("s", rr.Scalars(float(i)))
            rec.batcher.flush()
    assert sink.stats.undelivered_rows >= 1
    drops = [str(w.message) for w in caught if "dropped" in str(w.message)]
    assert drops and "dropped 0 rows" not in drops[0], drops
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec.close()


def test_flush_never_passes_a_chunk_that_holds_a_seq_but_is_not_queued(fake, monkeypatch):
    """A flush from another thread while ``send`` is between taking a seq and queueing must wait for it."""
    from rerun_zmq import _net_sink

    sink = _net_sink.NetworkSink(fake.addr, flush_timeout_sec=0.2)  # the fake never answers here
    seen: list[tuple[bool, int]] = []

    class HookedOut(_net_sink._Out):
        def __init__(self, *args) -> None:  # runs inside send(), after whatever it did before building _Out
            super().__init__(*args)
            def flush() -> None:
                ok = sink.flush(0.3)
                seen.append((ok, sink._next_seq - 1 if ok else -1))
            t = threading.Thread(target=flush)
            t.start()
            t.join(2.0)

    monkeypatch.setattr(_net_sink, "_Out", HookedOut)
    rec = rr.new_recording("proto", recording_id="p5")
    mem = rec.memory_recording()
    rec.log("s", rr.Scalars(1.0))
    rec.batcher.flush()
    chunk = next(m for m in mem.take() if isinstance(m, ChunkMsg))
    sink.send(chunk)
    (ok, counted), = seen
    # a flush that returned True counted only seqs that are acknowledged (none: nothing listens)
    assert not ok or counted <= sink.stats.acked_seq, "flush returned True with a seq it counted unacknowledged"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sink.close()
