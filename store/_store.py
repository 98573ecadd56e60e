"""``TimelineStore``: the chunks of one recording, indexed for latest-at and range queries.

Insertion validates the whole chunk first (layout, timeline kinds, component types) and only then
mutates, so a refused chunk leaves the store unchanged. Times are int64 in the timeline's unit.
A row whose RowId the store already holds (a resend, a file loaded twice) is not stored again.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa

from rerun_zmq._chunk import ChunkInfo
from rerun_zmq._entity_path import canonical_path, parent_paths

from . import _compaction as compaction
from ._budget import MemoryBudget
from ._cache import MISSING, QueryCache
from ._entity import EntityData
from ._events import DataDropped, EntityAdded, EventBus, RowsAdded, StoreEvent, Subscriber, TimelineExtended
from ._gc import GcReport, plan_drop
from ._index import Hit
from ._query import Cell, latest_at, range_query
from ._stored_chunk import ANY_ROW, CLEAR_KEY, StoredChunk, duplicate_rows
from ._summary import SummaryMixin
from ._transforms import TRANSFORM_SET, world_transform
from .errors import (
    ComponentTypeMismatchError,
    MalformedChunkError,
    TimelineKindMismatchError,
    UnknownEntityError,
    UnknownTimelineError,
)

_COMPACT_EVERY = 64


def _ancestors(path: str) -> list[str]:
    """``parent_paths`` of a canonical path; plain paths (no escapes) without parsing."""
    if "\\" in path:
        return parent_paths(path)
    cuts = [i for i, ch in enumerate(path) if ch == "/"]
    return ["/", *(path[:i] for i in cuts[1:])] if path != "/" else []


class TimelineStore(SummaryMixin):
    """Chunks of one recording. ``memory_limit`` (bytes) triggers GC after inserts; None = unbounded.

    ``budget``: a limit shared with other stores instead (``StoreHub`` does this).
    """

    def __init__(
        self,
        memory_limit: int | None = None,
        *,
        compact: bool = True,
        cache: bool = True,
        budget: MemoryBudget | None = None,
    ) -> None:
        if memory_limit is not None and budget is not None:
            raise ValueError("give a store its own memory_limit or a shared budget, not both")
        self.memory_limit = memory_limit
        #: the limit this store obeys: its own, or one shared with other stores (``StoreHub``)
        if budget is None and memory_limit is not None:
            budget = MemoryBudget(memory_limit)
        self.budget = budget
        if self.budget is not None:
            self.budget.touch(self)
        self.compact_on_insert = compact
        self.cache: QueryCache | None = QueryCache() if cache else None
        self.time_cursor: tuple[str, int] | None = None
        self.dropped: list[GcReport] = []
        #: rows not stored because the store already held their RowId (resends, files loaded twice)
        self.duplicate_rows = 0
        self._entities: dict[str, EntityData] = {}
        self._tree: set[str] = set()  # implicit parents of the entities (queries answer them empty)
        self._timelines: dict[str, str] = {}
        self._ranges: dict[str, tuple[int, int]] = {}
        self._pending_small: dict[str, list[StoredChunk]] = {}
        self._has_clears = False
        # world transforms are memoized until a chunk with Transform3D/Pinhole/Clear data comes or goes
        self._transform_gen = 0
        self._transform_cache_gen = 0
        self._transform_cache: dict[tuple, tuple] = {}
        self._bytes = 0
        self._events = EventBus()

    # -- insertion -------------------------------------------------------------------------------
    def insert(self, batch: pa.RecordBatch, info: ChunkInfo | None = None) -> int:
        """Validate and store one chunk (refused whole on error); returns the rows stored.

        Rows whose RowId the store already holds are left out and counted in ``duplicate_rows``.

        ``info``: the chunk's ``parse_chunk`` result when the caller already validated it.
        """
        if not isinstance(batch, pa.RecordBatch):
            raise TypeError(f"insert() takes a chunk (pyarrow.RecordBatch), got {type(batch).__name__}")
        chunk = StoredChunk(batch, info)
        self._validate(chunk)
        chunk = self._without_held_rows(chunk)
        if chunk is None:
            return 0
        pieces = compaction.split_batch(chunk.batch, chunk.nbytes)
        chunks = [chunk] if len(pieces) == 1 else [StoredChunk(p, chunk.info, split=True) for p in pieces]
        events: list[StoreEvent] = []
        for c in chunks:
            self._add(c, events)
        if self.compact_on_insert:
            small = self._pending_small.setdefault(chunk.entity, [])
            small.extend(c for c in chunks if compaction.is_small(c))
            if len(small) >= _COMPACT_EVERY:
                self._compact_entity(chunk.entity)
        if self.budget is not None:
            self.budget.touch(self)
            self.budget.enforce(self, events)
        self._events.emit(events)
        return chunk.num_rows

    def insert_many(self, batches: Iterable[pa.RecordBatch]) -> int:
        return sum(self.insert(b) for b in batches)

    def _without_held_rows(self, chunk: StoredChunk) -> StoredChunk | None:
        """``chunk`` less the rows whose RowId the store already holds (a resend, a file loaded twice).

        None when every row is held. Cheap in the usual case: RowIds newer than any of the entity's.
        """
        ent = self._entities.get(chunk.entity)
        held = ent.holding_row_ids(chunk) if ent is not None else []
        if not held and not chunk.repeats:
            return chunk
        for old in held:  # the same chunk again: one comparison instead of a sort
            if old.num_rows == chunk.num_rows and old.rid_min == chunk.rid_min and old.rid_max == chunk.rid_max \
                    and np.array_equal(old.rid_lo, chunk.rid_lo) and np.array_equal(old.rid_hi, chunk.rid_hi):
                self.duplicate_rows += chunk.num_rows
                return None
        dup = duplicate_rows(chunk, held)
        n = int(dup.sum())
        if n == 0:
            return chunk
        self.duplicate_rows += n
        if n == chunk.num_rows:
            return None
        return StoredChunk(chunk.batch.filter(pa.array(~dup)), chunk.info)

    def _validate(self, chunk: StoredChunk) -> None:
        if not chunk.is_static and not chunk.info.timelines and chunk.num_rows:
            raise MalformedChunkError("a temporal chunk needs at least one timeline column", chunk.entity)
        for name, kind in chunk.info.timelines.items():
            old = self._timelines.get(name)
            if old is not None and old != kind:
                raise TimelineKindMismatchError(f"timeline {name!r} is {old}, chunk says {kind}", chunk.entity)
        ent = self._entities.get(chunk.entity)
        for key, col in chunk.columns.items():
            old = ent.component_types.get(key) if ent else None
            if old is not None and old != col.type and old.value_type != col.type.value_type:
                raise ComponentTypeMismatchError(
                    f"component {key!r} is stored as {old}, chunk has {col.type}", chunk.entity
                )

    def _add(self, chunk: StoredChunk, events: list[StoreEvent]) -> None:
        tell = self._events.active  # events are built only for someone to hear them
        ent = self._entities.get(chunk.entity)
        if ent is None:
            ent = self._entities[chunk.entity] = EntityData(chunk.entity)
            if tell:
                events.append(EntityAdded(chunk.entity))
            self._tree.update(_ancestors(chunk.entity))
        types = ent.component_types
        for key, col in chunk.columns.items():
            if key not in types:
                types[key] = col.type
        if CLEAR_KEY in chunk.columns:
            self._has_clears = True
        self._bump_transforms(chunk)
        spans = ent.add(chunk)
        self._bytes += chunk.nbytes
        ranges: dict[str, tuple[int, int]] = {}
        cache = self.cache
        for (tl, key), (t0, t1) in spans.items():
            if cache is not None:
                cache.invalidate(chunk.entity, tl, key, t0)
            if key == ANY_ROW:
                ranges[tl] = (t0, t1)
        for tl, kind in chunk.info.timelines.items():
            if tl not in self._timelines:
                self._timelines[tl] = kind
            got = ranges.get(tl)
            if got is None:
                continue
            old = self._ranges.get(tl)
            new = got if old is None else (min(old[0], got[0]), max(old[1], got[1]))
            if new != old:
                self._ranges[tl] = new
                if tell:
                    events.append(TimelineExtended(tl, kind, new[0], new[1]))
        if tell:
            events.append(RowsAdded(chunk.entity, chunk.num_rows, chunk.is_static, chunk.info.components, ranges))

    def _bump_transforms(self, chunk: StoredChunk) -> None:
        if CLEAR_KEY in chunk.columns or not TRANSFORM_SET.isdisjoint(chunk.columns):
            self._transform_gen += 1

    def _remove(self, chunk: StoredChunk) -> None:
        ent = self._entities[chunk.entity]
        ent.remove(chunk)
        self._bump_transforms(chunk)
        self._bytes -= chunk.nbytes
        if self.cache is not None:
            self.cache.invalidate_entity(chunk.entity)

    # -- compaction and GC -----------------------------------------------------------------------
    def compact(self) -> int:
        """Merge every pending small chunk with its neighbours now; returns chunks merged away."""
        return sum(self._compact_entity(e) for e in list(self._pending_small))

    def _compact_entity(self, entity: str) -> int:
        pending = [c for c in self._pending_small.pop(entity, []) if c.seq in self._entities[entity].chunks]
        merged_away = 0
        still_small: list[StoredChunk] = []
        for run in compaction.plan_merges(pending):
            merged = StoredChunk(compaction.merge_batches([c.batch for c in run]))
            for c in run:
                self._remove(c)
            self._add(merged, [])
            merged_away += len(run) - 1
            if merged.num_rows < compaction.SMALL_ROWS // 4 and compaction.is_small(merged):
                still_small.append(merged)
        if still_small:
            self._pending_small[entity] = still_small
        return merged_away

    def gc(
        self, bytes_to_free: int | None = None, *, cursor: tuple[str, int] | None = None, events=None
    ) -> GcReport:
        """Drop chunks to free ``bytes_to_free`` (default: down to ``memory_limit``); see ``_gc``."""
        if bytes_to_free is None:
            bytes_to_free = 0 if self.budget is None else max(0, self.budget.total() - self.budget.limit)
        report = GcReport()
        for chunk in plan_drop(self, bytes_to_free, cursor or self.time_cursor):
            self._remove(chunk)
            report.add(chunk)
        if report.num_chunks:
            self.dropped.append(report)
            out = events if events is not None else []
            for entity, (rows, n, nbytes) in report.per_entity.items():
                out.append(DataDropped(entity, rows, n, nbytes, report.time_ranges.get(entity, {})))
            if events is None:
                self._events.emit(out)
        return report

    # -- queries ---------------------------------------------------------------------------------
    def _entity_key(self, entity_path: str, timeline: str | None) -> str:
        path = canonical_path(entity_path)
        if timeline is not None and timeline not in self._timelines:
            raise UnknownTimelineError(timeline, list(self._timelines))
        return path

    def _latest_raw(self, ent: EntityData, timeline: str | None, key: str, t: int) -> Hit | None:
        hit = ent.static.get(key)
        if hit is not None or timeline is None:
            return hit
        idx = ent.temporal.get((timeline, key))
        if idx is None:
            return None
        if self.cache is None:
            return idx.latest_at(timeline, key, t)
        got = self.cache.get(ent.path, timeline, key, t)
        if got is MISSING:
            got = idx.latest_at(timeline, key, t)
            self.cache.put(ent.path, timeline, key, t, got)
        return got  # type: ignore[return-value]

    def latest_at(
        self, entity_path: str, timeline: str | None, t: int, components: list[str] | None = None
    ) -> dict[str, Cell]:
        """Per component, the visible value at ``t`` (``timeline=None``: static data only)."""
        path = self._entity_key(entity_path, timeline)
        if path not in self._entities and path not in self._tree:
            raise UnknownEntityError(path)
        return latest_at(self, path, timeline, int(t), components)

    def range(
        self, entity_path: str, timeline: str, t0: int, t1: int, components: list[str] | None = None
    ) -> pa.Table:
        """Temporal rows with time in [t0, t1], in (time, RowId) order: row id, time, components."""
        path = self._entity_key(entity_path, timeline)
        if path not in self._entities and path not in self._tree:
            raise UnknownEntityError(path)
        return range_query(self, path, timeline, int(t0), int(t1), components)

    def world_transform(self, entity_path: str, timeline: str | None, t: int) -> np.ndarray:
        """4x4 world_from_entity at ``t``, composing Transform3D (and Pinhole) from the root down."""
        return world_transform(self, self._entity_key(entity_path, timeline), timeline, int(t))

    # -- events ----------------------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> int:
        """Call ``callback(event)`` for every store event from now on; returns an unsubscribe token."""
        return self._events.subscribe(callback)

    def unsubscribe(self, token: int) -> None:
        self._events.unsubscribe(token)
