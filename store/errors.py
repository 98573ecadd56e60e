"""Typed errors of the store: one hierarchy, raised, never swallowed.

The ingest turns these into a logged, counted rejection at its process boundary; the store itself
never warns-and-continues. A chunk that raises on insert left the store unchanged.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class MalformedChunkError(StoreError, ValueError):
    """A chunk breaks the chunk layout (or the store's extra rules); it was refused whole."""

    def __init__(self, reason: str, entity_path: str | None = None) -> None:
        self.reason = reason
        self.entity_path = entity_path
        where = f" (entity {entity_path})" if entity_path else ""
        super().__init__(f"malformed chunk refused{where}: {reason}")


class ComponentTypeMismatchError(MalformedChunkError):
    """A component arrived with an Arrow type other than the one already stored for its entity."""


class TimelineKindMismatchError(MalformedChunkError):
    """A timeline arrived with a kind (sequence/duration/timestamp) other than the stored one."""


class UnknownEntityError(StoreError, KeyError):
    """Neither the entity path nor any of its descendants has ever received data."""

    def __init__(self, entity_path: str) -> None:
        self.entity_path = entity_path
        super().__init__(entity_path)

    def __str__(self) -> str:
        return f"no data was ever logged to entity {self.entity_path!r}"


class UnknownTimelineError(StoreError, KeyError):
    """The timeline has never been seen by this store."""

    def __init__(self, timeline: str, known: list[str] | None = None) -> None:
        self.timeline = timeline
        self.known = sorted(known or [])
        super().__init__(timeline)

    def __str__(self) -> str:
        return f"unknown timeline {self.timeline!r}; known timelines: {self.known}"


class UnknownRecordingError(StoreError, KeyError):
    """No recording with that id is held."""

    def __init__(self, recording_id: str) -> None:
        self.recording_id = recording_id
        super().__init__(recording_id)

    def __str__(self) -> str:
        return f"no recording with id {self.recording_id!r}"


class SubscriberError(StoreError):
    """A store event subscriber raised; the store's own state was already committed."""
