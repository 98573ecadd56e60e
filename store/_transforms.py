"""World transforms: compose every Transform3D (and Pinhole) from the root down an entity path.

``world_from_entity = world_from_parent @ parent_from_entity`` with
``parent_from_entity = T @ R @ S`` (``mat3x3`` replaces ``R @ S`` when logged). The latest
Transform3D *row* at an entity counts as a whole: its missing parts are identity, older rows'
parts are not mixed in. ``relation == "ChildFromParent"`` means the logged transform is inverted.
A Pinhole on a strict ancestor maps image points (u, v) to the camera ray at depth 1.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from rerun_zmq._entity_path import parent_paths

from ._query import Cell, latest_at

if TYPE_CHECKING:
    from ._store import TimelineStore

TRANSLATION = "Transform3D:translation"
AXIS_ANGLE = "Transform3D:rotation_axis_angle"
QUATERNION = "Transform3D:quaternion"
SCALE = "Transform3D:scale"
MAT3X3 = "Transform3D:mat3x3"
RELATION = "Transform3D:relation"
TRANSFORM_KEYS = [TRANSLATION, AXIS_ANGLE, QUATERNION, SCALE, MAT3X3, RELATION]
PINHOLE = "Pinhole:image_from_camera"


def _vec(cell: Cell | None, n: int) -> np.ndarray | None:
    if cell is None or len(cell.values) == 0:
        return None
    flat = cell.values.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
    return flat[:n] if len(flat) >= n else None


def axis_angle_matrix(axis: np.ndarray, angle: float) -> np.ndarray:
    norm = np.linalg.norm(axis)
    if norm == 0.0:
        return np.eye(3)
    x, y, z = axis / norm
    c, s, C = np.cos(angle), np.sin(angle), 1.0 - np.cos(angle)
    return np.array([
        [c + x * x * C, x * y * C - z * s, x * z * C + y * s],
        [y * x * C + z * s, c + y * y * C, y * z * C - x * s],
        [z * x * C - y * s, z * y * C + x * s, c + z * z * C],
    ])


def quaternion_matrix(q: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(q)
    if norm == 0.0:
        return np.eye(3)
    x, y, z, w = q / norm
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def transform_from_cells(cells: dict[str, Cell]) -> np.ndarray:
    """4x4 parent_from_entity of one Transform3D row."""
    out = np.eye(4)
    rot = np.eye(3)
    aa = _vec(cells.get(AXIS_ANGLE), 4)
    if aa is not None:
        rot = rot @ axis_angle_matrix(aa[:3], aa[3])
    q = _vec(cells.get(QUATERNION), 4)
    if q is not None:
        rot = rot @ quaternion_matrix(q)
    scale = _vec(cells.get(SCALE), 3)
    linear = rot @ np.diag(scale) if scale is not None else rot
    mat = _vec(cells.get(MAT3X3), 9)
    if mat is not None:
        linear = mat.reshape(3, 3).T  # column-major
    out[:3, :3] = linear
    tr = _vec(cells.get(TRANSLATION), 3)
    if tr is not None:
        out[:3, 3] = tr
    rel = cells.get(RELATION)
    if rel is not None and len(rel.values) and rel.values[0].as_py() == "ChildFromParent":
        out = np.linalg.inv(out)
    return out


def pinhole_camera_from_image(cell: Cell) -> np.ndarray:
    """4x4 mapping image (u, v, 1) to the camera-space point at depth 1."""
    k = _vec(cell, 9)
    out = np.eye(4)
    if k is not None:
        out[:3, :3] = np.linalg.inv(k.reshape(3, 3).T)
    return out


TRANSFORM_SET = frozenset([*TRANSFORM_KEYS, PINHOLE])


@lru_cache(maxsize=65536)
def parent_of(path: str) -> str | None:
    """The parent of a canonical path (None for the root)."""
    parents = parent_paths(path)
    return parents[-1] if parents else None

_CACHE_MAX = 65536


def _local(
    store: TimelineStore, path: str, timeline: str | None, t: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(parent_from_entity, camera_from_image) at ``path``; None where nothing applies."""
    ent = store._entities.get(path)
    if ent is None or TRANSFORM_SET.isdisjoint(ent.component_types):
        return None, None
    local = pin = None
    cells = latest_at(store, path, timeline, t, TRANSFORM_KEYS)
    if cells:
        newest = max(c.index for c in cells.values())
        local = transform_from_cells({k: c for k, c in cells.items() if c.index == newest})
    got = latest_at(store, path, timeline, t, [PINHOLE])
    if got:
        pin = pinhole_camera_from_image(got[PINHOLE])
    return local, pin


def _world(store: TimelineStore, path: str, timeline: str | None, t: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(world_from_entity, its camera_from_image or None), memoized per store transform generation."""
    cache = store._transform_cache
    key = (path, timeline, t)
    got = cache.get(key)
    if got is not None:
        return got
    local, pin = _local(store, path, timeline, t)
    parent = parent_of(path)
    if parent is not None:
        parent_world, parent_pin = _world(store, parent, timeline, t)
        world = parent_world if parent_pin is None else parent_world @ parent_pin
    else:
        world = np.eye(4)
    if local is not None:
        world = world @ local
    if len(cache) >= _CACHE_MAX:
        cache.clear()
    cache[key] = (world, pin)
    return world, pin


def world_transform(store: TimelineStore, path: str, timeline: str | None, t: int) -> np.ndarray:
    """``world_from_entity``: Pinholes of strict ancestors apply, the entity's own does not."""
    if store._transform_cache_gen != store._transform_gen:
        store._transform_cache.clear()
        store._transform_cache_gen = store._transform_gen
    return _world(store, path, timeline, t)[0].copy()
