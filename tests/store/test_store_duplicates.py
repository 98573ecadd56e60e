"""Rows whose RowId the store already holds are not stored twice (resends, a file loaded twice)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from rerun_zmq._chunk import build_chunk
from store import TimelineStore


def _chunk(rids, frames=None, entity="/a", values=None, static=False) -> pa.RecordBatch:
    rids = np.asarray(rids, np.uint64).reshape(-1, 2)
    n = len(rids)
    frames = np.arange(n) if frames is None else np.asarray(frames)
    values = np.arange(n, dtype=np.float64) if values is None else np.asarray(values, np.float64)
    times = {} if static else {"frame": ("sequence", np.asarray(frames, np.int64))}
    return build_chunk(entity, rids, times, {"Scalars:scalars": (pa.float64(), pa.array(values), np.ones(n, np.int64))},
                       ["Scalars"], static)


def _rows(store, entity="/a"):
    table = store.range(entity, "frame", -(2**62), 2**62)
    return list(zip(table.column("frame").to_pylist(), [v[0] for v in table.column("Scalars:scalars").to_pylist()]))


def test_the_same_chunk_twice_is_stored_once():
    st = TimelineStore()
    chunk = _chunk([[10 + i, 1] for i in range(100)])
    assert st.insert(chunk) == 100
    assert st.insert(chunk) == 0
    assert st.duplicate_rows == 100
    assert _rows(st) == [(i, float(i)) for i in range(100)]
    assert st.row_counts()["/a"] == 100


def test_partial_overlap_stores_only_the_new_rows():
    st = TimelineStore()
    st.insert(_chunk([[i, 0] for i in range(0, 10)], frames=range(0, 10), values=range(0, 10)))
    st.insert(_chunk([[i, 0] for i in range(20, 30)], frames=range(20, 30), values=range(20, 30)))
    # rows 5..24: 5..9 and 20..24 are held, 10..19 are new (a resend that overlaps two chunks)
    rids = [[i, 0] for i in range(5, 25)]
    assert st.insert(_chunk(rids, frames=range(5, 25), values=[-1.0] * 20)) == 10
    assert st.duplicate_rows == 10
    got = _rows(st)
    assert [t for t, _ in got] == list(range(30))
    assert all(v == t for t, v in got if t < 10 or t >= 20)  # the held rows kept their first values
    assert all(v == -1.0 for t, v in got if 10 <= t < 20)


def test_duplicates_within_one_chunk_and_low_halves():
    st = TimelineStore()
    # equal high halves, RowIds differing only in the low half are different rows
    assert st.insert(_chunk([[7, 1], [7, 2], [7, 2], [7, 3]], frames=[0, 1, 1, 2])) == 3
    assert st.duplicate_rows == 1
    assert st.insert(_chunk([[7, 3], [7, 4]], frames=[2, 3])) == 1
    assert [t for t, _ in _rows(st)] == [0, 1, 2, 3]


def test_unsorted_resend_is_deduplicated_after_sorting():
    st = TimelineStore()
    st.insert(_chunk([[i, 5] for i in range(10)]))
    rids = [[i, 5] for i in reversed(range(5, 15))]
    assert st.insert(_chunk(rids, frames=list(reversed(range(5, 15))))) == 5
    assert [t for t, _ in _rows(st)] == list(range(15))


def test_static_rows_are_deduplicated_too():
    st = TimelineStore()
    chunk = _chunk([[1, 1]], static=True)
    st.insert(chunk)
    assert st.insert(chunk) == 0 and st.duplicate_rows == 1


def test_other_entities_and_compacted_chunks():
    st = TimelineStore()
    small = [_chunk([[100 * k + i, 0] for i in range(3)], frames=range(3 * k, 3 * k + 3)) for k in range(70)]
    for c in small:  # 70 small chunks: compacted into bigger ones along the way
        st.insert(c)
    st.compact()
    assert st.insert(_chunk([[100 * 5 + 1, 0]], entity="/b")) == 1  # the same RowId on another entity
    for c in small:
        assert st.insert(c) == 0
    assert st.duplicate_rows == 210
    assert len(_rows(st)) == 210


def test_rows_dropped_by_gc_can_come_again():
    st = TimelineStore()
    chunks = [_chunk([[1000 * k + i, 0] for i in range(500)], frames=range(500 * k, 500 * k + 500)) for k in range(4)]
    for c in chunks:
        st.insert(c)
    st.gc(10**9)  # everything but the chunk holding the latest values
    assert 0 not in [t for t, _ in _rows(st)]
    assert st.insert(chunks[0]) == 500 and st.duplicate_rows == 0
    assert st.insert(chunks[3]) == 0 and st.duplicate_rows == 500
