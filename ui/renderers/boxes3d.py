"""Boxes3D: the 12 edges of each box (centers, half sizes, per-box colors) as line segments."""

from __future__ import annotations

import numpy as np

from ..scene import Scene, _apply, _colors, _fsl

HALF_SIZES = "Boxes3D:half_sizes"
CENTERS = "Boxes3D:centers"

_CORNERS = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float32)
_EDGES = np.array(
    [(0, 1), (2, 3), (4, 5), (6, 7), (0, 2), (1, 3), (4, 6), (5, 7), (0, 4), (1, 5), (2, 6), (3, 7)]
).reshape(-1)


def box_segments(centers: np.ndarray, half_sizes: np.ndarray) -> np.ndarray:
    """(n, 3) centers and half sizes -> (n * 24, 3) segment vertices."""
    corners = centers[:, None, :] + half_sizes[:, None, :] * _CORNERS[None, :, :]
    return corners[:, _EDGES, :].reshape(-1, 3).astype(np.float32)


def build(scene: Scene, path: str, cells: dict, world: np.ndarray) -> None:
    cell = cells.get(HALF_SIZES)
    if cell is None or len(cell.values) == 0:
        return
    half = _fsl(cell.values, 3)
    n = len(half)
    centers = np.zeros((n, 3), dtype=np.float32)
    got = cells.get(CENTERS)
    if got is not None and len(got.values):
        c = _fsl(got.values, 3)
        centers[:] = c[0] if len(c) == 1 else 0.0
        if len(c) > 1:
            centers[: min(n, len(c))] = c[:n]
    seg = _apply(world, box_segments(centers, half))
    colors = _colors(cells, "Boxes3D:colors", n, path)
    scene.lines.add(path, seg, np.repeat(colors, 24, axis=0))
    scene._grow(path, seg)
