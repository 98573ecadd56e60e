"""``_GroupedLoader`` (small chunks merged per entity before insertion) against chunk-by-chunk insertion."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rerun_zmq._chunk import build_chunk
from rerun_zmq.dataframe import _GroupedLoader
from store import MalformedChunkError, TimelineStore

BIG = _GroupedLoader.SMALL_BYTES // 8 + 1  # float64 instances in one row of a chunk inserted alone


def insert_in_file_order(batches) -> tuple[TimelineStore, int]:
    """The oracle: each chunk inserted on its own, in file order -> (store, chunks refused)."""
    store, refused = TimelineStore(), 0
    for b in batches:
        try:
            store.insert(b)
        except MalformedChunkError:
            refused += 1
    return store, refused


def assert_loads_like_file_order(loader: _GroupedLoader, batches, rows) -> None:
    """``loader``, given ``batches`` for recording "rec", finishes with the rows (as ``rows(store)``
    reads them), timelines and refusals of the file-order oracle."""
    want, want_refused = insert_in_file_order(batches)
    loader.finish()
    got = loader.stores.get("rec") or TimelineStore()
    assert rows(got) == rows(want)
    assert got.timelines() == want.timelines()
    assert len(loader.refused) == want_refused


def _chunk(i: int, entity: str, kind: str, dtype: str, big: bool) -> pa.RecordBatch:
    n = BIG if big else 1
    if dtype == "float":
        typ, values = pa.float64(), pa.array(np.full(n, float(i)))
    else:
        typ, values = pa.string(), pa.array([str(i).rjust(8)] * n)
    return build_chunk(entity, np.array([[i, 0]], np.uint64), {"t": (kind, np.array([i]))},
                       {"Scalars:scalars": (typ, values, np.array([n]))}, ["Scalars"], False)


def _rows(store: TimelineStore) -> dict[str, list[int]]:
    return {e: store.range(e, "t", -1, 10**9).column("t").to_pylist() for e in store.entity_paths()}


chunks = st.lists(st.tuples(st.sampled_from(["/a", "/b"]), st.sampled_from(["sequence", "duration"]),
                            st.sampled_from(["float", "string"]), st.integers(0, 5).map(lambda x: x == 0)),
                  min_size=1, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(specs=chunks)
def test_grouping_refuses_what_file_order_refuses(specs):
    """The same rows are stored and the same chunks refused, each once, as inserting in file order."""
    batches = [_chunk(i + 1, *spec) for i, spec in enumerate(specs)]
    loader = _GroupedLoader()
    for b in batches:
        loader.add("rec", b)
    assert_loads_like_file_order(loader, batches, _rows)


def test_a_big_chunk_does_not_overtake_earlier_small_ones():
    """A chunk inserted at once (over SMALL_BYTES) used to reach the store before pending small ones,
    so the earlier, good chunks were refused instead of the later, conflicting one."""
    loader = _GroupedLoader()
    for i in range(1, 4):
        loader.add("rec", _chunk(i, "/a", "sequence", "float", False))
    loader.add("rec", _chunk(4, "/a", "sequence", "string", True))
    loader.finish()
    assert _rows(loader.stores["rec"]) == {"/a": [1, 2, 3]}
    assert len(loader.refused) == 1 and "stored as" in loader.refused[0]
