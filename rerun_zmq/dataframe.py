"""Query recordings from Python: ``rr.dataframe.load_recording("dna.rrd").latest_at(...)``.

Conventions:

- **Entity paths** are returned canonical, with a leading ``/`` (``"/dna/structure/left"``); every
  method accepts them with or without it (``"dna/structure/left"`` works too).
- **Component keys** are ``"Archetype:field"``, e.g. ``"Points3D:positions"``,
  ``"Points3D:colors"``, ``"Points3D:radii"``, ``"LineStrips3D:strips"``, ``"Scalars:scalars"``,
  ``"TextLog:text"``, ``"Transform3D:rotation_axis_angle"``.
- **Time** is given in the timeline's own unit: seconds (``float``/``int``, ``timedelta``; or
  ``datetime`` for timestamp timelines) on ``duration`` and ``timestamp`` timelines (stored as
  int64 ns), integers on ``sequence`` timelines. ``time=None`` means "the end of the timeline";
  ``-inf``/``inf`` (and seconds beyond int64 ns) mean its start/end, ``NaN`` raises ``ValueError``.
- **latest_at** returns numpy: fixed-size vectors as ``(n, k)`` arrays, colors unpacked to
  ``(n, 4) uint8`` RGBA, strings as ``list[str]``, strips as a list of ``(m, 3)`` arrays. With
  ``clamp=True`` (default) components of one archetype are joined by instance index: a single
  value is repeated to the primary component's count, extra values are dropped.
- Static data wins over temporal data; a Clear hides temporal data logged at or before it (static
  data is only hidden by a later static Clear).
"""

from __future__ import annotations

import os
import sys
import time as _time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from store import TimelineStore, UnknownTimelineError

from ._chunk import ROW_ID
from ._components import clamp_instances, unpack_colors
from ._entity_path import canonical_path
from ._errors import RerunZmqWarning
from ._loader import _GroupedLoader as _GroupedLoader
from ._loader import load_file
from ._rrd import RrdReader
from ._time import to_duration_ns, to_sequence, to_timestamp_ns

__all__ = ["Recording", "connect_recording", "load_recording"]

_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)
_PROGRESS_MIN_BYTES = 4 * 1024 * 1024


def _primary_fields() -> dict[str, str]:
    from . import archetypes

    out = {}
    for name in dir(archetypes):
        cls = getattr(archetypes, name)
        primary = getattr(cls, "primary_field", None)
        arch = getattr(cls, "archetype_name", None)
        if isinstance(primary, str) and isinstance(arch, str):
            out[arch] = primary
    return out


def to_numpy(values: pa.Array, key: str = "") -> Any:
    """One component's instances -> numpy (or a list for strings and nested lists)."""
    typ = values.type
    if pa.types.is_fixed_size_list(typ):
        k = typ.list_size  # flatten() skips null instances: read the child's slots instead
        flat = values.values.slice(values.offset * k, len(values) * k).to_numpy(zero_copy_only=False)
        out = flat.reshape(len(values), k)
        if values.null_count:  # a null instance reads as a row of NaN
            out = out.astype(np.result_type(out.dtype, np.float32))
            out[~values.is_valid().to_numpy(zero_copy_only=False)] = np.nan
        return out
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return [to_numpy(values[i].values, key) for i in range(len(values))]
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_struct(typ):
        return values.to_pylist()
    if pa.types.is_uint32(typ) and key.endswith(":colors"):
        return unpack_colors(values)
    if pa.types.is_primitive(typ):
        return values.to_numpy(zero_copy_only=False)
    return values.to_pylist()


class Recording:
    """One loaded recording: a ``TimelineStore`` plus time conversion and numpy results.

    Every query reads ``self.store`` afresh, so a subclass may serve it as a property (the live
    mirror of ``connect_recording`` does).
    """

    def __init__(self, application_id: str, recording_id: str, store: TimelineStore) -> None:
        self.application_id = application_id
        self.recording_id = recording_id
        self.store = store
        #: False when a file stopped early (truncated or damaged); ``load_errors`` says where
        self.complete = True
        self.load_errors: list[str] = []

    def __repr__(self) -> str:
        return (
            f"Recording(application_id={self.application_id!r}, recording_id={self.recording_id!r}, "
            f"entities={len(self.store.entity_paths())})"
        )

    def entity_paths(self) -> list[str]:
        """Every entity with data, canonical (leading ``/``), sorted."""
        return self.store.entity_paths()

    def timelines(self) -> dict[str, str]:
        """Timeline name -> kind (``sequence`` | ``duration`` | ``timestamp``)."""
        return self.store.timelines()

    def components(self, entity_path: str) -> dict[str, pa.DataType]:
        return self.store.components(entity_path)

    def _time(self, timeline: str, value: Any, default: int) -> int:
        kind = self.store.timelines().get(timeline)
        if kind is None:
            raise UnknownTimelineError(timeline, list(self.store.timelines()))
        if value is None:
            return default
        if isinstance(value, (float, np.floating)):
            if np.isnan(value):
                raise ValueError(f"time on timeline {timeline!r} must be a number, got NaN")
            if np.isinf(value):  # -inf / inf: the whole timeline
                return _INT64_MAX if value > 0 else _INT64_MIN
        conv = to_sequence if kind == "sequence" else to_duration_ns if kind == "duration" else to_timestamp_ns
        try:
            t = conv(value)
        except OverflowError:  # seconds too large for int64 ns
            return _INT64_MAX if value > 0 else _INT64_MIN
        return min(max(t, _INT64_MIN), _INT64_MAX)

    def latest_at(
        self,
        entity_path: str,
        timeline: str | None,
        time: Any = None,
        *,
        components: Sequence[str] | None = None,
        clamp: bool = True,
    ) -> dict[str, Any]:
        """Per component, the latest visible value at ``time`` (``timeline=None``: static data only)."""
        t = 0 if timeline is None else self._time(timeline, time, _INT64_MAX)
        cells = self.store.latest_at(entity_path, timeline, t, None if components is None else list(components))
        out = {k: to_numpy(c.values, k) for k, c in cells.items()}
        return _clamp(out) if clamp else out

    def range(
        self,
        entity_path: str,
        timeline: str,
        start: Any = None,
        end: Any = None,
        *,
        components: Sequence[str] | None = None,
    ) -> pa.Table:
        """Rows logged in [start, end]: a column for the timeline, then one column per component."""
        t0 = self._time(timeline, start, _INT64_MIN)
        t1 = self._time(timeline, end, _INT64_MAX)
        table = self.store.range(entity_path, timeline, t0, t1, None if components is None else list(components))
        table = table.drop_columns([ROW_ID])
        kind = self.store.timelines()[timeline]
        if kind != "sequence":
            typ = pa.duration("ns") if kind == "duration" else pa.timestamp("ns", tz="UTC")
            table = table.set_column(0, pa.field(timeline, typ), table.column(0).cast(typ))
        return table

    def world_transform(self, entity_path: str, timeline: str | None, time: Any = None) -> np.ndarray:
        """4x4 ``world_from_entity`` at ``time``: every Transform3D from the root down, composed."""
        t = 0 if timeline is None else self._time(timeline, time, _INT64_MAX)
        path = canonical_path(entity_path)
        self.store.components(path)  # UnknownEntityError for a path nothing was logged to (or under)
        return self.store.world_transform(path, timeline, t)


