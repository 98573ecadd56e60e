"""Save the active recording, or the rows of one time range of it, to an .rrd file.

The file holds a ``Hello`` and the store's chunks (static ones first), so it reopens as the same
recording; a time selection keeps static chunks and the rows of ``[t0, t1]`` on its timeline
(rows without a time on that timeline are dropped).
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa

from rerun_zmq import _wire
from rerun_zmq._chunk import parse_chunk
from rerun_zmq._rrd import RrdWriter


def _select(batch: pa.RecordBatch, timeline: str, t0: int, t1: int) -> pa.RecordBatch | None:
    """The rows of a temporal chunk with ``timeline`` in [t0, t1] (None when there are none)."""
    if timeline not in parse_chunk(batch).timelines:
        return None
    col = batch.column(timeline)
    times = col.fill_null(np.iinfo(np.int64).min).to_numpy(zero_copy_only=False)
    keep = (times >= t0) & (times <= t1)
    if keep.all():
        return batch
    if not keep.any():
        return None
    return batch.filter(pa.array(keep))


def _is_static(batch: pa.RecordBatch) -> bool:
    return parse_chunk(batch).is_static


def save_recording(
    path: str | os.PathLike,
    store,
    recording_id: str,
    application_id: str | None,
    time_range: tuple[str, int, int] | None = None,
) -> int:
    """Write ``store``'s chunks (or those rows inside ``time_range``) to ``path``; returns rows."""
    if not hasattr(store, "chunks"):
        raise ValueError("this recording is only mirrored live; nothing to save yet")
    writer = RrdWriter(path)
    rows = 0
    try:
        writer.write(_wire.Hello(application_id or "unknown", recording_id, "viewer"))
        for batch in store.chunks():
            if time_range is not None:
                batch = _select(batch, *time_range) if not _is_static(batch) else batch
                if batch is None:
                    continue
            writer.write(_wire.ChunkMsg(recording_id, batch))
            rows += batch.num_rows
    finally:
        writer.close()
    return rows
