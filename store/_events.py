"""Store events a subscriber can follow (the ingest forwards them, the viewer draws from them).

Events are delivered synchronously, in order, after the store's state is committed. A subscriber
that raises does not stop the others; the first error is re-raised as ``SubscriberError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import SubscriberError


@dataclass(frozen=True)
class EntityAdded:
    """The first data for ``entity_path`` arrived."""

    entity_path: str


@dataclass(frozen=True)
class TimelineExtended:
    """A timeline appeared or its (min, max) grew; times are int64 in the timeline's unit."""

    timeline: str
    kind: str
    min: int
    max: int


@dataclass(frozen=True)
class RowsAdded:
    """One chunk's rows were stored; ``time_ranges`` maps timeline -> (min, max) of those rows."""

    entity_path: str
    num_rows: int
    is_static: bool
    components: tuple[str, ...]
    time_ranges: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class DataDropped:
    """The memory limit dropped chunks of ``entity_path``; ``time_ranges`` is what they covered."""

    entity_path: str
    num_rows: int
    num_chunks: int
    num_bytes: int
    time_ranges: dict[str, tuple[int, int]] = field(default_factory=dict)


StoreEvent = EntityAdded | TimelineExtended | RowsAdded | DataDropped
Subscriber = Callable[[StoreEvent], None]


class EventBus:
    """Ordered, synchronous fan-out of store events."""

    def __init__(self) -> None:
        self._subs: dict[int, Subscriber] = {}
        self._next = 0

    def subscribe(self, callback: Subscriber) -> int:
        """Register ``callback(event)``; returns a token for ``unsubscribe``."""
        if not callable(callback):
            raise TypeError(f"subscriber must be callable, got {type(callback).__name__}")
        self._next += 1
        self._subs[self._next] = callback
        return self._next

    def unsubscribe(self, token: int) -> None:
        self._subs.pop(token, None)

    @property
    def active(self) -> bool:
        """Whether anyone is subscribed (events need not be built otherwise)."""
        return bool(self._subs)

    def emit(self, events: list[StoreEvent]) -> None:
        if not self._subs or not events:
            return
        first: BaseException | None = None
        for event in events:
            for cb in list(self._subs.values()):
                try:
                    cb(event)
                except Exception as exc:  # noqa: BLE001 -- re-raised below, typed, after every subscriber ran
                    first = first or exc
        if first is not None:
            raise SubscriberError(f"a store event subscriber raised: {first!r}") from first
