"""Big frames received into prefaulted memory (``ingest.prefault``): the layout plan, the pool, and a
real ingest storing what it received into the pool exactly, refusing what it must."""

from __future__ import annotations

import json
import struct

import numpy as np
import pyarrow as pa
import pytest
import zmq

import rerun_zmq as rr
from ingest.client import IngestClient
from ingest.prefault import FramePool, populate
from rerun_zmq import _wire
from rerun_zmq._net import connect
from rerun_zmq._wire import Ack, ChunkMsg, Error, Hello

from .test_server_inproc import running_server

pytestmark = pytest.mark.skipif(not FramePool.supported(), reason="the frame pool is for Linux")
MiB = 1 << 20
N = 300_000  # 3.6 MB of positions: a big frame of its own


def cloud(seed: int, n: int = N) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 3), dtype=np.float32)


def buffers_message(seq: int = 1, n: int = N, seed: int = 0, recording_id: str = "pool2") -> list:
    """The frames the SDK sends for one big Points3D row, in the "buffers" form."""
    rec = rr.new_recording("pool", recording_id="pool")
    batches: list[pa.RecordBatch] = []
    rec.batcher._on_chunk = batches.append
    rec.set_time("frame", sequence=seq)
    rec.log("cloud", rr.Points3D(cloud(seed, n)))
    rec.batcher.flush()
    frames = _wire.encode(ChunkMsg(recording_id, batches[-1], seq), buffers=True)
    return [bytes(memoryview(f)) for f in frames]


@pytest.fixture
def pool():
    p = FramePool(min_bytes=MiB)
    yield p
    p.close()


def test_plan_names_the_big_frames_of_a_buffers_chunk_and_their_sizes(pool):
    frames = buffers_message()
    plan = pool.plan(frames[0])
    big = {k: len(f) for k, f in enumerate(frames) if k >= 3 and len(f) >= MiB}
    assert plan == big and N * 12 in plan.values()


@pytest.mark.parametrize("header", [
    b"", b"XX\x01\x05{}", b"RZ\x01\x05{not json}",
    _wire.encode(ChunkMsg("r", pa.record_batch({"a": [1]}), 1))[0],  # one IPC frame: nothing to plan
    struct.pack("<2sBB", b"RZ", _wire.PROTOCOL_VERSION, int(_wire.Kind.HELLO)) + b'{"_layout": {"cols": []}}',
    struct.pack("<2sBB", b"RZ", _wire.PROTOCOL_VERSION, int(_wire.Kind.CHUNK)) + b'{"_layout": 5}',
    struct.pack("<2sBB", b"RZ", _wire.PROTOCOL_VERSION, int(_wire.Kind.CHUNK)) + b'{"_layout": {"cols": [[1, 2]]}}',
    struct.pack("<2sBB", b"RZ", _wire.PROTOCOL_VERSION, int(_wire.Kind.CHUNK))
    + json.dumps({"_layout": {"cols": [[1, [[2, 0, 4096]], []]]}}).encode(),  # under min_bytes
    struct.pack("<2sBB", b"RZ", _wire.PROTOCOL_VERSION, int(_wire.Kind.CHUNK))
    + json.dumps({"_layout": {"cols": [[1, [[2, 0, 1 << 40]], []]]}}).encode(),  # over max_bytes
    struct.pack("<2sBB", b"RZ", _wire.PROTOCOL_VERSION, int(_wire.Kind.CHUNK))
    + json.dumps({"_layout": {"cols": [[1, [[2, 0, 2 * MiB]], []]] * 20_000}}).encode(),  # too many nodes
])
def test_plan_is_none_for_anything_else(pool, header):
    pool.max_bytes = 1 << 30
    assert pool.plan(header) is None


def test_buffers_are_prepared_only_for_sizes_that_arrived_and_handed_out_populated(pool):
    assert pool.take(4 * MiB) is None  # nothing arrived yet: receive as usual
    assert pool.ready_bytes() == 0 and pool.misses == 1
    pool.observe(4 * MiB - 100)
    assert pool.wait_ready(3 * 4 * MiB, 30.0)  # `ahead` buffers of that size, rounded up to 64 KiB
    view = pool.take(4 * MiB - 100)
    assert view is not None and len(view) == 4 * MiB - 100 and not view.readonly
    view[:3] = b"abc"
    assert bytes(view[:3]) == b"abc" and pool.hits == 1
    assert pool.take(8 * MiB) is None  # bigger than what is prepared
    assert pool.take(MiB) is None  # much smaller: it would waste most of a buffer


def test_a_new_size_replaces_the_prepared_buffers(pool):
    pool.observe(2 * MiB)
    assert pool.wait_ready(3 * 2 * MiB, 30.0)
    pool._recent.clear()  # the older size left the window of recent frames
    pool.observe(5 * MiB)
    with pool._cv:
        assert pool._cv.wait_for(lambda: [len(m) for m in pool._ready] == [5 * MiB] * 3, 30.0)


def test_buffers_are_freed_when_no_big_frame_comes_for_a_while():
    now = [0.0]
    pool = FramePool(min_bytes=MiB, idle_release=10.0, clock=lambda: now[0])
    try:
        pool.take(2 * MiB)
        pool.observe(2 * MiB)
        assert pool.wait_ready(3 * 2 * MiB, 30.0)
        assert not pool.release_if_idle()
        now[0] = 11.0
        assert pool.release_if_idle() and pool.ready_bytes() == 0
        with pool._cv:  # and nothing is prepared again until big frames come back
            assert not pool._cv.wait_for(lambda: pool._ready, 0.2)
    finally:
        pool.close()


