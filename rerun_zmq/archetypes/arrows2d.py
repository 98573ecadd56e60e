"""Arrows2D: a batch of 2-D arrows, each a vector drawn from an origin."""

from __future__ import annotations

from typing import Any

from .. import _components as c
from ._common import TableArchetype


class Arrows2D(TableArchetype):
    """2-D arrows: ``vectors`` ``(N, 2)`` drawn from ``origins`` (default: the entity's origin)."""

    archetype_name = "Arrows2D"
    primary_field = "vectors"
    _specs = {
        "vectors": (c.VEC2, c.positions2d),
        "origins": (c.VEC2, c.positions2d),
        "radii": (c.F32, c.radii),
        "colors": (c.COLOR, c.colors),
        "labels": (c.STRING, c.strings),
        "show_labels": (c.BOOL, c.bools),
        "draw_order": (c.F32, c.float32_one),
        "class_ids": (c.U16, c.ids_u16),
    }

    def __init__(
        self,
        *,
        vectors: Any,
        origins: Any = None,
        radii: Any = None,
        colors: Any = None,
        labels: Any = None,
        show_labels: bool | None = None,
        draw_order: float | None = None,
        class_ids: Any = None,
    ) -> None:
        super().__init__()
        self._put("vectors", vectors)
        self._put("origins", origins)
        self._put("radii", radii)
        self._put("colors", colors)
        self._put("labels", labels)
        self._put("show_labels", show_labels)
        self._put("draw_order", draw_order)
        self._put("class_ids", class_ids)
