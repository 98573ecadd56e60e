"""Every wire message kind round-trips through encode/decode; bad bytes give WireError."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rerun_zmq import _wire
from rerun_zmq._chunk import build_chunk

ONE_CHUNK = build_chunk(
    "/a/b",
    np.array([[1, 2], [1, 3]], dtype=np.uint64),
    {"frame": ("sequence", np.array([5, 6]))},
    {"Scalars:scalars": (pa.float64(), pa.array([1.0, 2.0]), np.array([1, 1]))},
    ["Scalars"],
    False,
)

MESSAGES = [
    _wire.Hello("app", "rec-1", "prod-1", 123, "0.1.0"),
    _wire.ChunkMsg("rec-1", ONE_CHUNK, seq=7),
    _wire.Flush(9),
    _wire.Ack(9, rows=10, bytes=100),
    _wire.Credit(1 << 20),
    _wire.Query(1, "latest_at", {"entity": "/a", "time": 3}),
    _wire.Result(1, 2, {"n": 1}, ONE_CHUNK),
    _wire.Result(1, 3, {"n": 0}, None),
    _wire.Event(4, "entity_added", {"entity": "/a"}),
    _wire.Bye("done"),
    _wire.Error("bad_chunk", "no row id", 3),
    _wire.Dropped(5, 500, "drop_oldest"),
]


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda m: type(m).__name__)
def test_round_trip(msg):
    frames = _wire.encode(msg)
    back = _wire.decode([bytes(f) for f in frames])
    assert type(back) is type(msg)
    for name in msg.__dataclass_fields__:
        a, b = getattr(msg, name), getattr(back, name)
        if isinstance(a, pa.RecordBatch):
            assert a.equals(b) and a.schema.metadata == b.schema.metadata
        else:
            assert a == b


def test_round_trip_compressed():
    frames = _wire.encode(_wire.ChunkMsg("r", ONE_CHUNK), compression="zstd")
    assert _wire.decode(frames).batch.equals(ONE_CHUNK)


@pytest.mark.parametrize(
    ("frames", "needle"),
    [
        ([], "empty"),
        ([b"X"], "too short"),
        ([b"QQ\x01\x02{}"], "bad magic"),
        ([b"RZ\x09\x02{}"], "protocol version 9"),
        ([b"RZ\x01\x63{}"], "unknown message kind"),
        ([b"RZ\x01\x01not json"], "JSON"),
        ([b"RZ\x01\x02{\"recording_id\":\"r\"}"], "no body"),
        ([b"RZ\x01\x02{\"recording_id\":\"r\"}", b"garbage"], "Arrow IPC"),
        ([b"RZ\x01\x03{}"], "missing or wrong fields"),
        ([b"RZ\x01\x03{\"seq\":1}", b"x"], "takes no body"),
    ],
)
def test_bad_bytes_raise_wire_error(frames, needle):
    with pytest.raises(_wire.WireError, match=needle):
        _wire.decode(frames)


def test_unknown_version_is_its_own_error():
    with pytest.raises(_wire.UnknownVersionError):
        _wire.decode([b"RZ\x02\x03{\"seq\":1}"])


def _decode_or_wire_error(frames: list) -> None:
    try:
        _wire.decode(frames)
    except _wire.WireError:
        pass


# single flipped body bytes that made pyarrow raise ArrowNotImplementedError / ArrowKeyError (a
# KeyError), which escaped decode and the .rrd reader instead of becoming a WireError
@pytest.mark.parametrize(("at", "value"), [(508, 242), (606, 244)])
def test_body_errors_of_every_arrow_kind_become_wire_errors(at, value):
    header, body = _wire.encode(_wire.ChunkMsg("rec-1", ONE_CHUNK))
    broken = bytearray(bytes(body))
    broken[at] = value
    _decode_or_wire_error([header, bytes(broken)])


def test_deeply_nested_header_json_is_a_wire_error():
    header = bytes(_wire.encode(MESSAGES[0])[0])
    with pytest.raises(_wire.WireError, match="not valid JSON"):
        _wire.decode([header[:4] + b"[" * 100_000])


@settings(max_examples=300, deadline=None)
@given(flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=6),
       compressed=st.booleans())
def test_corrupted_frames_only_raise_wire_error(flips, compressed):
    encoded = _wire.encode(_wire.ChunkMsg("rec-1", ONE_CHUNK), "lz4" if compressed else None)
    frames = [bytearray(bytes(f)) for f in encoded]
    for at, value in flips:
        frame = frames[at % 2]
        frame[at % len(frame)] = value
    _decode_or_wire_error([bytes(f) for f in frames])


@pytest.mark.parametrize("frames", [
    [b'RZ\x01\x03{"seq":"x"}'],
    [b'RZ\x01\x03{"seq":true}'],
    [b'RZ\x01\x04{"seq":1,"rows":null}'],
    [b'RZ\x01\x06{"query_id":1,"op":"latest_at","params":[1]}'],
    [b'RZ\x01\x01{"application_id":1,"recording_id":"r","producer_id":"p"}'],
])
def test_header_fields_of_the_wrong_type_are_wire_errors(frames):
    """They used to decode into messages with junk fields, failing later in whoever handled them."""
    with pytest.raises(_wire.WireError, match="must be"):
        _wire.decode(frames)
