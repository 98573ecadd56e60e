"""The per-entity scene memo gives exactly what a fresh build gives, and reuses only settled entities."""

from __future__ import annotations

import numpy as np
import pytest

from ui.data_client import DataClient, FileSource
from ui.scene import EntityMemo, build_scene
from ui.state import AppState

NS = 1_000_000_000


@pytest.fixture
def state(dna_rrd) -> AppState:
    s = AppState(store=None)
    DataClient(s).load_now(FileSource(dna_rrd))
    return s


def _same(a, b) -> None:
    for name in ("points", "lines"):
        pa_, ca, ea = getattr(a, name).arrays()
        pb, cb, eb = getattr(b, name).arrays()
        np.testing.assert_array_equal(pa_, pb)
        np.testing.assert_array_equal(ca, cb)
        assert (ea is None) == (eb is None)
        if ea is not None:
            np.testing.assert_array_equal(ea, eb)
        assert [o[0] for o in getattr(a, name).owners] == [o[0] for o in getattr(b, name).owners]
    np.testing.assert_array_equal(a.bounds[0], b.bounds[0])
    np.testing.assert_array_equal(a.bounds[1], b.bounds[1])


def test_memo_matches_fresh_builds_while_the_cursor_moves(state):
    memo = EntityMemo()
    last = state.store.time_range("stable_time")[1]
    # the abacus rotates until its last transform: nothing below /dna/structure is settled before it
    for t in (0, NS // 2, 2 * NS, last - NS // 100):
        state.time.cursor = t
        _same(build_scene(state, memo=memo), build_scene(state))
        assert "/dna/structure/left" not in memo.parts
    for t in (last, last + 5 * NS):
        state.time.cursor = t
        _same(build_scene(state, memo=memo), build_scene(state))
        assert {"/dna/structure/left", "/dna/structure/right"} <= set(memo.parts)
    for t in (3 * NS, last, NS):  # back before the last transform: kept parts must not be used
        state.time.cursor = t
        _same(build_scene(state, memo=memo), build_scene(state))


def test_memo_forgets_when_the_data_changes(state):
    memo = EntityMemo()
    state.time.cursor = state.store.time_range("stable_time")[1]
    build_scene(state, memo=memo)
    assert memo.parts
    state.generation += 1
    build_scene(state, memo=memo)
    assert memo.key[1] == state.generation
