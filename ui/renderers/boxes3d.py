"""Boxes3D: the 12 edges of each box (centers, half sizes, rotations, per-box colors) as line segments."""

from __future__ import annotations

import numpy as np

from ..scene import Scene, _apply, _colors, _fsl

HALF_SIZES = "Boxes3D:half_sizes"
CENTERS = "Boxes3D:centers"
QUATERNIONS = "Boxes3D:quaternions"
AXIS_ANGLES = "Boxes3D:rotation_axis_angles"

_CORNERS = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float32)
_EDGES = np.array(
    [(0, 1), (2, 3), (4, 5), (6, 7), (0, 2), (1, 3), (4, 6), (5, 7), (0, 4), (1, 5), (2, 6), (3, 7)]
).reshape(-1)


def box_segments(centers: np.ndarray, half_sizes: np.ndarray, rotations: np.ndarray | None = None) -> np.ndarray:
    """(n, 3) centers and half sizes, optional (n, 3, 3) rotations -> (n * 24, 3) segment vertices."""
    local = half_sizes[:, None, :] * _CORNERS[None, :, :]
    if rotations is not None:
        local = np.einsum("nij,nkj->nki", rotations, local)
    corners = centers[:, None, :] + local
    return corners[:, _EDGES, :].reshape(-1, 3).astype(np.float32)


def _per_box(cells: dict, key: str, width: int, n: int, default: np.ndarray) -> np.ndarray | None:
    """One row per box: a single value applies to all; missing -> None."""
    got = cells.get(key)
    if got is None or len(got.values) == 0:
        return None
    vals = _fsl(got.values, width)
    out = np.repeat(default[None, :], n, axis=0).astype(np.float32)
    if len(vals) == 1:
        out[:] = vals[0]
    else:
        out[: min(n, len(vals))] = vals[:n]
    return out


def box_rotations(cells: dict, n: int) -> np.ndarray | None:
    """(n, 3, 3) rotation of each box from quaternions (xyzw) or axis-angles, or None."""
    from store._transforms import axis_angle_matrix, quaternion_matrix

    quats = _per_box(cells, QUATERNIONS, 4, n, np.array([0, 0, 0, 1], np.float32))
    if quats is not None:
        return np.stack([quaternion_matrix(q.astype(np.float64)) for q in quats])
    aas = _per_box(cells, AXIS_ANGLES, 4, n, np.array([0, 0, 1, 0], np.float32))
    if aas is not None:
        return np.stack([axis_angle_matrix(a[:3].astype(np.float64), float(a[3])) for a in aas])
    return None


def build(scene: Scene, path: str, cells: dict, world: np.ndarray) -> None:
    cell = cells.get(HALF_SIZES)
    if cell is None or len(cell.values) == 0:
        return
    half = _fsl(cell.values, 3)
    n = len(half)
    centers = _per_box(cells, CENTERS, 3, n, np.zeros(3, np.float32))
    centers = np.zeros((n, 3), np.float32) if centers is None else centers
    seg = _apply(world, box_segments(centers, half, box_rotations(cells, n)))
    colors = _colors(cells, "Boxes3D:colors", n, path)
    scene.lines.add(path, seg, np.repeat(colors, 24, axis=0))
    scene._grow(path, seg)
