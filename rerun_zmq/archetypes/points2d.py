"""Points2D: a batch of 2-D points with optional per-point radii, colors, labels and ids."""

from __future__ import annotations

from typing import Any

from .. import _components as c
from ._common import TableArchetype


class Points2D(TableArchetype):
    """2-D points; ``positions`` is an ``(N, 2)`` array (or N 2-sequences, or one point)."""

    archetype_name = "Points2D"
    primary_field = "positions"
    _specs = {
        "positions": (c.VEC2, c.positions2d),
        "radii": (c.F32, c.radii),
        "colors": (c.COLOR, c.colors),
        "labels": (c.STRING, c.strings),
        "show_labels": (c.BOOL, c.bools),
        "draw_order": (c.F32, c.float32_one),
        "class_ids": (c.U16, c.ids_u16),
        "keypoint_ids": (c.U16, c.ids_u16),
    }

    def __init__(
        self,
        positions: Any,
        *,
        radii: Any = None,
        colors: Any = None,
        labels: Any = None,
        show_labels: bool | None = None,
        draw_order: float | None = None,
        class_ids: Any = None,
        keypoint_ids: Any = None,
    ) -> None:
        super().__init__()
        self._put("positions", positions)
        self._put("radii", radii)
        self._put("colors", colors)
        self._put("labels", labels)
        self._put("show_labels", show_labels)
        self._put("draw_order", draw_order)
        self._put("class_ids", class_ids)
        self._put("keypoint_ids", keypoint_ids)
