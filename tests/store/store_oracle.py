"""Test rows, a chunk builder for them, and a brute-force oracle of the store's semantics."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from rerun_zmq._chunk import list_array, make_schema, row_ids_to_array
from rerun_zmq._entity_path import parent_paths

STATIC = -(2**63) - 1
KINDS = {"frame": "sequence", "time": "duration"}
KEYS = ("Test:a", "Test:b")
CLEAR = "Clear:is_recursive"


@dataclass
class Row:
    rid: tuple[int, int]
    times: dict[str, int | None] = field(default_factory=dict)
    comps: dict[str, list[int] | None] = field(default_factory=dict)
    clear: bool | None = None  # None: not a Clear row; else is_recursive


@dataclass
class Write:
    entity: str
    is_static: bool
    rows: list[Row]
    #: also write columns (components, timelines) that are null in every row: null means "not logged"
    null_columns: bool = False
    #: rows in the order drawn instead of RowId order (the store restores RowId order)
    unsorted: bool = False


def build(write: Write) -> pa.RecordBatch:
    """A chunk for ``write`` (rows sorted by RowId, as the layout requires, unless ``write.unsorted``)."""
    rows = list(write.rows) if write.unsorted else sorted(write.rows, key=lambda r: r.rid)
    full = write.null_columns
    tls = [] if write.is_static else [tl for tl in KINDS if full or any(r.times.get(tl) is not None for r in rows)]
    keys = [k for k in KEYS if full or any(r.comps.get(k) is not None for r in rows)]
    has_clear = any(r.clear is not None for r in rows)
    comps = [(k, pa.int64()) for k in keys] + ([(CLEAR, pa.bool_())] if has_clear else [])
    schema = make_schema(write.entity, {tl: KINDS[tl] for tl in tls}, comps, ["Test"], write.is_static)
    cols = [row_ids_to_array(np.array([r.rid for r in rows], dtype=np.uint64).reshape(-1, 2))]
    cols += [pa.array([r.times.get(tl) for r in rows], type=pa.int64()) for tl in tls]
    for k in keys:
        vals = [r.comps.get(k) for r in rows]
        flat = pa.array([v for vs in vals if vs is not None for v in vs], type=pa.int64())
        lengths = np.array([len(v) if v is not None else 0 for v in vals], dtype=np.int64)
        cols.append(list_array(flat, lengths, np.array([v is None for v in vals])))
    if has_clear:
        flags = [r.clear for r in rows]
        flat = pa.array([f for f in flags if f is not None], type=pa.bool_())
        lengths = np.array([1 if f is not None else 0 for f in flags], dtype=np.int64)
        cols.append(list_array(flat, lengths, np.array([f is None for f in flags])))
    return pa.RecordBatch.from_arrays(cols, schema=schema)


class Oracle:
    """Every row ever written, and the semantics spelled out by brute force."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, bool, Row]] = []

    def add(self, write: Write) -> None:
        self.rows += [(write.entity, write.is_static, r) for r in write.rows]

    def _index(self, static: bool, row: Row, tl: str) -> tuple | None:
        if static:
            return (STATIC, *row.rid)
        t = row.times.get(tl)
        return None if t is None else (t, *row.rid)

    def clear_index(self, entity: str, tl: str, t: int, static_only: bool) -> tuple | None:
        """Newest applicable Clear: static ones only (for static values), else temporal ones <= t."""
        ancestors = set(parent_paths(entity))
        best = None
        for ent, static, row in self.rows:
            if row.clear is None or static != static_only or not (ent == entity or (ent in ancestors and row.clear)):
                continue
            idx = self._index(static, row, tl)
            if idx is not None and idx[0] <= t and (best is None or idx > best):
                best = idx
        return best

    def latest_at(self, entity: str, tl: str, t: int) -> dict[str, list[int]]:
        out = {}
        for key in KEYS:
            cands = [(self._index(s, r, tl), r) for e, s, r in self.rows
                     if e == entity and r.comps.get(key) is not None]
            statics = [c for c in cands if c[0] is not None and c[0][0] == STATIC]
            pool = statics or [c for c in cands if c[0] is not None and c[0][0] <= t]
            if not pool:
                continue
            idx, row = max(pool, key=lambda c: c[0])
            cleared = self.clear_index(entity, tl, t, static_only=bool(statics))
            if cleared is not None and idx <= cleared:
                continue
            out[key] = row.comps[key]
        return out

    def range(self, entity: str, tl: str, t0: int, t1: int) -> list[tuple]:
        got = []
        for e, static, row in self.rows:
            t = row.times.get(tl)
            if e != entity or static or t is None or not (t0 <= t <= t1):
                continue
            got.append((t, row.rid, tuple(row.comps.get(k) for k in KEYS), row.clear))
        return sorted(got, key=lambda g: (g[0], g[1]))


def store_range(table: pa.Table, tl: str) -> list[tuple]:
    """The store's range answer in the oracle's shape."""
    from rerun_zmq._chunk import ROW_ID, row_ids_to_numpy

    rids = row_ids_to_numpy(table.column(ROW_ID)) if table.num_rows else np.zeros((0, 2), np.uint64)
    times = table.column(tl).to_pylist()
    cols = {k: (table.column(k).to_pylist() if k in table.column_names else [None] * table.num_rows) for k in KEYS}
    clears = table.column(CLEAR).to_pylist() if CLEAR in table.column_names else [None] * table.num_rows
    return [
        (times[i], (int(rids[i][0]), int(rids[i][1])), tuple(cols[k][i] for k in KEYS),
         None if clears[i] is None else clears[i][0])
        for i in range(table.num_rows)
    ]
