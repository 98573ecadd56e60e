"""``load_recording``'s grouped, undecoded-body path against decoding every record on its own.

The reference loads a file the slow, obvious way: each record through ``_wire.decode``, each chunk
through ``TimelineStore.insert`` in file order, a chunk that fails either refused alone. The fast
path must store the same rows and refuse the same number of chunks, whatever the file holds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rerun_zmq import _loader, _wire, dataframe
from rerun_zmq._chunk import build_chunk
from rerun_zmq._loader import _GroupedLoader
from rerun_zmq._rrd import RrdReader, RrdWriter
from store import MalformedChunkError, TimelineStore

from .test_grouped_loader import assert_loads_like_file_order

RID = "rec-1"


def _chunk(entity: str, start: int, n: int, kind: str = "sequence", dtype: pa.DataType | None = None) -> pa.RecordBatch:
    dtype = dtype or pa.float64()
    rids = np.stack([np.arange(start, start + n) + 1, np.zeros(n)], 1).astype(np.uint64)
    values = pa.array(np.arange(start, start + n, dtype=np.float64)).cast(dtype)
    return build_chunk(entity, rids, {"frame": (kind, np.arange(start, start + n))},
                       {"Scalars:scalars": (dtype, values, np.ones(n, np.int64))}, ["Scalars"], False)


def _frames(batch: pa.RecordBatch, compression: str | None = "lz4") -> list:
    return _wire.encode(_wire.ChunkMsg(RID, batch), compression)


def _write(path, records: list[list]) -> None:
    writer = RrdWriter(path)
    writer.write(_wire.Hello("app", RID, "producer"))
    for frames in records:
        writer.write_frames(frames)
    writer.close()


def _reference(path) -> tuple[TimelineStore, int]:
    """Every record decoded alone, every chunk inserted alone, in file order; -> (store, errors)."""
    store, refused = TimelineStore(), 0
    reader = RrdReader(path)
    for frames in reader.iter_frames():
        try:
            msg = _wire.decode([frames[0].to_pybytes(), *frames[1:]])
        except _wire.WireError:
            refused += 1
            continue
        if isinstance(msg, _wire.ChunkMsg):
            try:
                store.insert(msg.batch)
            except MalformedChunkError:
                refused += 1
    return store, refused + (reader.error is not None)  # where the read stopped is reported too


def _rows(store: TimelineStore) -> dict:
    out = {}
    for e in store.entity_paths():
        if "frame" in store.timelines():
            t = store.range(e, "frame", -(2**62), 2**62)
            out[e] = (t.column("frame").to_pylist(), t.column("Scalars:scalars").to_pylist())
    return out


def _load(path) -> dataframe.Recording:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dataframe.load_recording(path)


def _check(path) -> dataframe.Recording:
    rec = _load(path)
    want, refused = _reference(path)
    assert _rows(rec.store) == _rows(want)
    assert len(rec.load_errors) == refused
    return rec


@pytest.fixture(params=["inline", "thread"])
def threads(request, monkeypatch):
    monkeypatch.setattr(_loader, "THREAD_MIN_BYTES", 0 if request.param == "thread" else 1 << 60)
    monkeypatch.setattr(_loader, "_DECOMPRESS_BATCH", 3)  # several runs, even in small files


def test_many_entities_and_codecs_load_as_decoded_alone(tmp_path, threads):
    records = []
    for i in range(60):
        codec = [None, "lz4", "zstd", "lz4", "zstd:3"][i % 5]
        records.append(_frames(_chunk(f"/e/{i % 7}", 1000 * i, 1 + i % 5), codec))
    path = tmp_path / "a.rrd"
    _write(path, records)
    rec = _check(path)
    assert rec.complete and not rec.load_errors
    assert sum(rec.store.row_counts().values()) == sum(1 + i % 5 for i in range(60))


def test_usual_files_take_the_grouped_path(tmp_path, threads, monkeypatch):
    """No chunk of a file the SDK writes is decoded on its own (the fallback stays a fallback)."""
    path = tmp_path / "a.rrd"
    _write(path, [_frames(_chunk(f"/e/{i % 5}", 10 * i, 4), [None, "lz4", "zstd"][i % 3]) for i in range(50)])

    def fail(_):
        raise AssertionError("a chunk went the per-chunk way")

    monkeypatch.setattr(_wire, "batch_from_bytes", fail)
    rec = _load(path)
    assert rec.complete and not rec.load_errors and sum(rec.store.row_counts().values()) == 200


def _two_batches(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as w:
        w.write_batch(batch)
        w.write_batch(batch)
    return sink.getvalue().to_pybytes()


def _header(frames: list, **fields) -> bytes:
    head = frames[0]
    import json

    small = json.loads(head[4:])
    small.update(fields)
    return head[:4] + json.dumps(small, separators=(",", ":")).encode()


@pytest.mark.parametrize("damage", ["corrupt_lz4", "two_batches", "no_eos", "other_header_form", "null_row_id",
                                    "wrong_raw_size", "not_arrow", "reserved_key", "truncated_body"])
def test_a_bad_chunk_is_refused_alone(tmp_path, threads, damage):
    good = [_frames(_chunk("/a", 10 * i, 3)) for i in range(6)]
    bad_batch = _chunk("/a", 1000, 3)
    if damage == "corrupt_lz4":
        frames = _frames(bad_batch)
        body = bytearray(bytes(frames[1]))
        body[len(body) // 2: len(body) // 2 + 16] = b"\xff" * 16
        bad = [frames[0], bytes(body)]
    elif damage == "two_batches":
        bad = [_header(_frames(bad_batch, None)), _two_batches(bad_batch)]
    elif damage == "no_eos":  # still a valid stream: loads, the per-chunk way
        raw = _wire.batch_to_bytes(bad_batch).to_pybytes()[:-8]
        bad = [_frames(bad_batch, None)[0], raw]
    elif damage == "other_header_form":  # keys in another order: _wire.decode reads it
        frames = _frames(bad_batch)
        bad = [_header(frames, extra_field=1), frames[1]]
    elif damage == "null_row_id":
        rid = pa.array([b"\x00" * 16, None, b"\x01" * 16], pa.binary(16))
        bad = _frames(pa.RecordBatch.from_arrays([rid, *bad_batch.columns[1:]], schema=bad_batch.schema))
    elif damage == "wrong_raw_size":
        frames = _frames(bad_batch)
        raw = _wire.batch_to_bytes(bad_batch).size
        bad = [_header(frames, _raw=raw + 8), frames[1]]
    elif damage == "not_arrow":
        bad = [_header(_frames(bad_batch, None)), b"\xff\xff\xff\xff\x10\x00\x00\x00" + b"x" * 40]
    elif damage == "reserved_key":
        b = bad_batch.rename_columns(["rz.row_id", "frame", "log_time", "__x"][: bad_batch.num_columns])
        bad = _frames(b)
    else:
        frames = _frames(bad_batch)
        bad = [_header(frames), bytes(frames[1])[:-5]]
    path = tmp_path / "a.rrd"
    _write(path, [*good[:3], bad, *good[3:]])
    rec = _check(path)
    assert rec.complete
    assert len(rec.store.range("/a", "frame", 0, 100)) == 18  # every good chunk, with or without the bad one
    if damage not in ("no_eos", "other_header_form", "wrong_raw_size"):  # these three still decode
        assert len(rec.load_errors) == 1


def test_truncated_file_loads_every_complete_chunk(tmp_path, threads):
    path = tmp_path / "a.rrd"
    _write(path, [_frames(_chunk(f"/e/{i % 3}", 10 * i, 2)) for i in range(30)])
    data = path.read_bytes()
    cut = tmp_path / "cut.rrd"
    cut.write_bytes(data[: len(data) * 2 // 3])
    rec = _check(cut)
    assert not rec.complete and any("truncated" in e or "footer" in e for e in rec.load_errors)
    assert 0 < sum(rec.store.row_counts().values()) < 60


def test_loading_the_same_file_twice_stores_each_row_once(tmp_path, threads):
    path = tmp_path / "a.rrd"
    _write(path, [_frames(_chunk(f"/e/{i % 4}", 10 * i, 5)) for i in range(40)])
    once = _load(path)
    twice = _load([path, path])
    assert _rows(twice.store) == _rows(once.store)
    assert twice.store.row_counts() == once.store.row_counts()
    assert twice.store.duplicate_rows == 200 and not twice.load_errors


def _body(batch: pa.RecordBatch) -> pa.Buffer:
    return _wire.batch_to_bytes(batch)


specs = st.lists(st.tuples(st.sampled_from(["/a", "/b"]), st.sampled_from(["sequence", "duration"]),
                           st.sampled_from(["float", "string"]), st.booleans()),
                 min_size=1, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(specs=specs)
def test_undecoded_bodies_refuse_what_file_order_refuses(specs):
    """Conflicting timeline kinds / component types: the same chunks are refused as in file order,
    whether they come decoded (``add``) or as bodies (``add_body``), in any mix."""
    batches = [_chunk(e, 10 * i, 2, kind, pa.float64() if t == "float" else pa.string())
               for i, (e, kind, t, _) in enumerate(specs)]
    loader = _GroupedLoader()
    for b, (_, _, _, as_body) in zip(batches, specs):
        if as_body:
            body = _body(b)
            loader.add_body("rec", body, (None, 0, body), 0)
        else:
            loader.add("rec", b)
    assert_loads_like_file_order(loader, batches, _rows)


def test_a_bad_first_chunk_does_not_send_its_schema_the_slow_way(tmp_path, threads, monkeypatch):
    """A schema is judged on the first chunk that decodes: a broken first batch is refused alone."""
    first = _chunk("/a", 0, 3)
    raw = bytearray(_wire.batch_to_bytes(first).to_pybytes())
    meta = int.from_bytes(raw[4:8], "little")
    raw[8 + meta + 8: 8 + meta + 40] = b"\xff" * 32  # the record batch's metadata, after the schema
    path = tmp_path / "a.rrd"
    _write(path, [[_frames(first, None)[0], bytes(raw)], *[_frames(_chunk("/a", 10 * i, 3)) for i in range(1, 6)]])
    calls = []
    real = _wire.batch_from_bytes

    def spy(data):
        calls.append(1)
        return real(data)

    monkeypatch.setattr(_wire, "batch_from_bytes", spy)
    rec = _load(path)
    assert len(calls) == 1  # the bad chunk alone
    monkeypatch.setattr(_wire, "batch_from_bytes", real)
    _check(path)
    assert len(rec.load_errors) == 1 and "undecodable chunk at byte" in rec.load_errors[0]
    assert rec.store.row_counts()["/a"] == 15
