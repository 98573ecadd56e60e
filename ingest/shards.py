"""Store shards. ``LocalShards``: every virtual shard in this process (N = 1), one ``StoreHub``."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from rerun_zmq._chunk import ChunkInfo
from store import StoreError, StoreHub, TimelineStore

from .errors import SchemaError

EventSink = Callable[[str, object], None]


class LocalShards:
    """The store in this process. ``on_event(recording_id, event)`` receives every store event."""

    def __init__(self, memory_limit: int | None, on_event: EventSink) -> None:
        self.hub = StoreHub(memory_limit=memory_limit)
        self._on_event = on_event

    def store(self, recording_id: str, application_id: str = "") -> TimelineStore:
        new = recording_id not in self.hub.recording_ids()
        st = self.hub.store(recording_id, create=True)
        if new:
            if application_id:
                self.hub.application_ids[recording_id] = application_id
            st.subscribe(lambda ev, rid=recording_id: self._on_event(rid, ev))
            self.hub.application_ids.setdefault(recording_id, application_id)
            self._on_event(recording_id, "recording_added")
        return st

    asynchronous = False

    def insert(self, recording_id: str, batch: pa.RecordBatch, info: ChunkInfo, seq: int = 0, **_) -> int:
        """Store one chunk; a refusal by the store becomes ``SchemaError`` (the store is unchanged)."""
        try:
            return self.store(recording_id).insert(batch)
        except StoreError as exc:
            raise SchemaError(str(exc), seq) from None

    def close(self) -> None:
        pass
