"""A memory limit shared by several stores (a ``StoreHub``'s recordings).

When the stores together pass the limit, the least recently written store is collected first, so
an old recording gives way to the live one; each store's own GC rules (static data and latest
values kept) still hold, so the total may stay above the limit when only protected data is left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._events import StoreEvent
    from ._store import TimelineStore

#: collect down to this fraction of the limit, so a store at its limit does not collect on every insert
GC_TARGET = 0.9


class MemoryBudget:
    """Byte limit over ``stores``, kept in least-recently-written-first order."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError(f"memory limit must be a byte count >= 0, got {limit}")
        self.limit = limit
        self.stores: list[TimelineStore] = []

    def total(self) -> int:
        return sum(s.total_bytes for s in self.stores)

    def touch(self, store: TimelineStore) -> None:
        """``store`` was just written to: it becomes the last one collected."""
        if self.stores and self.stores[-1] is store:
            return
        if store in self.stores:
            self.stores.remove(store)
        self.stores.append(store)

    def enforce(self, current: TimelineStore, events: list[StoreEvent]) -> None:
        """Collect until the total is under the target; ``current``'s events go to ``events``."""
        total = self.total()
        if total <= self.limit:
            return
        target = int(self.limit * GC_TARGET)
        for store in list(self.stores):
            if total <= target:
                break
            before = store.total_bytes
            store.gc(total - target, events=events if store is current else None)
            total -= before - store.total_bytes