def _clamp(values: dict[str, Any]) -> dict[str, Any]:
    primaries = _primary_fields()
    out = dict(values)
    for key, val in values.items():
        arch, _, _ = key.partition(":")
        primary = primaries.get(arch)
        if primary is None or f"{arch}:{primary}" == key or f"{arch}:{primary}" not in values:
            continue
        out[key] = clamp_instances(val, len(values[f"{arch}:{primary}"]))
    return out


class _Progress:
    """A one-line progress bar on stderr, for big files on a terminal only."""

    def __init__(self, name: str, size: int) -> None:
        self.enabled = size >= _PROGRESS_MIN_BYTES and sys.stderr.isatty()
        self.name, self.size, self._last = name, size, 0.0

    def update(self, position: int, final: bool = False) -> None:
        now = _time.monotonic()
        if not self.enabled or (not final and now - self._last < 0.1):
            return
        self._last = now
        pct = 100.0 * position / max(self.size, 1)
        bar = "#" * int(pct / 5)
        end = "\n" if final else ""
        sys.stderr.write(f"\rloading {self.name} [{bar:<20}] {pct:5.1f}% of {self.size / 1e6:.1f} MB{end}")
        sys.stderr.flush()


def load_recording(
    path_or_paths: str | os.PathLike | Sequence[str | os.PathLike], *, recording_id: str | None = None
) -> Recording:
    """Load one .rrd file, or several files of one recording (merged).

    Files holding several recordings need ``recording_id=``. A truncated file loads every complete
    message, warns, and sets ``complete=False``; chunks that fail to decode or validate are refused
    alone (warned; raised in strict mode). Rows met twice (the same file given twice, resent
    chunks) are stored once (``store.duplicate_rows`` counts the others).
    """
    paths = [path_or_paths] if isinstance(path_or_paths, (str, os.PathLike)) else list(path_or_paths)
    if not paths:
        raise ValueError("load_recording needs at least one .rrd path")
    loader = _GroupedLoader()
    app_ids: dict[str, str] = {}
    errors: list[str] = []
    for path in paths:
        reader = RrdReader(path)
        progress = _Progress(os.path.basename(os.fspath(path)), reader.size)
        loader.source = os.fspath(path)
        load_file(loader, reader, app_ids, progress.update)
        loader.finish()
        progress.update(reader.position, final=True)
        if reader.error:
            errors.append(f"{path}: {reader.error}")
    stores, refused = loader.stores, loader.refused
    rid = _choose_recording(paths, stores, app_ids, recording_id)
    rec = Recording(app_ids.get(rid, ""), rid, stores.get(rid) or TimelineStore())
    rec.load_errors = errors + refused
    rec.complete = not errors
    if rec.load_errors:
        warnings.warn(
            "load_recording: " + "; ".join(rec.load_errors[:5])
            + (f" (and {len(rec.load_errors) - 5} more)" if len(rec.load_errors) > 5 else ""),
            RerunZmqWarning,
            stacklevel=2,
        )
    return rec


def _choose_recording(paths, stores, app_ids, recording_id) -> str:
    ids = list(dict.fromkeys([*app_ids, *stores]))
    if recording_id is not None:
        if recording_id not in ids:
            raise ValueError(f"recording {recording_id!r} is not in {paths}; found {ids}")
        return recording_id
    if not ids:
        raise ValueError(f"no recording found in {paths}")
    if len(ids) > 1:
        raise ValueError(f"{paths} hold {len(ids)} recordings {ids}; pick one with recording_id=")
    return ids[0]


def connect_recording(addr: str | None = None, recording_id: str | None = None, **kwargs: Any) -> Recording:
    """The ``load_recording`` interface answered live from a running ingest (see ``dataframe_live``)."""
    from .dataframe_live import connect_recording as _connect

    return _connect(addr, recording_id, **kwargs)
