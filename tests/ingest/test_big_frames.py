"""Big point clouds through a real ingest in the "buffers" body form; fallback for an older ingest."""

from __future__ import annotations

import numpy as np
import pytest

import rerun_zmq as rr
from ingest.client import IngestClient
from rerun_zmq import _wire
from rerun_zmq._net import connect
from rerun_zmq._rrd import RrdReader
from rerun_zmq._rrd_tools import main as rrd_main
from rerun_zmq._wire import Ack, ChunkMsg, Credit, Event, Hello

from .test_sink_protocol import fake  # noqa: F401 - the fixture

N = 300_000


def clouds(k: int) -> list[np.ndarray]:
    return [np.random.default_rng(i).random((N, 3), dtype=np.float32) for i in range(k)]


@pytest.mark.parametrize("shards", [1, 2])
def test_big_clouds_stored_exactly_and_saved_as_one_frame_bodies(ingest, tmp_path, shards):
    save = tmp_path / "saved.rrd"
    ing = ingest("--shards", str(shards), "--save", str(save))
    rec = rr.new_recording("big", recording_id="big1")
    sink = connect(rec, ing.addr)
    pts = clouds(3)
    reused = pts[0].copy()
    for i, p in enumerate(pts):
        rec.set_time("frame", sequence=i)
        reused[:] = p  # one buffer reused by the caller: each frame must keep what it held at log time
        rec.log("cloud", rr.Points3D(reused))
    assert rec.flush(30.0) and sink.flush(30.0)
    assert sink.stats.acked_rows == 3 and sink.stats.rejected_rows == 0
    with IngestClient(ing.addr) as client:
        _, batches = client.chunks("big1")
    got = {}
    for b in batches:
        for i, frame in enumerate(b.column("frame").to_pylist()):
            got[frame] = b.column("Points3D:positions")[i].values.flatten().to_numpy().reshape(-1, 3)
    assert sorted(got) == [0, 1, 2]
    for i, p in enumerate(pts):
        np.testing.assert_array_equal(got[i], p)
    rec.disconnect()
    assert ing.stop() == 0
    reader = RrdReader(save)
    assert all(len(frames) <= 2 for frames in reader.iter_frames())  # files keep one-frame bodies
    assert sum(m.batch.num_rows for m in RrdReader(save) if isinstance(m, ChunkMsg)) == 3
    assert rrd_main(["verify", str(save)]) == 0


def test_sink_uses_the_form_only_when_the_ingest_lists_it(fake):  # noqa: F811
    rec = rr.new_recording("proto", recording_id="p2")
    sink = connect(rec, fake.addr, flush_timeout_sec=5.0)

    def serve_one(info: dict) -> list:
        ident, _ = fake.recv(Hello)
        fake.send(ident, _wire.encode(Event(0, "ingest_info", info)))
        fake.send(ident, _wire.encode(Ack(0, 0, 0)))
        fake.send(ident, _wire.encode(Credit(1 << 30)))
        with sink._cv:  # the I/O thread notifies after each reply it handled
            assert sink._cv.wait_for(lambda: sink._handshaken, 10.0)
        rec.log("cloud", rr.Points3D(clouds(1)[0]))
        rec.batcher.flush()
        while True:
            if not fake.sock.poll(10_000):
                raise TimeoutError("no CHUNK from the sink")
            ident, *frames = fake.sock.recv_multipart()
            msg = _wire.decode(frames)
            if isinstance(msg, ChunkMsg):
                fake.send(ident, _wire.encode(Ack(msg.seq, 1, 0)))
                return frames

    old = serve_one({"max_message_bytes": 1 << 30})  # an ingest from before the form: one IPC frame
    assert len(old) == 2
    with sink._cv:
        sink._need_hello = True  # the same connection says HELLO again (as after an ingest restart)
        sink._handshaken = False
    sink._wake()
    new = serve_one({"max_message_bytes": 1 << 30, "body_forms": ["ipc", "buffers"]})
    assert len(new) > 2 and _wire.decode(new).batch.num_rows == 1
    assert sink.flush(5.0)
    sink.close()


def test_a_big_chunk_logged_before_the_handshake_still_goes_in_the_buffers_form(fake):  # noqa: F811
    rec = rr.new_recording("proto", recording_id="p3")
    sink = connect(rec, fake.addr, flush_timeout_sec=5.0)
    rec.log("cloud", rr.Points3D(clouds(1)[0]))
    rec.batcher.flush()  # queued on the sink before the ingest has said which forms it reads
    ident, _ = fake.recv(Hello)
    fake.send(ident, _wire.encode(Event(0, "ingest_info", {"max_message_bytes": 1 << 30,
                                                           "body_forms": ["ipc", "buffers"]})))
    fake.send(ident, _wire.encode(Ack(0, 0, 0)))
    fake.send(ident, _wire.encode(Credit(1 << 30)))
    if not fake.sock.poll(10_000):
        raise TimeoutError("no CHUNK from the sink")
    ident, *frames = fake.sock.recv_multipart()
    assert len(frames) > 2 and _wire.decode(frames).batch.num_rows == 1
    fake.send(ident, _wire.encode(Ack(_wire.decode(frames).seq, 1, 0)))
    assert sink.flush(5.0)
    sink.close()
