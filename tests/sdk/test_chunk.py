"""parse_chunk refuses every malformed chunk with a ChunkError naming what was expected."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from rerun_zmq._chunk import ChunkError, build_chunk, parse_chunk

GOOD = build_chunk("/a", np.array([[1, 1]], np.uint64), {"t": ("sequence", np.array([0]))},
                   {"Scalars:scalars": (pa.float64(), pa.array([1.0]), np.array([1]))}, ["Scalars"], False)


def _with_meta(**changes):
    meta = dict(GOOD.schema.metadata)
    for key, value in changes.items():
        meta[f"rz.{key}".encode()] = value
    return GOOD.replace_schema_metadata(meta)


def test_good_chunk():
    info = parse_chunk(GOOD)
    assert info.entity_path == "/a" and info.timelines == {"t": "sequence"} and info.archetypes == ("Scalars",)


@pytest.mark.parametrize(
    ("batch", "needle"),
    [
        (_with_meta(layout=b"9"), "layout version"),
        (_with_meta(layout=b"\xff"), "layout version"),
        (_with_meta(entity_path=b"\xff\xfe"), "UTF-8 JSON"),
        (_with_meta(timelines=b"{not json"), "UTF-8 JSON"),
        (_with_meta(timelines=b'{"t": "weekly"}'), "rz.timelines"),
        (_with_meta(timelines=b"[1]"), "rz.timelines"),
        (_with_meta(archetypes=b"3"), "rz.archetypes"),
        (_with_meta(archetypes=b"[1, 2]"), "rz.archetypes"),
        (_with_meta(timelines=b'{"t": "sequence", "u": "sequence"}'), "no column"),
        (GOOD.replace_schema_metadata({}), "lacks"),
        ("not a batch", "RecordBatch"),
    ],
)
def test_malformed(batch, needle):
    with pytest.raises(ChunkError, match=needle):
        parse_chunk(batch)
