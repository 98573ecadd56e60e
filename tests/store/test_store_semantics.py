"""Latest-at and range against the brute-force oracle, over random out-of-order writes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_oracle import CLEAR, KINDS, Oracle, build, store_range
from store_strategies import ENTITIES, EXTREMES, writes

from store import TimelineStore, UnknownEntityError, UnknownTimelineError

# a loaded 2-core CI machine can be slow to generate examples; that is not a failure
SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=SLOW_OK)


def _load(ws, **kwargs):
    store, oracle = TimelineStore(**kwargs), Oracle()
    for w in ws:
        store.insert(build(w))
        oracle.add(w)
    return store, oracle


def _check_latest(store, oracle, tl, t):
    for entity in ENTITIES:
        if entity not in store.entity_paths():
            continue
        got = {k: c.values.to_pylist() for k, c in store.latest_at(entity, tl, t).items() if k != CLEAR}
        assert got == oracle.latest_at(entity, tl, t), (entity, tl, t)


def _scale(tl, t):
    return t * 1_000_000 if tl == "time" else t


@SETTINGS
@given(ws=writes(), queries=st.lists(st.tuples(st.sampled_from(list(KINDS)), st.integers(-1, 14)), max_size=8))
def test_latest_at_matches_oracle(ws, queries):
    store, oracle = _load(ws)
    for tl, t in queries:
        if tl in store.timelines():
            _check_latest(store, oracle, tl, _scale(tl, t))
            _check_latest(store, oracle, tl, _scale(tl, t))  # second time answered from the cache
    if "frame" in store.timelines():
        for t in EXTREMES:
            _check_latest(store, oracle, "frame", t)


@SETTINGS
@given(ws=writes(), t0=st.integers(-1, 13), width=st.integers(0, 14), tl=st.sampled_from(list(KINDS)))
def test_range_matches_oracle(ws, t0, width, tl):
    store, oracle = _load(ws)
    if tl not in store.timelines():
        return
    a, b = _scale(tl, t0), _scale(tl, t0 + width)
    for entity in store.entity_paths():
        assert store_range(store.range(entity, tl, a, b), tl) == oracle.range(entity, tl, a, b)
        assert store_range(store.range(entity, tl, *EXTREMES), tl) == oracle.range(entity, tl, *EXTREMES)


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW_OK)
@given(ws=writes(max_writes=40), t=st.integers(0, 13))
def test_compaction_keeps_answers(ws, t, monkeypatch_compact):
    store, oracle = _load(ws)
    before = store.num_chunks()
    store.compact()
    assert store.num_chunks() <= before
    for tl in store.timelines():
        _check_latest(store, oracle, tl, _scale(tl, t))
        for entity in store.entity_paths():
            got = store_range(store.range(entity, tl, -1, _scale(tl, 20)), tl)
            assert got == oracle.range(entity, tl, -1, _scale(tl, 20))


@pytest.fixture(scope="module")
def monkeypatch_compact():
    from store import _compaction, _store

    # tiny limits: inserts split 3-row chunks and compact every 3 small ones into 2-row chunks
    saved = _store._COMPACT_EVERY, _compaction.MAX_ROWS, _compaction.SPLIT_ROWS
    _store._COMPACT_EVERY, _compaction.MAX_ROWS, _compaction.SPLIT_ROWS = 3, 2, 2
    yield
    _store._COMPACT_EVERY, _compaction.MAX_ROWS, _compaction.SPLIT_ROWS = saved


def test_unknown_entity_and_timeline():
    store, _ = _load([])
    with pytest.raises(UnknownTimelineError):
        store.latest_at("/a", "frame", 0)
    from store_oracle import Row, Write

    store.insert(build(Write("/a", False, [Row((1, 1), {"frame": 1}, {"Test:a": [1]})])))
    with pytest.raises(UnknownEntityError):
        store.latest_at("/nope", "frame", 0)
    assert store.latest_at("a", "frame", 5)["Test:a"].values.to_pylist() == [1]


def test_clear_rules_spelled_out():
    """Temporal Clears hide temporal data at or before them, never static data; static Clears hide
    older static data only; recursive Clears reach descendants."""
    from store_oracle import Row, Write

    store = TimelineStore()
    static_pts = Write("/p", True, [Row((1, 1), {}, {"Test:a": [1]})])
    line = Write("/p", False, [Row((2, 1), {"frame": 1}, {"Test:b": [2]})])
    child = Write("/p/c", False, [Row((3, 1), {"frame": 1}, {"Test:a": [3]})])
    clear = Write("/p", False, [Row((4, 1), {"frame": 2}, clear=False)])
    rclear = Write("/p", False, [Row((5, 1), {"frame": 3}, clear=True)])
    for w in (static_pts, line, child, clear, rclear):
        store.insert(build(w))

    def vis(entity, t):
        return {k: c.values.to_pylist() for k, c in store.latest_at(entity, "frame", t).items() if k != CLEAR}

    assert vis("/p", 1) == {"Test:a": [1], "Test:b": [2]}
    assert vis("/p", 2) == {"Test:a": [1]}  # the static value survives the Clear
    assert vis("/p/c", 2) == {"Test:a": [3]}  # not recursive
    assert vis("/p/c", 3) == {}  # recursive
    store.insert(build(Write("/p", True, [Row((6, 1), {}, clear=False)])))
    assert vis("/p", 1) == {"Test:b": [2]}  # a static Clear hides older static data
