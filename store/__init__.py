"""The timeline store: chunks of a recording indexed for latest-at and range queries (no I/O).

``TimelineStore`` holds one recording (``StoreHub`` maps recording ids to stores). Times are int64
in the timeline's unit (ns for duration/timestamp). It is not thread-safe: one owner thread.

- ``insert(batch)``: validate and store one chunk, or raise ``MalformedChunkError`` (store unchanged).
- ``latest_at(entity, timeline, t, components=None) -> {key: Cell}``: per component the greatest
  (time, RowId) <= (t, inf); static wins; Clears hide temporal data at or before them;
  ``timeline=None`` answers static data only. ``Cell.values`` is a zero-copy Arrow slice.
- ``range(entity, timeline, t0, t1, components=None) -> pa.Table``: temporal rows in [t0, t1] in
  (time, RowId) order; columns ``rz.row_id``, the timeline, then one ``list<T>`` per component.
- ``world_transform(entity, timeline, t) -> (4, 4)``: Transform3D (and Pinhole) from the root down.
- Summary for the viewer: ``entity_paths()``, ``row_counts()``, ``timelines()``,
  ``time_range(timeline)``, ``density(entity, timeline, bins, t0, t1)``, ``components(entity)``.
- ``subscribe(callback)``: ``EntityAdded``, ``TimelineExtended``, ``RowsAdded``, ``DataDropped``.
- ``memory_limit``: GC after inserts drops chunks furthest from ``time_cursor`` (else oldest) first,
  never static data or the latest value of any component; ``gc()`` / ``dropped`` /
  ``dropped_summary()`` report it. A ``StoreHub``'s limit is one ``MemoryBudget`` for all its
  recordings (the least recently written is collected first).
- ``compact()`` merges small chunks now (inserts do it every 64 small chunks); ``chunks()`` exports.
"""

from __future__ import annotations

from ._budget import MemoryBudget as MemoryBudget
from ._events import DataDropped as DataDropped
from ._events import EntityAdded as EntityAdded
from ._events import RowsAdded as RowsAdded
from ._events import StoreEvent as StoreEvent
from ._events import TimelineExtended as TimelineExtended
from ._gc import GcReport as GcReport
from ._hub import StoreHub as StoreHub
from ._query import Cell as Cell
from ._store import TimelineStore as TimelineStore
from .errors import ComponentTypeMismatchError as ComponentTypeMismatchError
from .errors import MalformedChunkError as MalformedChunkError
from .errors import StoreError as StoreError
from .errors import SubscriberError as SubscriberError
from .errors import TimelineKindMismatchError as TimelineKindMismatchError
from .errors import UnknownEntityError as UnknownEntityError
from .errors import UnknownRecordingError as UnknownRecordingError
from .errors import UnknownTimelineError as UnknownTimelineError

__all__ = [
    "Cell",
    "ComponentTypeMismatchError",
    "DataDropped",
    "EntityAdded",
    "GcReport",
    "MalformedChunkError",
    "MemoryBudget",
    "RowsAdded",
    "StoreError",
    "StoreEvent",
    "StoreHub",
    "SubscriberError",
    "TimelineExtended",
    "TimelineKindMismatchError",
    "TimelineStore",
    "UnknownEntityError",
    "UnknownRecordingError",
    "UnknownTimelineError",
]
