"""10,000 fuzzed and malformed messages plus oversize frames: the ingest stays up, counts every
refusal, and a good producer logging at the same time loses nothing."""

from __future__ import annotations

import json
import random
import struct
import time

import numpy as np
import pyarrow as pa
import pytest
import zmq

from ingest.client import IngestClient
from rerun_zmq import _wire
from rerun_zmq._chunk import build_chunk
from rerun_zmq._wire import Ack, Hello, Result

from .conftest import finish_producer, start_producer

MAX = 1 << 20
HEAD = struct.Struct("<2sBB")


def chunk_batch(entity: str, n: int, dtype: pa.DataType | None = None) -> pa.RecordBatch:
    dtype = dtype or pa.float64()
    rids = np.stack([np.full(n, time.time_ns(), np.uint64), np.arange(n, dtype=np.uint64)], axis=1)
    vals = pa.array(np.arange(n), type=dtype)
    return build_chunk(entity, rids, {"step": ("sequence", np.arange(n))},
                       {"Scalars:scalars": (dtype, vals, np.ones(n, np.int64))}, ["Scalars"], False)


def chunk_frames(seq: int, body: bytes | pa.Buffer, **extra) -> list:
    meta = {"recording_id": "fuzz", "seq": seq, "store_kind": "recording", **extra}
    return [HEAD.pack(b"RZ", _wire.PROTOCOL_VERSION, int(_wire.Kind.CHUNK)) + json.dumps(meta).encode(), body]


def raw_messages(rng: random.Random, n_each: int) -> list[list]:
    """Messages refused whatever the connection's state (it never says HELLO)."""
    v, k = _wire.PROTOCOL_VERSION, _wire.Kind
    good = bytes(_wire.batch_to_bytes(chunk_batch("/raw", 3)))
    out: list[list] = []
    for _ in range(n_each):
        out.append([b"X" + rng.randbytes(rng.randrange(0, 64))])                    # garbage
        out.append([HEAD.pack(b"RZ", 99, int(k.CHUNK)) + b"{}"])                    # unknown version
        out.append([HEAD.pack(b"RZ", v, int(k.HELLO)) + b"{not json" + rng.randbytes(4)])
        out.append([HEAD.pack(b"RZ", v, 200) + b"{}"])                              # unknown kind
        out.append([HEAD.pack(b"RZ", v, int(k.HELLO)) + json.dumps(
            {"application_id": rng.randrange(9), "recording_id": "r", "producer_id": "p"}).encode()])
        out.append(chunk_frames(rng.randrange(1, 1000), good))                      # CHUNK before HELLO
        out.append([HEAD.pack(b"RZ", v, int(k.CHUNK)) + b"{}", *[bytes(MAX // 2)] * 3])  # over --max-message-bytes
        out.append(_wire.encode(Ack(5)))                                             # producers never ack
        out.append([HEAD.pack(b"RZ", v, int(k.CHUNK)) + json.dumps({"seq": "one", "recording_id": "r"}).encode(),
                    good])                                                           # wrong field type
    return out


def hello_messages(rng: random.Random, n_each: int, n_flip: int, first_seq: int) -> tuple[list[list], int]:
    """Chunks from a connection that said HELLO: all malformed except the byte-flipped ones (maybe)."""
    good = bytes(_wire.batch_to_bytes(chunk_batch("/fuzzed", 8)))
    other = bytes(_wire.batch_to_bytes(pa.record_batch({"x": [1, 2, 3]})))
    clash = bytes(_wire.batch_to_bytes(chunk_batch("/fuzzed", 4, pa.int32())))
    seq = first_seq
    out: list[list] = []
    for _ in range(n_each):
        for body in (good[: rng.randrange(0, len(good) - 16)], rng.randbytes(rng.randrange(1, 500)), other, clash):
            seq += 1
            out.append(chunk_frames(seq, body))
    for _ in range(n_flip):
        seq += 1
        body = bytearray(good)
        for _ in range(rng.randrange(1, 8)):
            body[rng.randrange(len(body))] = rng.randrange(256)
        out.append(chunk_frames(seq, bytes(body)))
    return out, seq


def dealer(ctx: zmq.Context, addr: str) -> zmq.Socket:
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVHWM, 0)
    s.connect(f"tcp://{addr}")
    return s


def wait_for(sock: zmq.Socket, pred, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while sock.poll(max(1, int((deadline - time.monotonic()) * 1000))):
        msg = _wire.decode(sock.recv_multipart())
        if pred(msg):
            return msg
        if time.monotonic() > deadline:
            break
    raise TimeoutError("no matching reply from the ingest")


@pytest.mark.slow
def test_ten_thousand_bad_messages_are_counted_and_harmless(ingest):
    ing = ingest("--max-message-bytes", str(MAX))
    good = start_producer(ing.addr, "good", "--rows", "10000", "--recording-id", "fuzz")
    rng = random.Random(1234)
    ctx = zmq.Context.instance()
    raw, fuzz, big = dealer(ctx, ing.addr), dealer(ctx, ing.addr), dealer(ctx, ing.addr)
    try:
        big.send(b"\0" * (MAX + 1024))  # one frame over ZMQ_MAXMSGSIZE: the transport drops that peer
        raw_msgs = raw_messages(rng, 700)
        fuzz.send_multipart(_wire.encode(Hello("fuzz_app", "fuzz", "fuzzer")))
        fuzz.send_multipart(chunk_frames(1, _wire.batch_to_bytes(chunk_batch("/fuzzed", 8))))
        fuzz_msgs, last_seq = hello_messages(rng, 500, 10_000 - len(raw_msgs) - 2000, first_seq=1)
        assert len(raw_msgs) + len(fuzz_msgs) == 10_000
        for m in raw_msgs:
            raw.send_multipart(m)
        for m in fuzz_msgs:
            fuzz.send_multipart(m)
        fuzz.send_multipart(_wire.encode(_wire.Flush(last_seq)))
        wait_for(fuzz, lambda m: isinstance(m, Ack) and m.seq >= last_seq)
        raw.send_multipart(_wire.encode(_wire.Query(7, "stats", {})))  # answered after every raw message
        stats = wait_for(raw, lambda m: isinstance(m, Result) and m.query_id == 7).params["stats"]
    finally:
        for s in (raw, fuzz, big):
            s.close(0)
    assert finish_producer(good)["acked_rows"] == 10_000
    fz = next(p for p in stats["per_producer"] if p["producer_id"] == "fuzzer")
    fuzz_rejected = sum(fz["rejected"].values())
    assert fz["chunks"] + fuzz_rejected == 1 + len(fuzz_msgs)  # every chunk stored or refused
    assert fuzz_rejected >= 2000
    assert stats["rejected"] == len(raw_msgs) + fuzz_rejected
    by_code = stats["rejected_by_code"]
    assert by_code["unknown_version"] == 700 and by_code["oversize"] == 700
    assert by_code["unknown_producer"] == 700 and by_code["bad_schema"] >= 1000
    with IngestClient(ing.addr) as client:
        deadline = time.monotonic() + 10
        while client.stats()["disconnects"] < 1 and time.monotonic() < deadline:
            pass  # each stats() is a round trip to the ingest, not a sleep
        final = client.stats()
        _, batches = client.chunks("fuzz")
    assert final["disconnects"] >= 1
    good_rows = sum(b.num_rows for b in batches if b.schema.metadata[b"rz.entity_path"] == b"/good")
    assert good_rows == 10_000
    assert ing.stop() == 0
