"""world_transform: Transform3D rows composed from the root down, Pinhole, relation, Clears."""

from __future__ import annotations

from math import pi

import numpy as np
import pyarrow as pa
import pytest

from rerun_zmq._chunk import build_chunk
from store import TimelineStore
from store._transforms import axis_angle_matrix, quaternion_matrix

F32 = pa.float32()
_rid = iter(range(1, 10_000))


def _log(store, entity, frame, archetype="Transform3D", static=False, **fields):
    comps = {}
    for name, value in fields.items():
        if isinstance(value, str):
            comps[f"{archetype}:{name}"] = (pa.string(), pa.array([value]), np.array([1]))
        elif isinstance(value, bool):
            comps[f"{archetype}:{name}"] = (pa.bool_(), pa.array([value]), np.array([1]))
        else:
            flat = np.asarray(value, dtype=np.float32).reshape(-1)
            typ = pa.list_(F32, len(flat))
            comps[f"{archetype}:{name}"] = (typ, pa.FixedSizeListArray.from_arrays(pa.array(flat), len(flat)),
                                            np.array([1]))
    times = {} if static else {"frame": ("sequence", np.array([frame]))}
    rid = np.array([[next(_rid), 0]], dtype=np.uint64)
    store.insert(build_chunk(entity, rid, times, comps, [archetype], static))


def _trs(t=(0, 0, 0), r=None, s=(1, 1, 1)):
    r = np.eye(3) if r is None else r
    m = np.eye(4)
    m[:3, :3] = r @ np.diag(s)
    m[:3, 3] = t
    return m


def test_hierarchy_composes_translation_rotation_scale():
    store = TimelineStore()
    rot = axis_angle_matrix(np.array([0.0, 0.0, 1.0]), pi / 2)
    _log(store, "/world/robot", 0, translation=[1, 2, 3], rotation_axis_angle=[0, 0, 1, pi / 2], scale=[2, 2, 2])
    _log(store, "/world/robot/arm", 0, translation=[1, 0, 0])
    want = _trs((1, 2, 3), rot, (2, 2, 2)) @ _trs((1, 0, 0))
    assert np.allclose(store.world_transform("/world/robot/arm", "frame", 5), want, atol=1e-6)
    assert np.allclose(store.world_transform("world/robot/arm/hand", "frame", 5), want, atol=1e-6)
    assert np.allclose(store.world_transform("/world/robot/arm", "frame", -1), np.eye(4))


def test_latest_row_counts_whole():
    store = TimelineStore()
    _log(store, "/a", 0, translation=[1, 0, 0], rotation_axis_angle=[0, 0, 1, 1.0])
    _log(store, "/a", 5, translation=[0, 1, 0])  # rotation not logged in this row: identity
    assert np.allclose(store.world_transform("/a", "frame", 2)[:3, :3], axis_angle_matrix(np.array([0, 0, 1.0]), 1.0))
    assert np.allclose(store.world_transform("/a", "frame", 6), _trs((0, 1, 0)))


def test_quaternion_mat3x3_and_relation():
    store = TimelineStore()
    q = [0.0, 0.0, np.sin(pi / 8), np.cos(pi / 8)]  # 45 degrees about z
    _log(store, "/q", 0, quaternion=q)
    want = axis_angle_matrix(np.array([0, 0, 1.0]), pi / 4)
    assert np.allclose(quaternion_matrix(np.array(q)), want)
    assert np.allclose(store.world_transform("/q", "frame", 0)[:3, :3], want, atol=1e-6)
    m = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 10]], dtype=np.float64)
    _log(store, "/m", 0, mat3x3=m.T.reshape(-1), scale=[5, 5, 5])  # column-major; replaces R.S
    assert np.allclose(store.world_transform("/m", "frame", 0)[:3, :3], m)
    _log(store, "/inv", 0, translation=[1, 2, 3], relation="ChildFromParent")
    assert np.allclose(store.world_transform("/inv", "frame", 0), _trs((-1, -2, -3)))


def test_recursive_clear_hides_parent_transform():
    store = TimelineStore()
    _log(store, "/p", 0, translation=[1, 0, 0])
    _log(store, "/p/c", 0, translation=[0, 1, 0])
    _log(store, "/p", 10, archetype="Clear", is_recursive=True)
    assert np.allclose(store.world_transform("/p/c", "frame", 5), _trs((1, 1, 0)))
    assert np.allclose(store.world_transform("/p/c", "frame", 10), np.eye(4))


def test_static_transform_and_pinhole_on_an_ancestor():
    store = TimelineStore()
    _log(store, "/cam", 0, static=True, translation=[0, 0, -5])
    k = np.array([[100.0, 0, 50], [0, 100, 40], [0, 0, 1]])
    _log(store, "/cam", 0, archetype="Pinhole", image_from_camera=k.T.reshape(-1), resolution=[100, 80])
    assert np.allclose(store.world_transform("/cam", "frame", 3), _trs((0, 0, -5)))
    img = store.world_transform("/cam/image", "frame", 3)
    point = img @ np.array([150.0, 40.0, 1.0, 1.0])  # one focal length right of the center
    assert np.allclose(point[:3], [1.0, 0.0, -4.0])
    assert np.allclose(store.world_transform("/cam", None, 0), _trs((0, 0, -5)))


@pytest.mark.parametrize("axis", [[1, 0, 0], [0, 1, 0], [1, 1, 1]])
def test_axis_angle_is_a_rotation(axis):
    r = axis_angle_matrix(np.array(axis, dtype=float), 0.7)
    assert np.allclose(r @ r.T, np.eye(3)) and np.isclose(np.linalg.det(r), 1.0)
    assert np.allclose(r @ np.array(axis, dtype=float), axis)


def test_memoized_world_transforms_follow_new_data():
    store = TimelineStore()
    _log(store, "/a", 0, translation=[1, 0, 0])
    _log(store, "/a/b", 0, archetype="Points3D", positions=[0, 0, 0])
    assert np.allclose(store.world_transform("/a/b", "frame", 10), _trs((1, 0, 0)))
    _log(store, "/a", 5, translation=[2, 0, 0])  # arrives after the answer was memoized
    assert np.allclose(store.world_transform("/a/b", "frame", 10), _trs((2, 0, 0)))
    assert np.allclose(store.world_transform("/a/b", "frame", 4), _trs((1, 0, 0)))
    _log(store, "/a", 7, archetype="Clear", is_recursive=False)
    assert np.allclose(store.world_transform("/a/b", "frame", 10), np.eye(4))
    m = store.world_transform("/a/b", "frame", 4)
    m[0, 3] = 99.0  # callers get a copy
    assert np.allclose(store.world_transform("/a/b", "frame", 4), _trs((1, 0, 0)))
