"""The "buffers" CHUNK body form (``_wire_buffers``): round trips, fallbacks, malformed input refused."""

from __future__ import annotations

import copy
import gc
import json
import random

import numpy as np
import pyarrow as pa
import pytest

import rerun_zmq as rr
from rerun_zmq import _wire, _wire_buffers
from rerun_zmq._wire import ChunkMsg, WireError

N = 200_000  # enough points for the form to be used (> 1 MiB)


def big_batch(n: int = N) -> pa.RecordBatch:
    rng = np.random.default_rng(0)
    pts = rng.random((n, 3), dtype=np.float32)
    points = pa.FixedSizeListArray.from_arrays(pa.array(pts.reshape(-1)), 3)
    cols = {
        "rz.row_id": pa.array([b"\1" * 16, b"\2" * 16], pa.binary(16)),
        "frame": pa.array([1, 2], pa.int64()),
        "Points3D:positions": pa.ListArray.from_arrays(pa.array([0, n // 2, n], pa.int32()), points),
        "Points3D:radii": pa.array([[0.5], None], pa.list_(pa.float32())),
        "Points3D:labels": pa.array([["a", "bb", None], []], pa.list_(pa.string())),
        "Points3D:show_labels": pa.array([[True], [False]], pa.list_(pa.bool_())),
        "s": pa.array([{"a": 1, "b": [1.0, 2.0]}, None], pa.struct([("a", pa.int32()), ("b", pa.list_(pa.float64()))])),
        "m": pa.array([[("k", 1)], []], pa.map_(pa.string(), pa.int32())),
        "n": pa.nulls(2),
    }
    return pa.RecordBatch.from_pydict(cols, metadata={"rz.entity_path": "/cloud", "k": "v"})


def encode(batch: pa.RecordBatch) -> list:
    return _wire.encode(ChunkMsg("rec", batch, 7), buffers=True)


def test_big_batch_round_trips_without_copy():
    batch = big_batch()
    frames = encode(batch)
    assert len(frames) >= 4  # header, schema, packed small buffers, the points
    points = batch.column("Points3D:positions").values.values.buffers()[1]
    assert any(isinstance(f, pa.Buffer) and f.address == points.address for f in frames)  # sent, not copied
    received = [bytes(memoryview(f)) for f in frames]
    msg = _wire.decode(received)
    assert msg.batch.equals(batch) and msg.batch.schema.metadata == batch.schema.metadata
    assert (msg.recording_id, msg.seq) == ("rec", 7)
    data = msg.batch.column("Points3D:positions").values.values.buffers()[1]
    body = pa.py_buffer(received[3])
    assert body.address <= data.address < body.address + body.size  # a view of the received frame


def test_encoding_and_decoding_leave_no_reference_cycles():
    """A cycle holding the frames kept every sent 12 MB frame alive until the garbage collector ran."""
    batch = big_batch()
    gc.collect()
    gc.disable()
    try:
        received = [bytes(memoryview(f)) for f in encode(batch)]
        _wire.decode(received)
        with pytest.raises(WireError):
            _wire.decode([received[0], received[1], b"not a schema", *received[3:]])
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_sent_frames_are_freed_when_the_last_reference_goes():
    pts = np.empty((N, 3), np.float32)
    pts_buf = pa.allocate_buffer(pts.nbytes)  # from Arrow's pool, so the pool's byte count shows it
    values = pa.Array.from_buffers(pa.float32(), N * 3, [None, pts_buf])
    col = pa.ListArray.from_arrays(pa.array([0, N], pa.int32()), pa.FixedSizeListArray.from_arrays(values, 3))
    batch = pa.RecordBatch.from_arrays([col], ["Points3D:positions"])
    del pts_buf, values, col
    gc.disable()
    try:
        before = pa.total_allocated_bytes()
        frames = encode(batch)
        del batch
        assert pa.total_allocated_bytes() >= before  # the frames hold the points
        del frames
        assert pa.total_allocated_bytes() <= before - pts.nbytes  # freed at once, not at the next collection
    finally:
        gc.enable()


def test_small_sliced_or_unsupported_batches_stay_one_ipc_frame():
    assert len(_wire.encode(ChunkMsg("rec", big_batch(100), 1), buffers=True)) == 2
    assert len(_wire.encode(ChunkMsg("rec", big_batch().slice(1), 1), buffers=True)) == 2
    dict_col = pa.array(["x"] * N).dictionary_encode()
    batch = pa.record_batch({"d": dict_col, "f": pa.array(np.zeros(N))})
    assert len(_wire.encode(ChunkMsg("rec", batch, 1), buffers=True)) == 2
    assert len(_wire.encode(ChunkMsg("rec", big_batch(), 1))) == 2  # not asked for
    assert len(_wire.encode(ChunkMsg("rec", big_batch(), 1), "lz4", buffers=True)) == 2  # compressed: IPC


def split(frames: list) -> tuple[dict, list]:
    small = json.loads(bytes(frames[0])[4:])
    return small, [bytes(memoryview(f)) for f in frames[1:]]


def join(small: dict, body: list) -> list:
    return [_wire.encode(ChunkMsg("rec", pa.record_batch({"x": [1]}), 1))[0][:4] + json.dumps(small).encode(), *body]


def bad_offsets(small: dict, body: list) -> None:
    _, start, size = small["_layout"]["cols"][2][1][1]  # the positions' list offsets, in the packed frame
    body[1] = body[1][:start] + np.array([0, 5, N + 9], np.int32).tobytes() + body[1][start + size:]


def layout_cases():
    """(description, mutate(small, body)) pairs; each must be refused with a WireError."""
    def setp(path, value):
        def f(small, body):
            node = small
            for k in path[:-1]:
                node = node[k]
            node[path[-1]] = value
        return f

    pts = ["_layout", "cols", 2]  # the positions column: [length, [validity, offsets], [child]]
    leaf = pts + [2, 0, 2, 0]  # the float values node
    return [
        ("layout not an object", setp(["_layout"], [1, 2])),
        ("rows negative", setp(["_layout", "rows"], -1)),
        ("rows a bool", setp(["_layout", "rows"], True)),
        ("rows mismatch", setp(["_layout", "rows"], 3)),
        ("a column missing", lambda s, b: s["_layout"]["cols"].pop()),
        ("node not a list", setp(pts, "x")),
        ("length too big", setp(pts + [0], 5)),
        ("child length too big", setp(leaf + [0], N * 3 + 1)),
        ("buffer count", setp(pts + [1], [None])),
        ("children count", setp(pts + [2], [])),
        ("ref out of frames", setp(leaf + [1, 1], [9, 0, 8])),
        ("ref past frame end", setp(leaf + [1, 1], [2, 8, N * 12])),
        ("ref to the schema frame", setp(leaf + [1, 1], [0, 0, 8])),
        ("ref unaligned", setp(pts + [1, 1], [1, 4, 12])),
        ("ref wrong shape", setp(pts + [1, 1], [1, 0])),
        ("ref a string", setp(pts + [1, 1], "frame")),
        ("offsets beyond the values", bad_offsets),
        ("bad schema frame", lambda s, b: b.__setitem__(0, b"not a schema")),
        ("unreferenced extra frame", lambda s, b: b.append(b"x" * 64)),
        ("too few frames", lambda s, b: b.__delitem__(slice(1, None))),
        ("compressed", lambda s, b: s.update({"_codec": "lz4", "_raw": 10})),
    ]


@pytest.mark.parametrize("what,mutate", layout_cases(), ids=[c[0] for c in layout_cases()])
def test_malformed_buffers_body_is_a_wire_error(what, mutate):
    small, body = split(encode(big_batch()))
    mutate(small, body)
    with pytest.raises(WireError):
        _wire.decode(join(small, body))


def test_layout_fuzz_only_ever_raises_wire_errors():
    small0, body0 = split(encode(big_batch()))
    rng = random.Random(7)
    refused = 0
    for _ in range(400):
        small, body = copy.deepcopy(small0), list(body0)
        text = json.dumps(small["_layout"])
        digits = [i for i, ch in enumerate(text) if ch.isdigit()]
        for _ in range(rng.randrange(1, 4)):
            i = rng.choice(digits)
            text = text[:i] + rng.choice("0123456789-") + text[i + 1:]
        try:
            small["_layout"] = json.loads(text)
        except ValueError:
            continue
        if rng.random() < 0.3:
            k = rng.randrange(len(body))
            body[k] = body[k][: rng.randrange(len(body[k]) + 1)]
        try:
            _wire.decode(join(small, body))
        except WireError:
            refused += 1
    assert refused > 200


def test_ingest_handler_reads_the_form_and_refuses_bad_ones():
    from ingest.errors import BadArrowError
    from ingest.handler import parse_chunk_msg
    from ingest.producers import Producer

    rec = rr.new_recording("buffers", recording_id="b1")
    mem = rec.memory_recording()
    rec.log("cloud", rr.Points3D(np.random.default_rng(1).random((N, 3), dtype=np.float32), radii=0.1))
    rec.flush()
    chunk = next(m.batch for m in mem.messages() if isinstance(m, ChunkMsg))
    p = Producer(b"id", producer_id="prod")
    frames = encode(chunk)
    assert len(frames) > 2
    small = json.loads(bytes(frames[0])[4:])
    msg, info = parse_chunk_msg(p, small, frames)
    assert msg.batch.equals(chunk) and info.entity_path == "/cloud"
    small["_layout"]["rows"] = 5
    with pytest.raises(BadArrowError):
        parse_chunk_msg(p, small, frames)
    assert _wire_buffers.FORM in __import__("ingest.server").server.BODY_FORMS
