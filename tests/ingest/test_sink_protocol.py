"""``NetworkSink`` against a scripted fake ingest (a ROUTER in the test): odd replies, accounting."""

from __future__ import annotations

import json
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
