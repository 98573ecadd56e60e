"""Latest-at and range queries over one entity, with Clears applied at query time.

Order is ``(time, RowId)``; static data wins over temporal data of the same component. A Clear on
an entity, or a recursive Clear on an ancestor, hides every temporal value whose index is at or
before the Clear's; temporal Clears never hide static data, a static Clear hides older static data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from rerun_zmq._chunk import ROW_ID, ROW_ID_TYPE
from rerun_zmq._entity_path import parent_paths

from ._index import Hit
from ._stored_chunk import ANY_ROW, CLEAR_ANY, CLEAR_KEY, CLEAR_REC, STATIC_TIME, StoredChunk

if TYPE_CHECKING:
    from ._store import TimelineStore


@dataclass(frozen=True, slots=True)
class Cell:
    """One component's value from a latest-at query: its instances and where they came from."""

    values: pa.Array
    time: int | None  # None for static data
    row_id: tuple[int, int]

    @property
    def index(self) -> tuple[int, int, int]:
        return (STATIC_TIME if self.time is None else self.time, *self.row_id)


@lru_cache(maxsize=65536)
def _ancestors(path: str) -> tuple[str, ...]:
    """Every ancestor of a canonical path, root first (cached: clears walk them on every query)."""
    return tuple(parent_paths(path))


def _newer(a: tuple | None, b: tuple | None) -> tuple | None:
    return b if a is None or (b is not None and b > a) else a


def clear_index(store: TimelineStore, entity: str, timeline: str | None, t: int) -> tuple:
    """(static, temporal) newest Clear indexes applying to ``entity`` at ``t``.

    Own Clears and ancestors' recursive Clears count. A temporal Clear never hides static data
    (static data has no time to be "at or before"); a static Clear hides older static data only.
    """
    static = temporal = None
    ent = store._entities.get(entity)
    if ent is not None:
        static, temporal = ent.latest_clear(timeline, CLEAR_ANY, t)
    for parent in _ancestors(entity):
        pent = store._entities.get(parent)
        if pent is not None:
            s, tm = pent.latest_clear(timeline, CLEAR_REC, t)
            static, temporal = _newer(static, s), _newer(temporal, tm)
    return static, temporal


def latest_at(
    store: TimelineStore, entity: str, timeline: str | None, t: int, components: list[str] | None
) -> dict[str, Cell]:
    """Per component, the visible value with the greatest (time, RowId) <= (t, inf)."""
    ent = store._entities.get(entity)
    if ent is None:
        return {}
    keys = components if components is not None else [k for k in ent.component_keys(timeline) if k != CLEAR_KEY]
    static_clear, temporal_clear = clear_index(store, entity, timeline, t) if store._has_clears else (None, None)
    out: dict[str, Cell] = {}
    for key in keys:
        hit = store._latest_raw(ent, timeline, key, t)
        if hit is None:
            continue
        cleared = static_clear if hit[0] == STATIC_TIME else temporal_clear
        if cleared is not None and hit[:3] <= cleared:
            continue
        out[key] = _cell(hit, key)
    return out


def _cell(hit: Hit, key: str) -> Cell:
    time, hi, lo, chunk, row = hit
    return Cell(chunk.cell(key, row), None if time == STATIC_TIME else time, (hi, lo))


def range_query(
    store: TimelineStore, entity: str, timeline: str, t0: int, t1: int, components: list[str] | None
) -> pa.Table:
    """Every row of ``entity`` on ``timeline`` with time in [t0, t1] holding one of ``components``."""
    ent = store._entities.get(entity)
    if components is not None:
        keys = sorted(set(components))
    else:
        keys = sorted({k for tl, k in ent.temporal if tl == timeline and not k.startswith("__")}) if ent else []
    types = {k: ent.component_types.get(k, pa.list_(pa.null())) if ent else pa.list_(pa.null()) for k in keys}
    fields = [pa.field(ROW_ID, ROW_ID_TYPE), pa.field(timeline, pa.int64())]
    fields += [pa.field(k, types[k]) for k in keys]
    schema = pa.schema(fields)
    if ent is None:
        return schema.empty_table()
    chunks: dict[int, StoredChunk] = {}
    for key in keys if components is not None else [ANY_ROW]:
        idx = ent.temporal.get((timeline, key))
        if idx is not None:
            chunks.update((c.seq, c) for c in idx.overlapping(t0, t1))
    parts: list[pa.Table] = []
    sort_t, sort_hi, sort_lo = [], [], []
    for chunk in sorted(chunks.values(), key=lambda c: c.seq):
        times = chunk.times[timeline]
        mask = chunk.time_valid[timeline] & (times >= t0) & (times <= t1)
        if components is not None:
            has = np.zeros(chunk.num_rows, dtype=bool)
            for k in keys:
                if k in chunk.present:
                    has |= chunk.present[k]
            mask &= has
        rows = np.flatnonzero(mask)
        if len(rows) == 0:
            continue
        contiguous = rows[-1] - rows[0] + 1 == len(rows)
        pick = _slicer(int(rows[0]), len(rows)) if contiguous else _taker(pa.array(rows))
        cols = [pick(chunk.batch.column(0)), pa.array(times[rows])]
        for k in keys:
            col = chunk.columns.get(k)
            if col is None:
                cols.append(pa.nulls(len(rows), types[k]))
            else:  # a list type differing only in field name/nullability is cast to the stored one
                cols.append(pick(col) if col.type == types[k] else pick(col).cast(types[k]))
        parts.append(pa.Table.from_arrays(cols, schema=schema))
        sort_t.append(times[rows])
        sort_hi.append(chunk.rid_hi[rows])
        sort_lo.append(chunk.rid_lo[rows])
    if not parts:
        return schema.empty_table()
    table = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
    order = np.lexsort((np.concatenate(sort_lo), np.concatenate(sort_hi), np.concatenate(sort_t)))
    if not np.array_equal(order, np.arange(len(order))):
        return table.take(pa.array(order))
    return table if len(parts) == 1 else table.combine_chunks()


def _slicer(start: int, n: int):
    """Zero-copy row selection for a contiguous run of rows."""
    return lambda arr: arr.slice(start, n)


def _taker(indices: pa.Array):
    return lambda arr: arr.take(indices)
