"""Shared-memory frames against what a review found: a header that stopped the ingest, a reused
descriptor number passing for another memfd, a duplicate opened before it was known to be one, a
chunk kept twice in memory, a failed mapping's noise. Each test failed before its fix."""

from __future__ import annotations

import gc
import json
import os
import sys
import time

import pytest
import zmq

import rerun_zmq as rr
from ingest import shm
from ingest.prefault import FramePool
from rerun_zmq import _net_shm, _wire
from rerun_zmq._net import connect
from rerun_zmq._wire import Ack, Credit, Event, Hello

from .test_prefault import buffers_message, cloud, replies
from .test_server_inproc import running_server

pytestmark = pytest.mark.skipif(not _net_shm.supported(), reason="memfds with seals are Linux only")


# 1. one header crashes the ingest (no HELLO, no probe needed) -------------------------------------

def test_plan_never_raises_on_a_malformed_shm_list():
    pool = FramePool(min_bytes=1 << 20)
    try:
        frames = buffers_message()
        head = _net_shm.add_to_header(frames[0], _net_shm.KEY, [[[3], 1, 1]])  # unhashable r[0]
        assert pool.plan(head) is None or isinstance(pool.plan(head), dict)  # raises TypeError
    finally:
        pool.close()


def test_a_malformed_shm_header_does_not_stop_the_ingest():
    with running_server() as srv:
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(f"tcp://127.0.0.1:{srv.port}")
        try:
            frames = buffers_message(seq=1)
            frames[0] = _net_shm.add_to_header(frames[0], _net_shm.KEY, [[{"x": 1}, 1, 1]])
            sock.send_multipart(frames)
            time.sleep(0.5)
            sock.send_multipart(_wire.encode(Hello("shm", "crash", "after")))
            # the ingest's main loop died on TypeError: no ingest_info ever comes back
            got = replies(sock, lambda got: any(isinstance(m, Event) for m in got))
            assert any(isinstance(m, Event) for m in got)
        finally:
            sock.close(0)


# 2. a memfd closed while its CHUNK may still be queued at the ingest: its fd number is reused -------

def test_a_dropped_in_flight_chunk_never_makes_the_ingest_map_another_chunk_s_bytes():
    from .test_sink_protocol import FakeIngest

    info = {"max_message_bytes": 1 << 30, "body_forms": ["ipc", "buffers"], "shm": True}
    fake = FakeIngest()
    token = None
    sent = {}  # seq -> the "_shm" refs of its (first) CHUNK

    def pump(until, timeout=20.0):
        """Answer every HELLO (never acknowledge a chunk); note each CHUNK's memfd refs."""
        nonlocal token
        deadline = time.monotonic() + timeout
        while not until():
            assert time.monotonic() < deadline, "timed out"
            if not fake.sock.poll(100):
                continue
            ident, *frames = fake.sock.recv_multipart()
            kind = _wire.peek_kind(frames[0])
            head = json.loads(frames[0][4:])
            if kind == _wire.Kind.HELLO:
                token = head[_net_shm.PROBE]["token"]
                fake.send(ident, _wire.encode(Event(0, "ingest_info", info)))
                fake.send(ident, _wire.encode(Ack(0, 0, 0)))
                fake.send(ident, _wire.encode(Credit(1 << 30)))
            elif kind == _wire.Kind.CHUNK:
                sent.setdefault(head["seq"], head.get(_net_shm.KEY))

    try:
        rec = rr.new_recording("shm", recording_id="reuse")
        # room for one chunk only; the ingest never acknowledges: the block timeout drops the in-flight one
        sink = connect(rec, fake.addr, flush_timeout_sec=1.0, max_bytes_in_flight=6 << 20,
                       block_timeout_sec=0.3)
        expected = {}
        for i in range(8):
            rec.set_time("frame", sequence=i)
            rec.log("cloud", rr.Points3D(cloud(i)))
            rec.batcher.flush()
            expected[i + 1] = cloud(i).tobytes()
            pump(lambda i=i: i + 1 in sent)
        assert sink.stats.undelivered_rows >= 1  # in-flight chunks were given up ("may have been stored")
        # the ingest gets round to the earlier CHUNKs, still queued in its socket: what does it map?
        wrong = []
        for seq, refs in sent.items():
            if not refs:
                continue
            (k, fd, size, serial), = refs
            try:
                own, _ = shm._open(os.getpid(), fd, token, size, serial)
            except (OSError, ValueError):
                continue  # refused: fine (counted)
            try:
                data = os.pread(own, size, 0)
            finally:
                os.close(own)
            if data != expected[seq][-size:] and data not in (expected[seq],):
                wrong.append((seq, fd))
        fds = {seq: refs[0][1] for seq, refs in sent.items() if refs}
        rec.disconnect()
        assert not wrong, f"the ingest would store these chunks with another chunk's bytes: {wrong}; fds {fds}"
    finally:
        fake.close()


