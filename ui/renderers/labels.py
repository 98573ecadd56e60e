"""Text labels of instances (``labels=``), drawn with ImGui's draw list over a view's image.

At most ``MAX_LABELS`` per view and frame (the first ones on screen, in data order), so 100k
labelled points cost one vectorised projection per camera move instead of 100k text draws.
"""

from __future__ import annotations

import numpy as np

MAX_LABELS = 100
_PAD = 3.0


def label_text(texts, i: int) -> str | None:
    """Label ``i`` of a ``pa.StringArray`` (converted one at a time) or a list."""
    got = texts[i]
    if hasattr(got, "as_py"):
        got = got.as_py()
    return None if got is None else str(got)


def rgba_u32(rgba) -> int:
    r, g, b, a = (int(x) for x in rgba)
    return (a << 24) | (b << 16) | (g << 8) | r


def collect(
    anchors: list[tuple[np.ndarray, np.ndarray, np.ndarray, object, np.ndarray]], size: tuple[float, float]
) -> list[tuple[float, float, str, np.ndarray]]:
    """``anchors``: per label set (screen x, screen y, visible mask, texts, colors); the first
    ``MAX_LABELS`` visible inside ``size`` as (x, y, text, rgba)."""
    items: list = []
    for sx, sy, ok, texts, colors in anchors:
        if len(items) >= MAX_LABELS:
            break
        inside = ok & (sx >= 0) & (sx < size[0]) & (sy >= 0) & (sy < size[1])
        for i in np.flatnonzero(inside):
            text = label_text(texts, int(i))
            if text:
                items.append((float(sx[i]), float(sy[i]), text, colors[i]))
                if len(items) >= MAX_LABELS:
                    break
    return items


class LabelLayout3D:
    """Screen positions of a 3D scene's labels, recomputed only when the scene, camera or size changed."""

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.items: list[tuple[float, float, str, np.ndarray]] = []

    def update(self, scene, version: int, view_proj: np.ndarray, size: tuple[int, int]) -> list:
        key = (id(scene), version, view_proj.tobytes(), tuple(size))
        if key != self.key:
            from ..scene import _project

            anchors = []
            for ls in scene.labels:
                sx, sy, z, ok = _project(ls.positions, view_proj, size)
                anchors.append((sx, sy, ok & (z >= -1.0) & (z <= 1.0), ls.texts, ls.colors))
            self.items = collect(anchors, size)
            self.key = key
        return self.items


def draw(dl, items: list, origin: tuple[float, float], size: tuple[float, float]) -> None:
    """Each label in a box of its instance's color, left edge just right of its anchor."""
    from imgui_bundle import imgui

    if not items:
        return
    ox, oy = origin
    dl.push_clip_rect(imgui.ImVec2(ox, oy), imgui.ImVec2(ox + size[0], oy + size[1]), True)
    for x, y, text, rgba in items:
        ts = imgui.calc_text_size(text)
        x0, y0 = ox + x + 6.0, oy + y - ts.y / 2 - _PAD
        bg = (int(rgba[0]), int(rgba[1]), int(rgba[2]), 255)
        light = 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2] > 140
        x1, y1 = x0 + ts.x + 2 * _PAD, y0 + ts.y + 2 * _PAD
        dl.add_rect_filled(imgui.ImVec2(x0, y0), imgui.ImVec2(x1, y1), rgba_u32(bg), 3.0)
        dl.add_text(imgui.ImVec2(x0 + _PAD, y0 + _PAD), 0xFF000000 if light else 0xFFFFFFFF, text)
    dl.pop_clip_rect()
