"""The chunk: one Arrow RecordBatch holding rows of one entity.

This module is the single definition of the chunk layout, shared by the SDK (which builds chunks),
the files and the wire (which carry them), the ingest and the store (which validate and index them).

Layout of a chunk (``pyarrow.RecordBatch``):

- column ``rz.row_id``: ``fixed_size_binary(16)``, sorted ascending. A RowId is big-endian
  ``(u64 wall-clock ns, u64 per-process counter)`` so byte order is creation order.
- one ``int64`` column per timeline, named by the timeline (values: sequence numbers, or
  nanoseconds for ``duration`` and ``timestamp`` timelines). Null means "not on this timeline".
- one ``list<T>`` column per component, named ``"Archetype:field"`` (e.g. ``Points3D:positions``).
  Each list holds the instances logged in that row; null means "not logged in this row".

Schema metadata (all values UTF-8):

- ``rz.layout``: layout version (``"1"``)
- ``rz.entity_path``: canonical entity path (leading ``/``, e.g. ``/dna/structure/left``)
- ``rz.is_static``: ``"1"`` or ``"0"``; a static chunk has no timeline columns
- ``rz.timelines``: JSON object, timeline name -> kind (``sequence`` | ``duration`` | ``timestamp``)
- ``rz.archetypes``: JSON list of the archetype names logged in the chunk
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Literal

import numpy as np
import pyarrow as pa

from ._entity_path import canonical_path

LAYOUT_VERSION = "1"
ROW_ID = "rz.row_id"
ROW_ID_TYPE = pa.binary(16)
META_LAYOUT = b"rz.layout"
META_ENTITY = b"rz.entity_path"
META_STATIC = b"rz.is_static"
META_TIMELINES = b"rz.timelines"
META_ARCHETYPES = b"rz.archetypes"

TimelineKind = Literal["sequence", "duration", "timestamp"]
TIMELINE_KINDS: tuple[str, ...] = ("sequence", "duration", "timestamp")
LOG_TIME = "log_time"
LOG_TICK = "log_tick"


class ChunkError(ValueError):
    """A record batch does not follow the chunk layout; the message says what was expected."""


@dataclass(frozen=True)
class ChunkInfo:
    """What a chunk's schema says about it, parsed once."""

    entity_path: str
    is_static: bool
    timelines: dict[str, str]
    archetypes: tuple[str, ...]
    components: tuple[str, ...]


def make_schema(
    entity_path: str,
    timelines: Mapping[str, str],
    components: Sequence[tuple[str, pa.DataType]],
    archetypes: Sequence[str],
    is_static: bool,
) -> pa.Schema:
    """Build a chunk schema; ``components`` are (key, element type) pairs."""
    fields = [pa.field(ROW_ID, ROW_ID_TYPE, nullable=False)]
    fields += [pa.field(name, pa.int64()) for name in timelines]
    fields += [pa.field(key, pa.list_(dtype)) for key, dtype in components]
    meta = {
        META_LAYOUT: LAYOUT_VERSION.encode(),
        META_ENTITY: canonical_path(entity_path).encode(),
        META_STATIC: b"1" if is_static else b"0",
        META_TIMELINES: json.dumps(dict(timelines), separators=(",", ":")).encode(),
        META_ARCHETYPES: json.dumps(list(archetypes), separators=(",", ":")).encode(),
    }
    return pa.schema(fields, metadata=meta)


def row_ids_to_array(row_ids: np.ndarray) -> pa.FixedSizeBinaryArray:
    """``row_ids`` is a (n, 2) uint64 array of (ns, counter) -> fixed_size_binary(16) array."""
    raw = np.ascontiguousarray(row_ids, dtype=">u8")
    return pa.FixedSizeBinaryArray.from_buffers(ROW_ID_TYPE, len(raw), [None, pa.py_buffer(raw)])


