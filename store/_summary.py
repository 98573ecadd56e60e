"""What the viewer's entity tree and timeline panel read: entities, row counts, ranges, density."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from rerun_zmq._entity_path import canonical_path

from ._gc import GcReport, merge_reports
from ._stored_chunk import ANY_ROW
from .errors import UnknownEntityError, UnknownTimelineError

if TYPE_CHECKING:
    from ._entity import EntityData


class SummaryMixin:
    """Summary queries of ``TimelineStore`` (cheap: counters and per-chunk sorted times)."""

    _entities: dict[str, EntityData]
    _timelines: dict[str, str]
    _ranges: dict[str, tuple[int, int]]
    _tree: set[str]
    _bytes: int
    dropped: list[GcReport]

    def entity_paths(self) -> list[str]:
        return sorted(self._entities)

    def timelines(self) -> dict[str, str]:
        return dict(self._timelines)

    def time_range(self, timeline: str) -> tuple[int, int] | None:
        """(min, max) ever stored on ``timeline`` (dropped data included), or None if no rows."""
        if timeline not in self._timelines:
            raise UnknownTimelineError(timeline, list(self._timelines))
        return self._ranges.get(timeline)

    def components(self, entity_path: str) -> dict[str, pa.DataType]:
        """Component key -> element type for one entity."""
        path = canonical_path(entity_path)
        ent = self._entities.get(path)
        if ent is None and path not in self._tree:
            raise UnknownEntityError(path)
        return {k: t.value_type for k, t in sorted(ent.component_types.items())} if ent else {}

    def last_time(self, entity_path: str, timeline: str) -> int | None:
        """Greatest time of any row of ``entity_path`` itself on ``timeline`` (None: no such rows).

        Latest-at answers of an entity cannot differ between two times both at or after the last
        time of the entity and of each of its ancestors (their Clears and transforms); the viewer
        uses this to reuse what it built for an entity while the cursor moves.
        """
        ent = self._entities.get(canonical_path(entity_path))
        idx = ent.temporal.get((timeline, ANY_ROW)) if ent else None
        return idx.max_time if idx else None

    def row_counts(self) -> dict[str, int]:
        """Entity -> rows currently held (the entity tree's counts)."""
        return {p: e.num_rows for p, e in sorted(self._entities.items())}

    def density(
        self, entity_path: str, timeline: str, bins: int = 100, t0: int | None = None, t1: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row-count histogram of ``entity_path`` on ``timeline``: (counts, bin edges)."""
        rng = self.time_range(timeline) or (0, 0)
        lo, hi = rng[0] if t0 is None else int(t0), rng[1] if t1 is None else int(t1)
        ent = self._entities.get(canonical_path(entity_path))
        idx = ent.temporal.get((timeline, ANY_ROW)) if ent else None
        edges = np.linspace(lo, max(hi, lo + 1), bins + 1)
        counts = np.zeros(bins, dtype=np.int64)
        for chunk in idx.overlapping(lo, hi) if idx else []:
            times = chunk.sorted_rows(timeline, ANY_ROW)[0]  # sorted: O(bins log n) per chunk
            at = np.searchsorted(times, edges, side="left")
            at[-1] = np.searchsorted(times, edges[-1], side="right")  # the last bin includes its edge
            counts += np.diff(at)
        return counts, edges

    @property
    def total_bytes(self) -> int:
        return self._bytes

    def num_chunks(self) -> int:
        return sum(len(e.chunks) for e in self._entities.values())

    def chunks(self) -> Iterator[pa.RecordBatch]:
        """Every held chunk (for saving), static first, then in insertion order."""
        all_ = [c for e in self._entities.values() for c in e.chunks.values()]
        for c in sorted(all_, key=lambda c: (not c.is_static, c.seq)):
            yield c.batch

    def dropped_summary(self) -> GcReport:
        """Everything the memory limit dropped so far, merged (per entity counts and time ranges)."""
        return merge_reports(self.dropped)

