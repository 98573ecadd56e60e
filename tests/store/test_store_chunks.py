"""Refusing malformed chunks whole, splitting oversize ones, and the viewer's summary API."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from store_oracle import Row, Write, build

from rerun_zmq._chunk import build_chunk
from store import (
    ComponentTypeMismatchError,
    MalformedChunkError,
    TimelineKindMismatchError,
    TimelineStore,
    UnknownEntityError,
)


def _scalars(entity, frames, values, kind="sequence", dtype=None, start=1):
    dtype = dtype or pa.float64()
    n = len(frames)
    rids = np.stack([np.arange(start, start + n), np.zeros(n)], axis=1).astype(np.uint64)
    return build_chunk(
        entity, rids, {"frame": (kind, np.asarray(frames, dtype=np.int64))},
        {"Scalars:scalars": (dtype, pa.array(values, type=dtype), np.ones(n, dtype=np.int64))},
        ["Scalars"], False,
    )


def _state(store):
    return store.row_counts(), store.num_chunks(), store.total_bytes, store.timelines()


def test_malformed_chunks_are_refused_whole():
    store = TimelineStore()
    store.insert(_scalars("/s", [1, 2], [1.0, 2.0]))
    before = _state(store)
    with pytest.raises(MalformedChunkError) as info:
        store.insert(pa.record_batch({"x": [1]}))
    assert "metadata" in info.value.reason
    with pytest.raises(ComponentTypeMismatchError):
        store.insert(_scalars("/s", [3], [3], dtype=pa.int64(), start=10))
    with pytest.raises(TimelineKindMismatchError):
        store.insert(_scalars("/t", [3], [3.0], kind="duration", start=20))
    bad_clear = build_chunk(
        "/s", np.array([[30, 0]], dtype=np.uint64), {"frame": ("sequence", np.array([1]))},
        {"Clear:is_recursive": (pa.int8(), pa.array([1], type=pa.int8()), np.array([1]))}, ["Clear"], False,
    )
    with pytest.raises(MalformedChunkError):
        store.insert(bad_clear)
    no_time = build_chunk("/s", np.array([[40, 0]], dtype=np.uint64), {},
                          {"Scalars:scalars": (pa.float64(), pa.array([1.0]), np.array([1]))}, ["Scalars"], False)
    with pytest.raises(MalformedChunkError, match="timeline"):
        store.insert(no_time)
    assert _state(store) == before
    with pytest.raises(TypeError):
        store.insert(_scalars("/s", [3], [3.0]).to_pydict())  # type: ignore[arg-type]


def test_oversize_chunks_are_split_and_answer_the_same():
    n = 20_000
    frames = np.arange(n)[::-1]  # times descending while RowIds ascend
    store = TimelineStore()
    store.insert(_scalars("/big", frames, np.arange(n, dtype=np.float64)))
    assert store.num_chunks() >= 5
    assert store.row_counts()["/big"] == n
    table = store.range("/big", "frame", 100, 199)
    assert table.column("frame").to_pylist() == list(range(100, 200))
    assert store.latest_at("/big", "frame", 5_000)["Scalars:scalars"].values.to_pylist() == [n - 1 - 5_000.0]


def test_small_chunks_are_compacted():
    store = TimelineStore()
    for i in range(200):
        store.insert(_scalars("/s", [i], [float(i)], start=i + 1))
    store.compact()
    assert store.num_chunks() <= 2
    assert store.range("/s", "frame", 0, 1000).num_rows == 200
    assert store.latest_at("/s", "frame", 150)["Scalars:scalars"].values.to_pylist() == [150.0]


def test_summary_for_the_viewer():
    store = TimelineStore()
    store.insert(_scalars("/a", np.arange(0, 100), np.zeros(100)))
    store.insert(_scalars("/b", np.arange(50, 60), np.zeros(10), start=1000))
    store.insert(build(Write("/c", True, [Row((5000, 0), {}, {"Test:a": [1]})])))
    assert store.entity_paths() == ["/a", "/b", "/c"]
    assert store.row_counts() == {"/a": 100, "/b": 10, "/c": 1}
    assert store.time_range("frame") == (0, 99)
    counts, edges = store.density("/b", "frame", bins=10)
    assert counts.sum() == 10 and counts[5] == 10 and edges[0] == 0
    counts, _ = store.density("/a", "frame", bins=4, t0=0, t1=49)
    assert counts.tolist() == [13, 12, 12, 13]
    assert store.components("/a") == {"Scalars:scalars": pa.float64()}
    assert store.latest_at("/c", None, 0)["Test:a"].values.to_pylist() == [1]
    with pytest.raises(UnknownEntityError):
        store.components("/zzz")
    assert sum(b.num_rows for b in store.chunks()) == 111


def test_rows_out_of_row_id_order_are_restored():
    rids = np.array([[5, 0], [1, 0], [3, 0]], dtype=np.uint64)
    chunk = build_chunk(
        "/u", rids, {"frame": ("sequence", np.array([1, 1, 1]))},
        {"Scalars:scalars": (pa.float64(), pa.array([5.0, 1.0, 3.0]), np.ones(3, dtype=np.int64))},
        ["Scalars"], False,
    )
    store = TimelineStore()
    store.insert(chunk)
    assert store.latest_at("/u", "frame", 1)["Scalars:scalars"].values.to_pylist() == [5.0]
    assert store.range("/u", "frame", 0, 2).column("Scalars:scalars").to_pylist() == [[1.0], [3.0], [5.0]]


def test_density_matches_numpy_histogram():
    rng = np.random.default_rng(3)
    store = TimelineStore(compact=False)
    frames = rng.integers(0, 1000, 3000)
    for i in range(0, 3000, 300):
        store.insert(_scalars("/r", frames[i:i + 300], np.zeros(300), start=i + 1))
    for bins, t0, t1 in [(7, None, None), (50, 100, 900), (3, 500, 500)]:
        counts, edges = store.density("/r", "frame", bins=bins, t0=t0, t1=t1)
        lo, hi = edges[0], edges[-1]
        want, want_edges = np.histogram(frames, bins=bins, range=(lo, hi))
        assert counts.tolist() == want.tolist() and np.allclose(edges, want_edges)


def test_implicit_parents_answer_empty():
    store = TimelineStore()
    store.insert(_scalars("/robot/arm/joint", [1], [1.0]))
    assert store.latest_at("/robot", "frame", 5) == {}
    assert store.range("robot/arm", "frame", 0, 5).num_rows == 0
    assert store.components("/robot") == {}
    assert np.allclose(store.world_transform("/robot/arm", "frame", 5), np.eye(4))
    with pytest.raises(UnknownEntityError):
        store.latest_at("/robo", "frame", 5)


def test_list_field_nullability_is_not_a_type_change():
    store = TimelineStore()
    store.insert(_scalars("/x", [1], [1.0]))
    strict = _scalars("/x", [2], [2.0], start=5)
    typ = pa.list_(pa.field("item", pa.float64(), nullable=False))
    schema = strict.schema.set(2, pa.field("Scalars:scalars", typ))
    strict = pa.RecordBatch.from_arrays([strict.column(0), strict.column(1), strict.column(2).cast(typ)], schema=schema)
    store.insert(strict)
    assert store.range("/x", "frame", 0, 5).column("Scalars:scalars").to_pylist() == [[1.0], [2.0]]


def test_chunks_differing_only_in_field_nullability_compact_without_error():
    """Compaction used to merge them and raise ArrowInvalid from insert() after storing the chunk."""
    store = TimelineStore()
    for i in range(70):
        chunk = _scalars("/n", [i], [float(i)], start=i + 1)
        if i % 2:
            schema = chunk.schema.set(1, chunk.schema.field(1).with_nullable(False))
            chunk = pa.RecordBatch.from_arrays(chunk.columns, schema=schema)
        store.insert(chunk)
    store.compact()
    assert store.range("/n", "frame", 0, 100).column("frame").to_pylist() == list(range(70))
    assert store.num_chunks() <= 2


def _one_row(entity, key, dtype, value, start):
    return build_chunk(entity, np.array([[start, 0]], dtype=np.uint64), {"frame": ("sequence", np.array([1]))},
                       {key: (dtype, pa.array([value], type=dtype), np.array([1]))}, ["X"], False)


def test_reserved_component_keys_are_refused():
    """A component named like a virtual index key (``__clear_recursive``) acted as a recursive Clear."""
    store = TimelineStore()
    store.insert(_one_row("/p/c", "Scalars:scalars", pa.float64(), 1.0, 1))
    store.insert(_one_row("/q", "Clear:is_recursive", pa.bool_(), False, 2))
    before = _state(store)
    for key in ("__clear_recursive", "__any"):
        with pytest.raises(MalformedChunkError, match="reserved"):
            store.insert(_one_row("/p", key, pa.bool_(), False, 3))
    assert _state(store) == before
    assert store.latest_at("/p/c", "frame", 9)["Scalars:scalars"].values.to_pylist() == [1.0]


@pytest.mark.parametrize("meta_key, value", [
    (b"rz.entity_path", b"\xff\xfe"), (b"rz.layout", b"\xff"), (b"rz.archetypes", b"3"),
])
def test_undecodable_metadata_is_a_typed_refusal(meta_key, value):
    chunk = _scalars("/s", [1], [1.0])
    meta = dict(chunk.schema.metadata)
    meta[meta_key] = value
    store = TimelineStore()
    with pytest.raises(MalformedChunkError):
        store.insert(chunk.replace_schema_metadata(meta))
    assert store.entity_paths() == []
