"""Latest-at query cache keyed by (entity, timeline, component), invalidated by the minimum changed time.

Only temporal index walks are cached (static lookups are already a dict hit). Each key keeps the
answers of its most recent ``per_key`` query times; an insert touching (entity, timeline, key) from
time ``t0`` on drops the cached answers for query times ``>= t0`` -- earlier ones cannot change.
"""

from __future__ import annotations

from ._index import Hit

_MISSING = object()


class QueryCache:
    """Cached raw latest-at hits; ``hits``/``misses`` count lookups for the benchmarks."""

    def __init__(self, per_key: int = 16) -> None:
        self.per_key = per_key
        self._d: dict[str, dict[tuple[str, str], dict[int, Hit | None]]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, entity: str, timeline: str, key: str, t: int) -> object:
        """The cached hit (possibly None), or ``MISSING``."""
        per = self._d.get(entity)
        if per is not None:
            times = per.get((timeline, key))
            if times is not None and t in times:
                self.hits += 1
                return times[t]
        self.misses += 1
        return _MISSING

    def put(self, entity: str, timeline: str, key: str, t: int, hit: Hit | None) -> None:
        times = self._d.setdefault(entity, {}).setdefault((timeline, key), {})
        if len(times) >= self.per_key:
            del times[next(iter(times))]
        times[t] = hit

    def invalidate(self, entity: str, timeline: str, key: str, from_time: int) -> None:
        """Drop answers for query times >= ``from_time``."""
        per = self._d.get(entity)
        times = None if per is None else per.get((timeline, key))
        if not times:
            return
        for t in [t for t in times if t >= from_time]:
            del times[t]

    def invalidate_entity(self, entity: str) -> None:
        self._d.pop(entity, None)

    def clear(self) -> None:
        self._d.clear()

    def __len__(self) -> int:
        return sum(len(times) for per in self._d.values() for times in per.values())


MISSING = _MISSING
