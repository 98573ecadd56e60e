"""``RemoteStore``: the store-shaped view of one recording in ``--live-mode query``.

Nothing is mirrored: the summary comes from the ingest's events and the cells from the standing
``latest_at`` query at the time cursor, so memory stays flat however big the recording grows.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from rerun_zmq._entity_path import parent_paths


class RemoteStore:
    """Store-shaped view of one recording held by an ingest (the subset the viewer reads)."""

    def __init__(self, recording_id: str) -> None:
        self.recording_id = recording_id
        self._timelines: dict[str, str] = {}
        self._ranges: dict[str, tuple[int, int]] = {}
        self._rows: dict[str, int] = {}
        self._cells: dict[str, dict] = {}
        #: entity -> timeline -> [(time, rows)]: rows that arrived live, placed at the timeline's
        #: newest time when they arrived (events carry counts, not times); feeds the density marks
        self._marks: dict[str, dict[str, list[tuple[int, int]]]] = {}

    # -- fed by the data client ----------------------------------------------------------------------
    def on_summary(self, rec: dict) -> None:
        self._rows.update(rec.get("entities", {}))
        for name, tl in rec.get("timelines", {}).items():
            self.on_timeline(name, tl["kind"], tl.get("min"), tl.get("max"))

    def on_timeline(self, name: str, kind: str, lo: int | None, hi: int | None) -> None:
        self._timelines[name] = kind
        if lo is not None and hi is not None:
            self._ranges[name] = (int(lo), int(hi))

    def on_rows(self, counts: dict[str, int]) -> dict[str, int]:
        """Count new rows; returns timeline -> the time they are marked at."""
        at = {name: rng[1] for name, rng in self._ranges.items()}
        for path, n in counts.items():
            self._rows[path] = self._rows.get(path, 0) + int(n)
            if n > 0:
                marks = self._marks.setdefault(path, {})
                for name, t in at.items():
                    marks.setdefault(name, []).append((t, int(n)))
        return at

    def on_result(self, params: dict, batch: pa.RecordBatch | None) -> None:
        from store import Cell

        path = params["entity"]
        times = params.get("times", {})
        cells = {}
        if batch is not None:
            for key in batch.schema.names:
                cells[key] = Cell(batch.column(key).flatten(), times.get(key), (0, 0))
        self._cells[path] = cells
        self._rows.setdefault(path, 0)

    # -- read by panels and the scene ----------------------------------------------------------------
    def entity_paths(self) -> list[str]:
        return sorted(self._rows)

    def timelines(self) -> dict[str, str]:
        return dict(self._timelines)

    def time_range(self, timeline: str) -> tuple[int, int] | None:
        return self._ranges.get(timeline)

    def row_counts(self) -> dict[str, int]:
        return dict(sorted(self._rows.items()))

    def latest_at(self, entity_path: str, timeline: str | None, t: int, components=None) -> dict:
        cells = self._cells.get(entity_path, {})
        return cells if components is None else {k: v for k, v in cells.items() if k in components}

    def world_transform(self, entity_path: str, timeline: str | None, t: int) -> np.ndarray:
        from store._transforms import TRANSFORM_KEYS, transform_from_cells

        world = np.eye(4)
        for p in [*parent_paths(entity_path), entity_path]:
            cells = {k: c for k, c in self._cells.get(p, {}).items() if k in TRANSFORM_KEYS}
            if cells:
                world = world @ transform_from_cells(cells)
        return world

    def density(self, entity_path: str, timeline: str, bins: int = 100, t0=None, t1=None):
        rng = self._ranges.get(timeline) or (0, 0)
        lo, hi = rng[0] if t0 is None else int(t0), rng[1] if t1 is None else int(t1)
        marks = self._marks.get(entity_path, {}).get(timeline, [])
        times = np.array([m[0] for m in marks], dtype=np.int64)
        weights = np.array([m[1] for m in marks], dtype=np.int64)
        return np.histogram(times, bins=bins, range=(lo, max(hi, lo + 1)), weights=weights)