# 3. the pending chunk's batch stays alive next to its memfd copy: 2x the counted bytes --------------

def test_a_chunk_in_a_memfd_does_not_also_keep_its_batch():
    from .test_sink_protocol import FakeIngest

    fake = FakeIngest()
    try:
        rec = rr.new_recording("shm", recording_id="mem")
        sink = connect(rec, fake.addr, flush_timeout_sec=1.0)
        rec.log("cloud", rr.Points3D(cloud(0)))
        rec.batcher.flush()
        ident, _ = fake.recv(Hello)
        info = {"max_message_bytes": 1 << 30, "body_forms": ["ipc", "buffers"], "shm": True}
        fake.send(ident, _wire.encode(Event(0, "ingest_info", info)))
        fake.send(ident, _wire.encode(Ack(0, 0, 0)))
        fake.send(ident, _wire.encode(Credit(1 << 30)))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not sink._inflight:
            time.sleep(0.01)
        out = sink._inflight[0]
        assert out.fds or out.keep  # in a memfd of its own, or the log call's sealed copy
        held = (out.msg.batch.nbytes if out.msg is not None else 0) + sum(os.fstat(fd).st_size for fd in out.fds)
        rec.disconnect()
        assert held <= out.size * 1.1, f"{held} bytes held for a chunk counted as {out.size}"
    finally:
        fake.close()


# 4. a failed mapping runs __del__ on a half-made _Mapping --------------------------------------------

def test_a_failed_mapping_raises_nothing_unraisable():
    seen = []
    old = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        with pytest.raises(OSError):
            _net_shm.ReadOnlyMapping(-1, 4096)
        gc.collect()
    finally:
        sys.unraisablehook = old
    assert not seen, [str(u.exc_value) for u in seen]


# 5. a resent duplicate is opened before it is known to be a duplicate -------------------------------

from .test_shm import raw_producer, sealed_memfd, shm_message  # noqa: E402,F401,F811


def test_a_duplicate_whose_memfd_is_closed_is_dropped_as_a_duplicate_not_refused(raw_producer):  # noqa: F811
    """The sink resends in-flight chunks after a resync; the first copy is acknowledged and the sink
    closes its memfd; the second copy must count as a duplicate, not be refused as shm_unavailable
    (which turns shared memory off for the connection and warns the user of a refusal)."""
    from rerun_zmq._wire import Error

    srv, sock, probe = raw_producer
    fd = sealed_memfd(probe.token, buffers_message(seq=1, seed=1)[3])
    frames, _ = shm_message(1, fd)
    sock.send_multipart(frames)
    replies(sock, lambda got: any(isinstance(m, Ack) and m.seq == 1 for m in got))
    os.close(fd)  # acknowledged: the sink closes the memfd
    sock.send_multipart(frames)  # the resent copy, queued behind the first one
    sock.send_multipart(buffers_message(seq=2, seed=2))
    got = replies(sock, lambda got: any(isinstance(m, Ack) and m.seq == 2 for m in got))
    assert not [m for m in got if isinstance(m, Error)]
    assert srv.health.duplicates == 1
