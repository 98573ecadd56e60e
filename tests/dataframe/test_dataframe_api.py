"""``Recording`` time conversions and component selection, over a store built in memory."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from rerun_zmq._chunk import build_chunk
from rerun_zmq.dataframe import Recording
from store import TimelineStore


@pytest.fixture
def rec():
    store = TimelineStore()
    n = 5
    rids = np.stack([np.arange(1, n + 1), np.zeros(n)], 1).astype(np.uint64)
    timelines = {"frame": ("sequence", np.arange(n)), "time": ("duration", np.arange(n) * 1_000_000_000)}
    comps = {"Points3D:positions": (pa.list_(pa.float32(), 3), pa.array([[i, 0, 0] for i in range(n)],
                                                                         pa.list_(pa.float32(), 3)), np.ones(n)),
             "Points3D:radii": (pa.float32(), pa.array(np.arange(n, dtype=np.float32)), np.ones(n))}
    store.insert(build_chunk("/p", rids, timelines, comps, ["Points3D"], False))
    return Recording("app", "rec", store)


@pytest.mark.parametrize("tl", ["frame", "time"])
def test_infinite_times_mean_the_whole_timeline(rec, tl):
    assert rec.range("/p", tl, -np.inf, float("inf")).num_rows == 5
    assert rec.range("/p", tl, start=float("-inf"), end=2).num_rows == 3
    assert rec.latest_at("/p", tl, float("inf"))["Points3D:radii"].tolist() == [4.0]
    assert rec.latest_at("/p", tl, -np.inf) == {}
    with pytest.raises(ValueError, match="NaN"):
        rec.latest_at("/p", tl, float("nan"))


def test_huge_seconds_clamp_to_the_timeline_end(rec):
    assert rec.latest_at("/p", "time", 1e300)["Points3D:radii"].tolist() == [4.0]
    assert rec.range("/p", "time", -1e300, 1e300).num_rows == 5


def test_an_empty_component_list_selects_nothing(rec):
    assert rec.latest_at("/p", "frame", 3, components=[]) == {}
    assert rec.range("/p", "frame", components=[]).column_names == ["frame"]
    assert list(rec.latest_at("/p", "frame", 3, components=["Points3D:radii"])) == ["Points3D:radii"]


def test_world_transform_of_an_unknown_entity_is_an_error(rec):
    """A misspelt path used to answer the identity, as if the entity had no transform."""
    from store import UnknownEntityError

    with pytest.raises(UnknownEntityError):
        rec.world_transform("/q", "frame", 1)
    assert np.allclose(rec.world_transform("/p", "frame", 1), np.eye(4))
    rec.store.insert(build_chunk("/r/s", np.array([[9, 0]], np.uint64), {"frame": ("sequence", np.array([0]))},
                                 {"Points3D:radii": (pa.float32(), pa.array([1.0], pa.float32()), np.ones(1))},
                                 ["Points3D"], False))
    assert np.allclose(rec.world_transform("/r", "frame", 1), np.eye(4))  # an implicit parent is known


def test_null_instances_of_fixed_size_components_read_as_nan():
    """``flatten()`` skips null instances, so reshaping raised a bare ValueError."""
    from rerun_zmq.dataframe import to_numpy

    vec3 = pa.list_(pa.float32(), 3)
    got = to_numpy(pa.array([[1, 2, 3], None, [4, 5, 6]], vec3), "Points3D:positions")
    assert got.shape == (3, 3) and np.isnan(got[1]).all() and got[2].tolist() == [4, 5, 6]
    sliced = to_numpy(pa.array([[0, 0, 0], [1, 2, 3], None], vec3).slice(1), "Points3D:positions")
    assert sliced[0].tolist() == [1, 2, 3] and np.isnan(sliced[1]).all()
    ints = to_numpy(pa.array([[1, 2], None], pa.list_(pa.int32(), 2)), "X:y")
    assert ints[0].tolist() == [1.0, 2.0] and np.isnan(ints[1]).all()
