"""Hypothesis strategies: random interleavings of temporal, static and Clear writes."""

from __future__ import annotations

from hypothesis import strategies as st
from store_oracle import KEYS, Row, Write

ENTITIES = ("/a", "/a/b", "/a/b/c", "/d")
times = st.integers(min_value=0, max_value=12)
#: the ends of int64 (sequence timeline only: the duration one is scaled to ns)
EXTREMES = (-(2**63), 2**63 - 1)
frames = st.one_of(times, times, times, st.sampled_from(EXTREMES))


@st.composite
def writes(draw, max_writes: int = 25) -> list[Write]:
    """Writes in insertion order; RowIds collide on the high half sometimes, never whole."""
    n = draw(st.integers(min_value=1, max_value=max_writes))
    out: list[Write] = []
    counter = 0
    for _ in range(n):
        entity = draw(st.sampled_from(ENTITIES))
        kind = draw(st.sampled_from(["temporal", "temporal", "temporal", "static", "clear"]))
        is_static = kind == "static" or (kind == "clear" and draw(st.integers(0, 5)) == 0)
        rows = []
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            counter += 1
            rid = (draw(st.integers(min_value=0, max_value=40)), counter)
            row = Row(rid)
            if not is_static:
                row.times = {
                    "frame": draw(st.one_of(st.none(), frames)),
                    "time": draw(st.one_of(st.none(), times.map(lambda t: t * 1_000_000))),
                }
                if row.times["frame"] is None and row.times["time"] is None:
                    row.times["frame"] = draw(times)
            if kind == "clear":
                row.clear = draw(st.booleans())
            else:
                for k in KEYS:
                    row.comps[k] = draw(st.one_of(st.none(), st.lists(st.integers(-9, 9), max_size=3)))
                if all(v is None for v in row.comps.values()):
                    row.comps[KEYS[0]] = [counter]
            rows.append(row)
        out.append(Write(entity, is_static, rows, null_columns=draw(st.booleans()), unsorted=draw(st.booleans())))
    # out of order: rows were created in list order, insert them permuted
    return draw(st.permutations(out))
