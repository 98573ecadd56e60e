"""Memory limit: choose whole chunks to drop, furthest from the time cursor (else oldest RowId) first.

Never dropped: static chunks, and every chunk holding the latest (time, RowId) of some component
(or Clear) of an entity on some timeline -- so a latest-at at the end of any timeline is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._stored_chunk import ANY_ROW, StoredChunk

if TYPE_CHECKING:
    from ._store import TimelineStore

_BIG = 2**64


@dataclass
class GcReport:
    """What one collection dropped; ``time_ranges`` is entity -> timeline -> (min, max) dropped."""

    num_chunks: int = 0
    num_rows: int = 0
    num_bytes: int = 0
    time_ranges: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    #: entity -> [rows, chunks, bytes] dropped
    per_entity: dict[str, list[int]] = field(default_factory=dict)

    def add(self, chunk: StoredChunk) -> None:
        self.num_chunks += 1
        self.num_rows += chunk.num_rows
        self.num_bytes += chunk.nbytes
        tally = self.per_entity.setdefault(chunk.entity, [0, 0, 0])
        tally[0] += chunk.num_rows
        tally[1] += 1
        tally[2] += chunk.nbytes
        ranges = self.time_ranges.setdefault(chunk.entity, {})
        for tl in chunk.times:
            span = chunk.time_span(tl, ANY_ROW)
            if span is None:
                continue
            old = ranges.get(tl)
            ranges[tl] = span if old is None else (min(old[0], span[0]), max(old[1], span[1]))


def merge_reports(reports: list[GcReport]) -> GcReport:
    """One report covering several collections (what the viewer shows as "dropped")."""
    out = GcReport()
    for r in reports:
        out.num_chunks += r.num_chunks
        out.num_rows += r.num_rows
        out.num_bytes += r.num_bytes
        for entity, tally in r.per_entity.items():
            mine = out.per_entity.setdefault(entity, [0, 0, 0])
            for i in range(3):
                mine[i] += tally[i]
        for entity, ranges in r.time_ranges.items():
            mine_r = out.time_ranges.setdefault(entity, {})
            for tl, (a, b) in ranges.items():
                old = mine_r.get(tl)
                mine_r[tl] = (a, b) if old is None else (min(old[0], a), max(old[1], b))
    return out


def protected_chunks(store: TimelineStore) -> set[int]:
    """Seqs of chunks that must survive: static ones and holders of each latest value."""
    keep: set[int] = set()
    for ent in store._entities.values():
        keep.update(seq for seq, c in ent.chunks.items() if c.is_static)
        for (tl, key), idx in ent.temporal.items():
            if key == ANY_ROW or idx.max_time is None:
                continue
            hit = idx.latest_at(tl, key, idx.max_time)
            if hit is not None:
                keep.add(hit[3].seq)
    return keep


def plan_drop(store: TimelineStore, bytes_to_free: int, cursor: tuple[str, int] | None) -> list[StoredChunk]:
    """Chunks to drop, in drop order, until ``bytes_to_free`` is reached (or nothing droppable is left)."""
    keep = protected_chunks(store)
    candidates = [c for ent in store._entities.values() for s, c in ent.chunks.items() if s not in keep]

    def distance(chunk: StoredChunk) -> int:
        if cursor is None:
            return 0
        tl, t = cursor
        span = chunk.time_span(tl, ANY_ROW) if tl in chunk.times else None
        if span is None:
            return _BIG
        return 0 if span[0] <= t <= span[1] else min(abs(span[0] - t), abs(span[1] - t))

    candidates.sort(key=lambda c: (-distance(c), c.min_row_id()))
    out: list[StoredChunk] = []
    freed = 0
    for chunk in candidates:
        if freed >= bytes_to_free:
            break
        out.append(chunk)
        freed += chunk.nbytes
    return out