def test_populate_faults_in_every_page():
    """Writing a populated buffer takes no page faults; writing a fresh one takes one per page."""
    import mmap
    import resource

    def faults_writing(m: mmap.mmap) -> int:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        np.frombuffer(m, np.uint8)[::mmap.PAGESIZE] = 1
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    pages = 8 * MiB // mmap.PAGESIZE
    fresh = mmap.mmap(-1, 8 * MiB, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    ready = mmap.mmap(-1, 8 * MiB, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    populate(ready)
    assert ready[:16] == bytes(16) and ready[-16:] == bytes(16)
    fresh_faults, ready_faults = faults_writing(fresh), faults_writing(ready)
    assert fresh_faults >= min(pages, 4)  # one a page (or one per huge page where those are on)
    assert ready_faults <= 2, (ready_faults, fresh_faults)


# -- a real ingest --------------------------------------------------------------------------------------

def stored_clouds(port: int, recording_id: str) -> dict[int, np.ndarray]:
    with IngestClient(f"127.0.0.1:{port}") as client:
        _, batches = client.chunks(recording_id)
    got = {}
    for b in batches:
        for i, frame in enumerate(b.column("frame").to_pylist()):
            got[frame] = b.column("Points3D:positions")[i].values.flatten().to_numpy().reshape(-1, 3)
    return got


@pytest.mark.parametrize("prefault", [True, False])
def test_big_frames_go_into_prefaulted_memory_and_are_stored_exactly(prefault):
    args = ("--no-shm",) if prefault else ("--no-shm", "--no-prefault")  # the TCP path (shm: test_shm.py)
    with running_server(*args) as srv:
        assert (srv._pool is not None) == prefault
        rec = rr.new_recording("pool", recording_id="pool1")
        sink = connect(rec, f"127.0.0.1:{srv.port}", flush_timeout_sec=30.0)
        pts = [cloud(i) for i in range(4)]
        for i, p in enumerate(pts):
            if i == 1 and prefault:  # the first frame taught the pool the size: wait until it is ready
                assert srv._pool.wait_ready(N * 12, 30.0)
            rec.set_time("frame", sequence=i)
            rec.log("cloud", rr.Points3D(p))
            assert rec.flush(30.0) and sink.flush(30.0)
        assert sink.stats.acked_rows == 4 and sink.stats.rejected_rows == 0
        got = stored_clouds(srv.port, "pool1")
        assert sorted(got) == [0, 1, 2, 3]
        for i, p in enumerate(pts):
            np.testing.assert_array_equal(got[i], p)
        if prefault:
            assert srv.health.prefaulted_frames >= 1 and srv._pool.hits == srv.health.prefaulted_frames
        else:
            assert srv.health.prefaulted_frames == 0
        rec.disconnect()


def hello(sock: zmq.Socket) -> None:
    sock.send_multipart(_wire.encode(Hello("pool", "pool2", "raw-producer")))


def replies(sock: zmq.Socket, until, timeout_ms: int = 30_000) -> list:
    got = []
    while not until(got):
        if not sock.poll(timeout_ms):
            raise TimeoutError(f"no reply from the ingest; so far {got}")
        got.append(_wire.decode(sock.recv_multipart()))
    return got


@pytest.mark.parametrize("prefault", [True, False])
def test_frames_longer_or_shorter_than_their_layout_says_are_handled_like_without_the_pool(prefault):
    """A longer big frame is cut to the bytes the layout references (the rest was never read); a
    shorter one is refused with the reason, and the connection goes on: the same with the pool or not."""
    with running_server(*(() if prefault else ("--no-prefault",))) as srv:
        ready = srv._pool.wait_ready if prefault else (lambda n, t: True)
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(f"tcp://127.0.0.1:{srv.port}")
        try:
            hello(sock)
            first = buffers_message(seq=1, seed=1)
            big = next(k for k, f in enumerate(first) if len(f) == N * 12)
            sock.send_multipart(first)
            replies(sock, lambda got: any(isinstance(m, Ack) and m.seq == 1 for m in got))
            assert ready(N * 12, 30.0)

            longer = buffers_message(seq=2, seed=2)
            longer[big] = longer[big] + b"extra bytes the layout does not reference"
            sock.send_multipart(longer)
            replies(sock, lambda got: any(isinstance(m, Ack) and m.seq == 2 for m in got))
            assert ready(N * 12, 30.0)

            shorter = buffers_message(seq=3, seed=3)
            shorter[big] = shorter[big][: N * 6]
            sock.send_multipart(shorter)
            got = replies(sock, lambda got: any(isinstance(m, Error) for m in got))
            err = next(m for m in got if isinstance(m, Error))
            assert err.code == "bad_arrow" and err.seq == 3 and "outside the body frames" in err.message

            sock.send_multipart(buffers_message(seq=4, seed=4))
            replies(sock, lambda got: any(isinstance(m, Ack) and m.seq == 4 for m in got))
        finally:
            sock.close(0)
        assert srv.health.prefaulted_frames >= (2 if prefault else 0)
        got = stored_clouds(srv.port, "pool2")
        assert sorted(got) == [1, 2, 4]
        for seq in (1, 2, 4):
            np.testing.assert_array_equal(got[seq], cloud(seq))
