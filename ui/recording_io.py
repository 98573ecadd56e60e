"""Save the active recording, or the rows of one time range of it, to an .rrd file.

The file holds a ``Hello`` and the store's chunks (static ones first), so it reopens as the same
recording; a time selection keeps static chunks and the rows of ``[t0, t1]`` on its timeline
(rows without a time on that timeline are dropped). The file is written under a temporary name
next to ``path`` and renamed over it only when complete: a failed or cancelled save leaves no
half-written file and does not touch what was at ``path`` before.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa

from rerun_zmq import _wire
from rerun_zmq._chunk import parse_chunk
from rerun_zmq._rrd import RrdWriter


class SaveCancelled(Exception):
    """The save was cancelled (the viewer closed while it ran)."""


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


def snapshot(store) -> list[pa.RecordBatch]:
    """The store's chunks as they are now (cheap: Arrow batches are immutable, nothing is copied).

    Taken on the thread that owns the store; what is inserted afterwards is not in the list, and
    chunks compacted or dropped afterwards stay valid in it."""
    if not hasattr(store, "chunks"):
        raise ValueError("this recording is only mirrored live; nothing to save yet")
    return list(store.chunks())


def check_target(path: str | os.PathLike) -> Path:
    """``path`` as a Path whose folder exists (raised early, before any thread starts)."""
    target = Path(path)
    if not str(path).strip():
        raise ValueError("give a file name to save to")
    if target.is_dir():
        raise IsADirectoryError(f"cannot save to {target}: it is a folder")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"cannot save to {target}: folder {target.parent} does not exist")
    return target


def save_chunks(
    path: str | os.PathLike,
    chunks: Iterable[pa.RecordBatch],
    recording_id: str,
    application_id: str | None,
    time_range: tuple[str, int, int] | None = None,
    on_chunk: Callable[[], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """Write ``chunks`` (or their rows inside ``time_range``) to ``path``; returns the rows written.

    ``on_chunk()`` after each input chunk (progress); ``cancelled()`` true stops with ``SaveCancelled``.
    """
    target = check_target(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    rows = 0
    try:
        writer = RrdWriter(tmp)
        try:
            writer.write(_wire.Hello(application_id or "unknown", recording_id, "viewer"))
            for batch in chunks:
                if cancelled is not None and cancelled():
                    raise SaveCancelled(f"saving {target} was cancelled")
                if time_range is not None and not _is_static(batch):
                    batch = _select(batch, *time_range)
                if batch is not None:
                    writer.write(_wire.ChunkMsg(recording_id, batch))
                    rows += batch.num_rows
                if on_chunk is not None:
                    on_chunk()
        finally:
            writer.close()
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return rows


def save_recording(
    path: str | os.PathLike,
    store,
    recording_id: str,
    application_id: str | None,
    time_range: tuple[str, int, int] | None = None,
) -> int:
    """Write ``store``'s chunks (or those rows inside ``time_range``) to ``path`` now; returns rows."""
    return save_chunks(path, snapshot(store), recording_id, application_id, time_range)
