"""Compaction of small chunks and splitting of oversize ones.

Only chunks of one entity with the same layout (static flag, timelines and their kinds, component
keys and types) are merged; merged rows are re-sorted by RowId, so the chunk layout contract holds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from rerun_zmq._chunk import META_ARCHETYPES, row_ids_to_numpy

from ._stored_chunk import StoredChunk

MAX_ROWS = 4096
MAX_BYTES = 384 * 1024
#: an incoming chunk below both is "small" and waits to be merged with its neighbours
SMALL_ROWS = 1024
SMALL_BYTES = 96 * 1024
#: an incoming chunk above either is split into pieces of at most MAX_ROWS / ~MAX_BYTES
SPLIT_ROWS = 4 * MAX_ROWS
SPLIT_BYTES = 4 * MAX_BYTES


def is_small(chunk: StoredChunk) -> bool:
    return chunk.num_rows < SMALL_ROWS and chunk.nbytes < SMALL_BYTES


def signature(chunk: StoredChunk) -> tuple:
    """Chunks with equal signatures can be merged (``merge_batches`` needs equal schemas, nullability included)."""
    info = chunk.info
    cols = tuple((f.name, str(f.type), f.nullable) for f in chunk.batch.schema)
    return (info.entity_path, info.is_static, tuple(sorted(info.timelines.items())), cols)


def split_batch(batch: pa.RecordBatch, nbytes: int) -> list[pa.RecordBatch]:
    """Zero-copy row slices of an oversize chunk; a chunk within limits (or of one row) is kept."""
    n = batch.num_rows
    if n <= 1 or (n <= SPLIT_ROWS and nbytes <= SPLIT_BYTES):
        return [batch]
    pieces = max(-(-n // MAX_ROWS), -(-nbytes // MAX_BYTES))
    step = -(-n // pieces)
    return [batch.slice(i, step) for i in range(0, n, step)]


def merge_batches(batches: Sequence[pa.RecordBatch]) -> pa.RecordBatch:
    """One chunk holding the rows of ``batches`` (same layout), sorted by RowId."""
    archetypes: list[str] = []
    for b in batches:
        for name in json.loads((b.schema.metadata or {}).get(META_ARCHETYPES, b"[]")):
            if name not in archetypes:
                archetypes.append(name)
    meta = dict(batches[0].schema.metadata or {})
    meta[META_ARCHETYPES] = json.dumps(archetypes, separators=(",", ":")).encode()
    schema = batches[0].schema.with_metadata(meta)
    table = pa.Table.from_batches([b.replace_schema_metadata(meta) for b in batches], schema=schema)
    rid = row_ids_to_numpy(table.column(0))
    order = np.lexsort((rid[:, 1], rid[:, 0]))
    if not np.array_equal(order, np.arange(len(order))):
        table = table.take(pa.array(order))
    return table.combine_chunks().to_batches(max_chunksize=None)[0] if table.num_rows else batches[0]


def plan_merges(chunks: Sequence[StoredChunk]) -> list[list[StoredChunk]]:
    """Group small chunks by layout into runs within MAX_ROWS / MAX_BYTES (runs of 2+ only)."""
    groups: dict[tuple, list[StoredChunk]] = {}
    for c in chunks:
        groups.setdefault(signature(c), []).append(c)
    runs: list[list[StoredChunk]] = []
    for members in groups.values():
        members.sort(key=lambda c: c.min_row_id())
        run: list[StoredChunk] = []
        rows = nbytes = 0
        for c in members:
            if run and (rows + c.num_rows > MAX_ROWS or nbytes + c.nbytes > MAX_BYTES):
                if len(run) > 1:
                    runs.append(run)
                run, rows, nbytes = [], 0, 0
            run.append(c)
            rows += c.num_rows
            nbytes += c.nbytes
        if len(run) > 1:
            runs.append(run)
    return runs
