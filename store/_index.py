"""Per (entity, timeline, component) index: chunks ordered by start time, with the widest span kept.

Latest-at is a bounded backward walk: take the last chunk starting at or before ``t`` and walk back
while an earlier chunk could still hold a later row (its start + the widest span reaches the best
time found so far).
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Iterator

from ._stored_chunk import STATIC_TIME, StoredChunk

#: (time, rid_hi, rid_lo, chunk, row); time is STATIC_TIME for static data
Hit = tuple[int, int, int, StoredChunk, int]
_INF = float("inf")


class TimeIndex:
    """Chunks holding one component on one timeline, keyed by (start, seq)."""

    __slots__ = ("_entries", "_keys", "_max_time", "max_span", "min_time")

    def __init__(self) -> None:
        self._keys: list[tuple[int, int]] = []
        self._entries: dict[tuple[int, int], tuple[int, StoredChunk]] = {}
        self.max_span = 0
        self.min_time: int | None = None
        self._max_time: int | None = None  # None while unknown (recomputed lazily)

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, chunk: StoredChunk, start: int, end: int) -> None:
        key = (start, chunk.seq)
        insort(self._keys, key)
        self._entries[key] = (end, chunk)
        self.max_span = max(self.max_span, end - start)
        self.min_time = start if self.min_time is None else min(self.min_time, start)
        if self._max_time is not None or len(self._keys) == 1:
            self._max_time = end if self._max_time is None else max(self._max_time, end)

    @property
    def max_time(self) -> int | None:
        """Greatest time of any indexed row, or None when empty."""
        if self._max_time is None and self._entries:
            self._max_time = max(e for e, _ in self._entries.values())
        return self._max_time

    def remove(self, chunk: StoredChunk, start: int) -> None:
        key = (start, chunk.seq)
        i = bisect_right(self._keys, key) - 1
        if i < 0 or self._keys[i] != key:
            return
        del self._keys[i]
        end, _ = self._entries.pop(key)
        self.min_time = self._keys[0][0] if self._keys else None
        if self._max_time is not None and end >= self._max_time:
            self._max_time = None

    def chunks(self) -> Iterator[tuple[int, int, StoredChunk]]:
        """(start, end, chunk) in start order."""
        for key in self._keys:
            end, chunk = self._entries[key]
            yield key[0], end, chunk

    def latest_at(self, timeline: str, key: str, t: int) -> Hit | None:
        """The greatest (time, RowId) <= (t, inf) holding ``key``, over every chunk."""
        i = bisect_right(self._keys, (t, _INF))
        best: Hit | None = None
        keys, entries, span = self._keys, self._entries, self.max_span
        while i > 0:
            i -= 1
            k = keys[i]
            if best is not None and k[0] + span < best[0]:
                break
            end, chunk = entries[k]
            if best is not None and min(end, t) < best[0]:
                continue
            got = chunk.latest_at(timeline, key, t)
            if got is not None and (best is None or got[:3] > best[:3]):
                best = (got[0], got[1], got[2], chunk, got[3])
        return best

    def overlapping(self, t0: int, t1: int) -> list[StoredChunk]:
        """Chunks with rows in [t0, t1], in start order."""
        lo = bisect_right(self._keys, (t0 - self.max_span - 1, _INF))
        hi = bisect_right(self._keys, (t1, _INF))
        out = []
        for k in self._keys[lo:hi]:
            end, chunk = self._entries[k]
            if end >= t0:
                out.append(chunk)
        return out


def latest_static(chunks: list[StoredChunk], key: str) -> Hit | None:
    """Newest static row holding ``key`` among ``chunks``."""
    best: Hit | None = None
    for chunk in chunks:
        got = chunk.latest_static(key)
        if got is not None and (best is None or got[:3] > best[:3]):
            best = (STATIC_TIME, got[1], got[2], chunk, got[3])
    return best
