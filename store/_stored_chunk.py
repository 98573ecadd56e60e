"""One inserted chunk, unpacked once into the numpy arrays the queries need.

Rows keep the chunk's own order (sorted by RowId); per (timeline, component) the rows where both
the time and the component are present are sorted by ``(time, RowId)`` lazily, on first query.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa

from rerun_zmq._chunk import ChunkError, ChunkInfo, parse_chunk, row_ids_to_numpy

from .errors import MalformedChunkError

CLEAR_KEY = "Clear:is_recursive"
#: virtual components indexed like real ones: rows holding any Clear / a recursive Clear
CLEAR_ANY = "__clear_any"
CLEAR_REC = "__clear_recursive"
#: virtual component: every row of the chunk (for range queries over all components)
ANY_ROW = "__any"
#: index of static data in (time, RowId) comparisons: below every int64 time
STATIC_TIME = -(2**63) - 1

_seq = itertools.count(1)
_MIN, _MAX = np.minimum.reduce, np.maximum.reduce


def _valid_mask(arr: pa.Array) -> np.ndarray:
    if arr.null_count == 0:
        return np.ones(len(arr), dtype=bool)
    return arr.is_valid().to_numpy(zero_copy_only=False)


class StoredChunk:
    """An immutable chunk plus its numpy views; ``seq`` is a store-unique id."""

    __slots__ = (
        "_full",
        "_sorted",
        "_spans",
        "_time_full",
        "batch",
        "columns",
        "entity",
        "info",
        "is_static",
        "nbytes",
        "num_rows",
        "present",
        "repeats",
        "rid_hi",
        "rid_lo",
        "rid_max",
        "rid_min",
        "seq",
        "time_valid",
        "times",
    )

    def __init__(self, batch: pa.RecordBatch, info: ChunkInfo | None = None, split: bool = False) -> None:
        if info is None:
            try:
                info = parse_chunk(batch)
            except (ChunkError, ValueError, TypeError) as exc:  # undecodable metadata raises the latter two
                raise MalformedChunkError(str(exc) or type(exc).__name__) from exc
        if any(k.startswith("__") for k in info.components):  # the virtual keys below share the namespace
            reserved = [k for k in info.components if k.startswith("__")]
            raise MalformedChunkError(f"component keys starting with '__' are reserved: {reserved}", info.entity_path)
        rid_col = batch.column(0)
        rid = row_ids_to_numpy(rid_col)
        #: whether a RowId repeats within the chunk (rows equal to their predecessor: see ``repeated_rows``)
        self.repeats = False
        if len(rid) > 1 and not (rid[1:, 0] > rid[:-1, 0]).all():  # strictly rising ns: sorted, no repeats
            hi, lo = rid[:, 0], rid[:, 1]
            if not ((hi[1:] > hi[:-1]) | ((hi[1:] == hi[:-1]) & (lo[1:] >= lo[:-1]))).all():
                # the layout says rows are in RowId order; restore it rather than refuse the data
                order = np.lexsort((lo, hi))
                batch, rid = batch.take(pa.array(order)), rid[order]
                rid_col = batch.column(0)
            self.repeats = bool(_repeated(rid[:, 0], rid[:, 1]).any())
        self.batch = batch
        self.info = info
        self.entity = info.entity_path
        self.is_static = info.is_static
        self.seq = next(_seq)
        self.num_rows = batch.num_rows
        self.rid_hi = rid[:, 0]
        self.rid_lo = rid[:, 1]
        n = self.num_rows
        #: first and last RowId as 128-bit ints (rows are in RowId order), for the store's duplicate check
        self.rid_min = (int(rid[0, 0]) << 64) | int(rid[0, 1]) if n else 0
        self.rid_max = (int(rid[-1, 0]) << 64) | int(rid[-1, 1]) if n else 0
        ones = np.ones(n, dtype=bool)
        self.times: dict[str, np.ndarray] = {}
        self.time_valid: dict[str, np.ndarray] = {}
        self._time_full: set[str] = set()
        for name in info.timelines:
            col = batch.column(name)
            if col.null_count:
                self.time_valid[name] = _valid_mask(col)
                self.times[name] = col.fill_null(0).to_numpy()
            else:
                self.time_valid[name] = ones
                self.times[name] = col.to_numpy()
                self._time_full.add(name)
        self.columns: dict[str, pa.Array] = {k: batch.column(k) for k in info.components}
        self.present: dict[str, np.ndarray] = {ANY_ROW: ones}
        self._full: set[str] = {ANY_ROW}
        for k, c in self.columns.items():
            if c.null_count:
                self.present[k] = _valid_mask(c)
            else:
                self.present[k] = ones
                self._full.add(k)
        if CLEAR_KEY in self.columns:
            any_, rec = _clear_masks(self.columns[CLEAR_KEY], self.entity)
            self.present[CLEAR_ANY] = any_
            self.present[CLEAR_REC] = rec
        # whole IPC/builder buffers are cheap to measure; slices need the exact (slower) count
        sliced = rid_col.offset != 0 or split
        self.nbytes = int(batch.nbytes if sliced else batch.get_total_buffer_size()) + 16 * n
        self._sorted: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self._spans: dict[str, tuple[int, int]] = {}

    # -- index support ---------------------------------------------------------------------------
    def index_keys(self) -> list[str]:
        """Real and virtual component keys that have at least one present row."""
        return [k for k, m in self.present.items() if k in self._full or m.any()]

    def time_span(self, timeline: str, key: str) -> tuple[int, int] | None:
        """(min, max) time of rows holding ``key`` on ``timeline``, or None."""
        got = self._sorted.get((timeline, key))
        if got is not None:
            times = got[0]
            return (int(times[0]), int(times[-1])) if len(times) else None
        if key in self._full and timeline in self._time_full:
            span = self._spans.get(timeline)
            if span is None and self.num_rows:
                times = self.times[timeline]
                span = self._spans[timeline] = (int(_MIN(times)), int(_MAX(times)))
            return span
        mask = self.present[key] & self.time_valid[timeline]
        if not mask.any():
            return None
        times = self.times[timeline][mask]
        return int(times.min()), int(times.max())

    def sorted_rows(self, timeline: str, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(times, row indices) of rows with ``key`` on ``timeline``, in (time, RowId) order."""
        full = key in self._full and timeline in self._time_full
        if full:
            key = ANY_ROW  # every row: one sorted order shared by all fully present keys
        got = self._sorted.get((timeline, key))
        if got is None:
            if full:
                rows, t = np.arange(self.num_rows), self.times[timeline]
            else:
                mask = self.present[key] & self.time_valid[timeline]
                rows = np.flatnonzero(mask)
                t = self.times[timeline][rows]
            # rows are in RowId order, so non-decreasing times are already (time, RowId) order
            if len(rows) > 1 and not (t[1:] >= t[:-1]).all():
                order = np.lexsort((self.rid_lo[rows], self.rid_hi[rows], t))
                rows, t = rows[order], t[order]
            got = (t, rows)
            self._sorted[(timeline, key)] = got
        return got

    def latest_at(self, timeline: str, key: str, t: int) -> tuple[int, int, int, int] | None:
        """(time, rid_hi, rid_lo, row) of the greatest (time, RowId) <= (t, inf) holding ``key``."""
        times, rows = self.sorted_rows(timeline, key)
        j = int(np.searchsorted(times, t, side="right")) - 1
        if j < 0:
            return None
        row = int(rows[j])
        return int(times[j]), int(self.rid_hi[row]), int(self.rid_lo[row]), row

    def latest_static(self, key: str) -> tuple[int, int, int, int] | None:
        """(STATIC_TIME, rid_hi, rid_lo, row) of the newest row holding ``key``."""
        rows = np.flatnonzero(self.present.get(key, ()))
        if len(rows) == 0:
            return None
        best = rows[np.lexsort((self.rid_lo[rows], self.rid_hi[rows]))[-1]]
        return STATIC_TIME, int(self.rid_hi[best]), int(self.rid_lo[best]), int(best)

    def cell(self, key: str, row: int) -> pa.Array:
        """The instances logged for ``key`` in ``row`` (a zero-copy slice)."""
        return self.columns[key][row].values

    def min_row_id(self) -> tuple[int, int]:
        return (int(self.rid_hi[0]), int(self.rid_lo[0])) if self.num_rows else (0, 0)


