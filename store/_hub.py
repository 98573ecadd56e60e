"""``StoreHub``: several recordings, each a ``TimelineStore``, keyed by recording id."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from ._budget import MemoryBudget
from ._store import TimelineStore
from .errors import UnknownRecordingError


class StoreHub:
    """Recording id -> ``TimelineStore``; new recordings are created on first insert.

    ``memory_limit`` is one budget for all recordings together; the least recently written
    recording is collected first.
    """

    def __init__(self, memory_limit: int | None = None) -> None:
        self.memory_limit = memory_limit
        self.budget = MemoryBudget(memory_limit) if memory_limit is not None else None
        self._stores: dict[str, TimelineStore] = {}
        self.application_ids: dict[str, str] = {}

    def store(self, recording_id: str, *, create: bool = False) -> TimelineStore:
        st = self._stores.get(recording_id)
        if st is None:
            if not create:
                raise UnknownRecordingError(recording_id)
            st = self._stores[recording_id] = TimelineStore(budget=self.budget)
        return st

    def insert(self, recording_id: str, batch: pa.RecordBatch) -> int:
        return self.store(recording_id, create=True).insert(batch)

    def __contains__(self, recording_id: object) -> bool:
        return recording_id in self._stores

    def recording_ids(self) -> list[str]:
        return list(self._stores)

    def __iter__(self) -> Iterator[str]:
        return iter(self._stores)

    def __len__(self) -> int:
        return len(self._stores)
