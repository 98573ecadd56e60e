"""Everything the store holds for one entity: its chunks, time indexes and newest static rows."""

from __future__ import annotations

import pyarrow as pa

from ._index import Hit, TimeIndex, latest_static
from ._stored_chunk import StoredChunk


class EntityData:
    """Chunks of one entity, indexed per (timeline, component) and, for static data, per component."""

    __slots__ = ("_keys", "chunks", "component_types", "nbytes", "num_rows", "path", "rids", "static", "temporal")

    def __init__(self, path: str) -> None:
        self.path = path
        self.chunks: dict[int, StoredChunk] = {}
        self.temporal: dict[tuple[str, str], TimeIndex] = {}
        self.static: dict[str, Hit] = {}
        self.component_types: dict[str, pa.DataType] = {}
        #: chunks by RowId range (128-bit ints), to find the ones a new chunk's RowIds could repeat
        self.rids = TimeIndex()
        self.num_rows = 0
        self.nbytes = 0
        self._keys: dict[str | None, list[str]] = {}  # component_keys() per timeline, until keys change

    def add(self, chunk: StoredChunk) -> dict[tuple[str, str], tuple[int, int]]:
        """Index ``chunk``; returns the (start, end) it covers per (timeline, key)."""
        self.chunks[chunk.seq] = chunk
        self._keys.clear()
        self.num_rows += chunk.num_rows
        self.nbytes += chunk.nbytes
        if chunk.num_rows:
            self.rids.add(chunk, chunk.rid_min, chunk.rid_max)
        spans: dict[tuple[str, str], tuple[int, int]] = {}
        keys = chunk.index_keys()
        if chunk.is_static:
            for key in keys:
                got = chunk.latest_static(key)
                old = self.static.get(key)
                if got is not None and (old is None or got[:3] > old[:3]):
                    self.static[key] = (got[0], got[1], got[2], chunk, got[3])
            return spans
        for timeline in chunk.times:
            for key in keys:
                span = chunk.time_span(timeline, key)
                if span is None:
                    continue
                idx = self.temporal.get((timeline, key))
                if idx is None:
                    idx = self.temporal[(timeline, key)] = TimeIndex()
                idx.add(chunk, span[0], span[1])
                spans[(timeline, key)] = span
        return spans

    def remove(self, chunk: StoredChunk) -> None:
        """Un-index ``chunk`` (static data is recomputed from the remaining static chunks)."""
        if self.chunks.pop(chunk.seq, None) is None:
            return
        self._keys.clear()
        self.num_rows -= chunk.num_rows
        self.nbytes -= chunk.nbytes
        if chunk.num_rows:
            self.rids.remove(chunk, chunk.rid_min)
        if chunk.is_static:
            statics = [c for c in self.chunks.values() if c.is_static]
            for key in chunk.index_keys():
                best = latest_static(statics, key)
                if best is None:
                    self.static.pop(key, None)
                else:
                    self.static[key] = best
            return
        for timeline in chunk.times:
            for key in chunk.index_keys():
                span = chunk.time_span(timeline, key)
                idx = self.temporal.get((timeline, key))
                if span is None or idx is None:
                    continue
                idx.remove(chunk, span[0])
                if not len(idx):
                    del self.temporal[(timeline, key)]

    def holding_row_ids(self, chunk: StoredChunk) -> list[StoredChunk]:
        """Stored chunks whose RowId range meets ``chunk``'s (none in the usual case: newer RowIds)."""
        top = self.rids.max_time
        if top is None or not chunk.num_rows or chunk.rid_min > top:
            return []
        return self.rids.overlapping(chunk.rid_min, chunk.rid_max)

    def timelines(self) -> set[str]:
        return {tl for tl, _ in self.temporal}

    def component_keys(self, timeline: str | None) -> list[str]:
        """Real component keys with data on ``timeline`` or static."""
        got = self._keys.get(timeline)
        if got is None:
            keys = set(self.static)
            if timeline is not None:
                keys.update(k for tl, k in self.temporal if tl == timeline)
            got = self._keys[timeline] = sorted(k for k in keys if not k.startswith("__"))
        return got

    def latest_raw(self, timeline: str | None, key: str, t: int) -> Hit | None:
        """Latest-at of one key without Clears: the static row if any, else the temporal one."""
        hit = self.static.get(key)
        if hit is not None or timeline is None:
            return hit
        idx = self.temporal.get((timeline, key))
        return None if idx is None else idx.latest_at(timeline, key, t)

    def latest_clear(self, timeline: str | None, key: str, t: int) -> tuple[tuple | None, tuple | None]:
        """(static, temporal <= t) newest Clear indexes for a virtual clear ``key``."""
        hit = self.static.get(key)
        static = hit[:3] if hit is not None else None
        temporal = None
        if timeline is not None:
            idx = self.temporal.get((timeline, key))
            got = idx.latest_at(timeline, key, t) if idx is not None else None
            temporal = got[:3] if got is not None else None
        return static, temporal
