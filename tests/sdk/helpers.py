"""Small helpers for SDK tests: read back what a recording produced."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

import rerun_zmq as rr
from rerun_zmq._wire import ChunkMsg


def scalar(x: float) -> rr.ComponentBatch:
    return rr.ComponentBatch("Scalars:scalars", pa.float64(), np.array([x], dtype=np.float64))


def text(s: str) -> rr.ComponentBatch:
    return rr.ComponentBatch("TextLog:text", pa.string(), [s])


def chunks(rec: rr.RecordingStream) -> list[pa.RecordBatch]:
    rec.flush()
    return [m.batch for m in rec.test_sink.messages() if isinstance(m, ChunkMsg)]


def rows(rec: rr.RecordingStream, entity: str | None = None) -> list[dict]:
    """Every logged row as a dict (entity, timelines, components as python lists), in RowId order."""
    out = []
    for batch in chunks(rec):
        ent = batch.schema.metadata[b"rz.entity_path"].decode()
        if entity is not None and ent != entity:
            continue
        d = batch.to_pydict()
        for i in range(batch.num_rows):
            row = {k: v[i] for k, v in d.items()}
            row["entity"] = ent
            out.append(row)
    out.sort(key=lambda r: r["rz.row_id"])
    return out
