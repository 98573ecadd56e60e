"""A bigger seeded run against the oracle: many overlapping chunks, wide time spans, GC and compaction."""

from __future__ import annotations

import numpy as np
import pytest
from store_oracle import CLEAR, KEYS, Oracle, Row, Write, build

from store import TimelineStore

ENTITIES = ("/w", "/w/x", "/w/x/y", "/z")


def _random_writes(seed: int, n_writes: int) -> list[Write]:
    rng = np.random.default_rng(seed)
    writes, counter = [], 0
    for _ in range(n_writes):
        entity = ENTITIES[rng.integers(len(ENTITIES))]
        kind = rng.choice(["temporal"] * 8 + ["static", "clear"])
        rows = []
        base = int(rng.integers(0, 500))
        for _ in range(int(rng.integers(1, 12))):
            counter += 1
            row = Row((int(rng.integers(0, 1000)), counter))
            if kind != "static":
                spread = int(rng.choice([3, 30, 300]))  # some chunks span most of the timeline
                row.times = {"frame": base + int(rng.integers(0, spread)),
                             "time": None if rng.random() < 0.2 else int(rng.integers(0, 500)) * 1000}
            if kind == "clear":
                row.clear = bool(rng.random() < 0.5)
            else:
                for k in KEYS:
                    row.comps[k] = None if rng.random() < 0.3 else [int(v) for v in rng.integers(-9, 9, 2)]
                if all(v is None for v in row.comps.values()):
                    row.comps[KEYS[0]] = [counter]
            rows.append(row)
        writes.append(Write(entity, kind == "static", rows))
    return writes


@pytest.mark.parametrize("seed", [1, 2])
def test_many_overlapping_chunks_match_the_oracle(seed):
    writes = _random_writes(seed, 300)
    store, oracle = TimelineStore(), Oracle()
    for w in writes:
        store.insert(build(w))
        oracle.add(w)
    store.compact()
    rng = np.random.default_rng(seed + 100)
    for t in rng.integers(-5, 820, 40):
        for tl, scale in (("frame", 1), ("time", 1000)):
            for entity in ENTITIES:
                got = {k: c.values.to_pylist() for k, c in store.latest_at(entity, tl, int(t) * scale).items()
                       if k != CLEAR}
                assert got == oracle.latest_at(entity, tl, int(t) * scale), (entity, tl, t)
