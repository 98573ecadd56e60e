"""GC under a memory limit, store events, and cache invalidation by interleaved inserts and queries."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_oracle import CLEAR, KINDS, Oracle, Row, Write, build
from store_strategies import writes

from store import DataDropped, EntityAdded, RowsAdded, SubscriberError, TimelineExtended, TimelineStore
from store._gc import protected_chunks

# a loaded 2-core CI machine can be slow to generate examples; that is not a failure
SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]

BIG = 2**63 - 1  # the end of every timeline


def _visible(store, entity, tl, t):
    return {k: c.values.to_pylist() for k, c in store.latest_at(entity, tl, t).items() if k != CLEAR}


@settings(max_examples=80, deadline=None, suppress_health_check=SLOW_OK)
@given(ws=writes(max_writes=40), limit=st.integers(0, 6000))
def test_gc_keeps_latest_values_and_static(ws, limit):
    store, oracle = TimelineStore(memory_limit=limit, compact=False), Oracle()
    dropped = []
    store.subscribe(lambda e: dropped.append(e) if isinstance(e, DataDropped) else None)
    total_rows = 0
    for w in ws:
        store.insert(build(w))
        oracle.add(w)
        total_rows += len(w.rows)
    for entity in store.entity_paths():
        for tl in store.timelines():
            assert _visible(store, entity, tl, BIG) == oracle.latest_at(entity, tl, BIG)
        static_rows = [r for e, s, r in oracle.rows if e == entity and s]
        assert sum(c.num_rows for c in store._entities[entity].chunks.values() if c.is_static) == len(static_rows)
    keep = protected_chunks(store)
    all_protected = all(c.seq in keep for e in store._entities.values() for c in e.chunks.values())
    assert store.total_bytes <= limit or all_protected
    assert sum(store.row_counts().values()) + sum(r.num_rows for r in store.dropped) == total_rows
    assert sum(e.num_rows for e in dropped) == sum(r.num_rows for r in store.dropped)


@settings(max_examples=80, deadline=None, suppress_health_check=SLOW_OK)
@given(ws=writes(max_writes=30), data=st.data())
def test_cache_stays_right_between_inserts(ws, data):
    store, oracle = TimelineStore(), Oracle()
    for w in ws:
        store.insert(build(w))
        oracle.add(w)
        for _ in range(2):
            tl = data.draw(st.sampled_from(list(KINDS)))
            t = data.draw(st.integers(0, 13)) * (1_000_000 if tl == "time" else 1)
            if tl not in store.timelines():
                continue
            for entity in store.entity_paths():
                assert _visible(store, entity, tl, t) == oracle.latest_at(entity, tl, t)


def _one(entity, rid, frame, value, static=False):
    return build(Write(entity, static, [Row((rid, rid), {} if static else {"frame": frame}, {"Test:a": [value]})]))


def test_cache_hit_and_invalidation_by_min_changed_time():
    store = TimelineStore()
    store.insert(_one("/e", 1, 5, 50))
    assert store.latest_at("/e", "frame", 10)["Test:a"].values.to_pylist() == [50]
    hits = store.cache.hits
    store.latest_at("/e", "frame", 10)
    assert store.cache.hits == hits + 1
    store.insert(_one("/e", 2, 12, 120))  # later than the cached query: the entry survives
    assert store.latest_at("/e", "frame", 10)["Test:a"].values.to_pylist() == [50]
    assert store.cache.hits == hits + 2
    store.insert(_one("/e", 3, 7, 70))  # earlier: invalidates
    assert store.latest_at("/e", "frame", 10)["Test:a"].values.to_pylist() == [70]
    assert store.latest_at("/e", "frame", 12)["Test:a"].values.to_pylist() == [120]
    store.insert(_one("/e", 4, 0, 1, static=True))  # static wins everywhere
    assert store.latest_at("/e", "frame", 10)["Test:a"].time is None


def test_events_follow_the_data():
    store = TimelineStore()
    events = []
    store.subscribe(events.append)
    store.insert(_one("/e", 1, 5, 50))
    store.insert(_one("/e", 2, 3, 30))
    store.insert(_one("/f", 3, 9, 90))
    store.insert(_one("/f", 4, 4, 40))
    assert [e.entity_path for e in events if isinstance(e, EntityAdded)] == ["/e", "/f"]
    assert sum(e.num_rows for e in events if isinstance(e, RowsAdded)) == 4
    ext = [(e.min, e.max) for e in events if isinstance(e, TimelineExtended)]
    assert ext == [(5, 5), (3, 5), (3, 9)]
    assert store.time_range("frame") == (3, 9)


def test_a_raising_subscriber_does_not_lose_data():
    store = TimelineStore()
    seen = []

    def bad(event):
        raise RuntimeError("boom")

    store.subscribe(bad)
    token = store.subscribe(seen.append)
    with pytest.raises(SubscriberError):
        store.insert(_one("/e", 1, 5, 50))
    assert seen and store.latest_at("/e", "frame", 5)
    store.unsubscribe(token)


def test_gc_drops_furthest_from_cursor_first():
    store = TimelineStore(compact=False)
    for i in range(10):
        store.insert(_one("/e", i + 1, i * 10, i))
    one = max(c.nbytes for c in store._entities["/e"].chunks.values())
    report = store.gc(2 * one, cursor=("frame", 90))
    assert report.num_chunks == 2 and report.time_ranges["/e"]["frame"] == (0, 10)
    report = store.gc(2 * one)  # no cursor: oldest RowId first
    assert report.time_ranges["/e"]["frame"] == (20, 30)
    report = store.gc(10**9)  # everything droppable goes; the latest value stays
    assert store.latest_at("/e", "frame", 1000)["Test:a"].values.to_pylist() == [9]
    assert store.row_counts()["/e"] == 1


def test_memory_limit_zero_keeps_only_protected_data():
    store = TimelineStore(memory_limit=0, compact=False)
    for i in range(20):
        store.insert(_one("/e", i + 1, i, i))
    store.insert(_one("/e", 100, 0, -1, static=True))
    assert store.num_chunks() == 2  # the latest temporal value and the static one
    assert store.gc().num_chunks == 0
    assert store.latest_at("/e", None, 0)["Test:a"].values.to_pylist() == [-1]
    assert sum(r.num_rows for r in store.dropped) == 19
    summary = store.dropped_summary()
    assert summary.num_rows == 19 and summary.per_entity["/e"][0] == 19
    assert summary.time_ranges["/e"]["frame"] == (0, 18)


def test_a_hub_shares_one_memory_limit_and_collects_the_idle_recording_first():
    from store import StoreHub

    probe = TimelineStore(compact=False)
    probe.insert(_one("/e", 1, 0, 0))
    size = probe.total_bytes
    hub = StoreHub(memory_limit=30 * size)
    for store in ("old", "new"):
        hub.store(store, create=True).compact_on_insert = False
    for i in range(20):
        hub.insert("old", _one("/e", i + 1, i, i))
    for i in range(20):
        hub.insert("new", _one("/e", 100 + i, i, i))
    old, new = hub.store("old"), hub.store("new")
    assert old.total_bytes + new.total_bytes <= 30 * size
    assert old.row_counts()["/e"] < new.row_counts()["/e"] == 20  # the idle recording gave way
    assert old.latest_at("/e", "frame", 100)["Test:a"].values.to_pylist() == [19]
