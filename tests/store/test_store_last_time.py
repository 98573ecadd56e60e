"""TimelineStore.last_time: the newest row of one entity on one timeline."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from rerun_zmq._chunk import build_chunk
from store import TimelineStore


def _chunk(entity, times, static=False, first_id=1):
    n = len(times)
    rids = np.stack([np.arange(first_id, first_id + n), np.zeros(n)], 1).astype(np.uint64)
    tl = {} if static else {"t": ("sequence", np.asarray(times, np.int64))}
    comps = {"Scalars:scalars": (pa.float64(), pa.array(np.ones(n)), np.ones(n, np.int64))}
    return build_chunk(entity, rids, tl, comps, ["Scalars"], static)


def test_last_time_per_entity_and_timeline():
    st = TimelineStore()
    st.insert(_chunk("/a", [5, 1, 9], first_id=1))
    st.insert(_chunk("/a", [3], first_id=10))
    st.insert(_chunk("/b", [0], static=True, first_id=20))
    assert st.last_time("/a", "t") == 9
    assert st.last_time("a", "t") == 9
    assert st.last_time("/b", "t") is None  # static only
    assert st.last_time("/nobody", "t") is None
    assert st.last_time("/a", "other") is None
