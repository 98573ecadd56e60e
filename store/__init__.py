"""The timeline store: chunks of a recording indexed for latest-at and range queries (no I/O).

Public surface: ``TimelineStore`` (one recording), ``StoreHub`` (several, by recording id), the
query result ``Cell``, the GC report, store events and the typed errors of ``store.errors``.
"""

from __future__ import annotations

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
