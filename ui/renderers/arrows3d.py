"""Arrows3D: a shaft from each origin along its vector plus a four-line head, ``radii`` wide."""

from __future__ import annotations

import numpy as np

from ..scene import DEFAULT_LINE_RADIUS, Scene, _apply, _colors, _floats, _fsl, labels_of, world_radii

VECTORS = "Arrows3D:vectors"
ORIGINS = "Arrows3D:origins"


def arrow_segments(origins: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """(n, 3) origins and vectors -> (n * 10, 3) segment vertices: shaft + 4 head lines."""
    tips = origins + vectors
    length = np.linalg.norm(vectors, axis=1, keepdims=True)
    d = vectors / np.maximum(length, 1e-12)
    helper = np.where(np.abs(d[:, 2:3]) < 0.9, [[0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]])
    u = np.cross(d, helper)
    u /= np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-12)
    v = np.cross(d, u)
    back = tips - d * length * 0.15
    w = length * 0.06
    out = [origins, tips]
    for side in (u, -u, v, -v):
        out += [tips, back + side * w]
    return np.stack(out, axis=1).reshape(-1, 3).astype(np.float32)


def build(scene: Scene, path: str, cells: dict, world: np.ndarray) -> None:
    cell = cells.get(VECTORS)
    if cell is None or len(cell.values) == 0:
        return
    vectors = _fsl(cell.values, 3)
    n = len(vectors)
    origins = np.zeros((n, 3), dtype=np.float32)
    got = cells.get(ORIGINS)
    if got is not None and len(got.values):
        o = _fsl(got.values, 3)
        if len(o) == 1:
            origins[:] = o[0]
        else:
            origins[: min(n, len(o))] = o[:n]
    seg = _apply(world, arrow_segments(origins, vectors))
    colors = _colors(cells, "Arrows3D:colors", n, path)
    radii = world_radii(_floats(cells, "Arrows3D:radii", n, DEFAULT_LINE_RADIUS), world)
    scene.lines.add(path, seg, np.repeat(colors, 10, axis=0), np.repeat(radii, 10), np.repeat(np.arange(n), 10))
    scene.add_labels(path, labels_of(cells, "Arrows3D"), _apply(world, origins + vectors * 0.5), colors)
    scene._grow(path, seg)
