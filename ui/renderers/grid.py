"""The ground grid on the XY plane and the world axes (X red, Y green, Z blue)."""

from __future__ import annotations

import math

import numpy as np

from .linestrips3d import LinesRenderer

GRID_COLOR = (70, 70, 78, 255)


def grid_lines(extent: float) -> tuple[np.ndarray, np.ndarray]:
    """Grid with a power-of-ten spacing suited to ``extent``, plus axes of length ``extent / 2``."""
    step = 10.0 ** math.floor(math.log10(max(extent, 1e-6) / 5.0))
    n = math.ceil(extent / step)
    ticks = np.arange(-n, n + 1, dtype=np.float32) * step
    half = n * step
    segs = []
    for t in ticks:
        segs += [(t, -half, 0.0), (t, half, 0.0), (-half, t, 0.0), (half, t, 0.0)]
    colors = [GRID_COLOR] * len(segs)
    a = extent / 2.0
    for axis, color in ((0, (230, 60, 60, 255)), (1, (60, 200, 60, 255)), (2, (70, 110, 240, 255))):
        end = [0.0, 0.0, 0.0]
        end[axis] = a
        segs += [(0.0, 0.0, 0.0), tuple(end)]
        colors += [color, color]
    return np.asarray(segs, dtype=np.float32), np.asarray(colors, dtype=np.uint8)


class GridRenderer:
    """Rebuilds its lines only when the scale of the scene changes by a power of ten."""

    def __init__(self, ctx) -> None:
        self.lines = LinesRenderer(ctx)
        self.extent: float | None = None

    def draw(self, view_proj: np.ndarray, extent: float, proj: np.ndarray, size: tuple[int, int]) -> None:
        extent = 10.0 ** math.ceil(math.log10(max(extent, 1e-3)))
        if extent != self.extent:
            self.lines.upload(*grid_lines(extent))
            self.extent = extent
        self.lines.draw(view_proj, proj, size)

    def release(self) -> None:
        self.lines.release()