def row_ids_to_numpy(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """fixed_size_binary(16) column -> (n, 2) uint64 array (ns, counter), native byte order."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    n = len(column)
    buf = column.buffers()[1]
    start = column.offset * 16
    raw = np.frombuffer(buf, dtype=">u8", count=2 * n, offset=start).reshape(n, 2)
    return raw.astype(np.uint64)


def parse_chunk(batch: pa.RecordBatch) -> ChunkInfo:
    """Validate ``batch`` against the layout and return its parsed description.

    Raises ``ChunkError`` naming what was expected. A chunk is accepted or refused whole.
    """
    if not isinstance(batch, pa.RecordBatch):
        raise ChunkError(f"expected a pyarrow.RecordBatch, got {type(batch).__name__}")
    meta = batch.schema.metadata or {}
    for key in (META_LAYOUT, META_ENTITY, META_STATIC, META_TIMELINES):
        if key not in meta:
            raise ChunkError(f"chunk schema metadata lacks {key.decode()!r}")
    if meta[META_LAYOUT] != LAYOUT_VERSION.encode():
        raise ChunkError(
            f"chunk layout version {meta[META_LAYOUT]!r} is not supported (this build reads layout {LAYOUT_VERSION})"
        )
    try:
        timelines = json.loads(meta[META_TIMELINES])
        archetypes = json.loads(meta.get(META_ARCHETYPES, b"[]"))
        entity = meta[META_ENTITY].decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ChunkError(f"chunk metadata is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(timelines, dict) or any(not isinstance(k, str) or v not in TIMELINE_KINDS
                                              for k, v in timelines.items()):
        raise ChunkError(f"rz.timelines must map names to one of {TIMELINE_KINDS}, got {timelines!r}")
    if not isinstance(archetypes, list) or not all(isinstance(a, str) for a in archetypes):
        raise ChunkError(f"rz.archetypes must be a JSON list of names, got {archetypes!r}")
    archetypes = tuple(archetypes)
    is_static = meta[META_STATIC] == b"1"
    if is_static and timelines:
        raise ChunkError("a static chunk must not have timeline columns")
    names = batch.schema.names
    if not names or names[0] != ROW_ID or batch.schema.field(0).type != ROW_ID_TYPE:
        raise ChunkError(f"first column must be {ROW_ID!r} of type fixed_size_binary(16)")
    if batch.column(0).null_count:
        raise ChunkError(f"{ROW_ID!r} must not contain nulls")
    components = []
    for i, field in enumerate(batch.schema):
        if i == 0:
            continue
        if field.name in timelines:
            if field.type != pa.int64():
                raise ChunkError(f"timeline column {field.name!r} must be int64, got {field.type}")
        elif pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            components.append(field.name)
        else:
            raise ChunkError(f"component column {field.name!r} must be a list type, got {field.type}")
    missing = [t for t in timelines if t not in names]
    if missing:
        raise ChunkError(f"timelines {missing} are declared in metadata but have no column")
    if len(set(names)) != len(names):
        raise ChunkError("chunk has duplicate column names")
    try:
        entity = canonical_path(entity)
    except (ValueError, TypeError) as exc:
        raise ChunkError(f"bad entity path in chunk: {exc}") from None
    return ChunkInfo(entity, is_static, timelines, archetypes, tuple(components))


def _values_to_arrow(data, arrow_type: pa.DataType) -> pa.Array:
    """One component's instances (numpy, list or Arrow) -> a flat Arrow array of ``arrow_type``."""
    if isinstance(data, pa.Array):
        return data if data.type == arrow_type else data.cast(arrow_type)
    if isinstance(data, np.ndarray):
        if pa.types.is_fixed_size_list(arrow_type):
            width = arrow_type.list_size
            flat = np.ascontiguousarray(data).reshape(-1)
            inner = pa.array(flat, type=arrow_type.value_type)
            return pa.FixedSizeListArray.from_arrays(inner, width)
        return pa.array(np.ascontiguousarray(data).reshape(len(data)), type=arrow_type)
    return pa.array(list(data), type=arrow_type)


def concat_instances(datas: Sequence, arrow_type: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """Concatenate per-row instance data into one flat Arrow array, plus per-row lengths."""
    lengths = np.fromiter((len(d) for d in datas), dtype=np.int64, count=len(datas))
    if type(datas[0]) is tuple and not pa.types.is_nested(arrow_type):
        # plain Python values per row (the hot path for one scalar): one Arrow conversion in all
        try:
            return pa.array(list(chain.from_iterable(datas)), type=arrow_type), lengths
        except (TypeError, ValueError, pa.ArrowInvalid):
            pass  # mixed row forms: convert row by row below
    if all(isinstance(d, np.ndarray) for d in datas):
        joined = datas[0] if len(datas) == 1 else np.concatenate(datas, axis=0)
        return _values_to_arrow(joined, arrow_type), lengths
    if all(isinstance(d, pa.Array) for d in datas):
        arrays = [d if d.type == arrow_type else d.cast(arrow_type) for d in datas]
        return (arrays[0] if len(arrays) == 1 else pa.concat_arrays(arrays)), lengths
    parts = [_values_to_arrow(d, arrow_type) for d in datas]
    return (parts[0] if len(parts) == 1 else pa.concat_arrays(parts)), lengths


def list_array(values: pa.Array, lengths: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """Wrap flat ``values`` into a ``list<T>`` array with one list per length (null where masked)."""
    n = len(lengths)
    if n and lengths[0] == 1 and lengths[-1] == 1 and len(values) == n and (lengths == 1).all():
        off = pa.array(np.arange(n + 1, dtype=np.int32))  # one instance per row: the common case
    else:
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        if offsets[-1] >= 2**31:
            raise ChunkError("a chunk column holds more than 2^31 instances; log it in smaller pieces")
        off = pa.array(offsets.astype(np.int32))
    if null_mask is not None and null_mask.any():
        return pa.ListArray.from_arrays(off, values, mask=pa.array(null_mask))
    return pa.ListArray.from_arrays(off, values)


def build_chunk(
    entity_path: str,
    row_ids: np.ndarray,
    times: Mapping[str, tuple[str, np.ndarray]],
    components: Mapping[str, tuple[pa.DataType, pa.Array, np.ndarray]],
    archetypes: Sequence[str],
    is_static: bool,
    schema: pa.Schema | None = None,
) -> pa.RecordBatch:
    """Assemble a chunk.

    ``row_ids``: (n, 2) uint64; ``times``: timeline -> (kind, int64 values of length n);
    ``components``: key -> (element type, flat values, per-row lengths of length n).
    ``schema``: the result of ``make_schema`` for these arguments, when the caller cached it.
    """
    schema = schema or make_schema(
        entity_path,
        {name: kind for name, (kind, _) in times.items()},
        [(key, dtype) for key, (dtype, _, _) in components.items()],
        archetypes,
        is_static,
    )
    cols: list[pa.Array] = [row_ids_to_array(row_ids)]
    cols += [pa.array(np.asarray(vals, dtype=np.int64)) for _, vals in times.values()]
    cols += [list_array(values, lengths) for _, values, lengths in components.values()]
    return pa.RecordBatch.from_arrays(cols, schema=schema)