def _repeated(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Per row of RowId-sorted (hi, lo): whether it equals the row before it."""
    out = np.zeros(len(hi), dtype=bool)
    out[1:] = (hi[1:] == hi[:-1]) & (lo[1:] == lo[:-1])
    return out


def duplicate_rows(chunk: StoredChunk, stored: list[StoredChunk]) -> np.ndarray:
    """Per row of ``chunk``: whether its RowId is already held, by ``stored`` or by an earlier row of its own.

    Rows of every chunk are in RowId order and stored chunks hold each RowId once, so after a stable
    sort of (stored rows, then the chunk's rows) by RowId, a row equal to the one before it is a repeat.
    """
    n = chunk.num_rows
    if not stored:
        return _repeated(chunk.rid_hi, chunk.rid_lo)
    lo_b, hi_b = chunk.rid_min, chunk.rid_max
    his, los = [], []
    for c in stored:  # only the stored rows within the chunk's RowId range can match
        i = _rid_search(c, lo_b, "left")
        j = _rid_search(c, hi_b, "right")
        his.append(c.rid_hi[i:j])
        los.append(c.rid_lo[i:j])
    m = sum(len(h) for h in his)
    hi = np.concatenate([*his, chunk.rid_hi])
    lo = np.concatenate([*los, chunk.rid_lo])
    order = np.lexsort((np.arange(m + n), lo, hi))
    rep = _repeated(hi[order], lo[order])
    out = np.zeros(n, dtype=bool)
    mine = order >= m
    out[order[mine & rep] - m] = True
    return out


def _rid_search(chunk: StoredChunk, rid: int, side: str) -> int:
    """Index of the 128-bit ``rid`` in ``chunk``'s sorted RowIds (``np.searchsorted`` semantics)."""
    hi, lo = np.uint64(rid >> 64), np.uint64(rid & 0xFFFF_FFFF_FFFF_FFFF)
    a = int(np.searchsorted(chunk.rid_hi, hi, side="left"))
    b = int(np.searchsorted(chunk.rid_hi, hi, side="right"))
    return a + int(np.searchsorted(chunk.rid_lo[a:b], lo, side=side))


def _clear_masks(col: pa.Array, entity: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows holding a Clear, and rows holding a recursive one (first instance true)."""
    if not pa.types.is_boolean(col.type.value_type):
        raise MalformedChunkError(f"{CLEAR_KEY} must be list<bool>, got {col.type}", entity)
    any_ = _valid_mask(col)
    offsets = col.offsets.to_numpy()
    lengths = np.diff(offsets)
    values = col.values.fill_null(False).to_numpy(zero_copy_only=False)
    first = np.zeros(len(col), dtype=bool)
    has = any_ & (lengths > 0)
    first[has] = values[offsets[:-1][has]]
    return any_, first
