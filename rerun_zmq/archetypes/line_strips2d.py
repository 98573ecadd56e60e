"""LineStrips2D: a batch of 2-D polylines; each instance is one whole strip."""

from __future__ import annotations

from typing import Any

from .. import _components as c
from ._common import TableArchetype
from ._convert import line_strips


def _strips2d(value: Any):
    return line_strips(value, 2)


class LineStrips2D(TableArchetype):
    """2-D line strips: a list of ``(K, 2)`` arrays, or an ``(N, K, 2)`` array of N strips.

    ``LineStrips2D:strips`` has element type ``list<fixed_size_list<float32>[2]>``.
    """

    archetype_name = "LineStrips2D"
    primary_field = "strips"
    _specs = {
        "strips": (c.STRIP2, _strips2d),
        "radii": (c.F32, c.radii),
        "colors": (c.COLOR, c.colors),
        "labels": (c.STRING, c.strings),
        "show_labels": (c.BOOL, c.bools),
        "draw_order": (c.F32, c.float32_one),
        "class_ids": (c.U16, c.ids_u16),
    }

    def __init__(
        self,
        strips: Any,
        *,
        radii: Any = None,
        colors: Any = None,
        labels: Any = None,
        show_labels: bool | None = None,
        draw_order: float | None = None,
        class_ids: Any = None,
    ) -> None:
        super().__init__()
        self._put("strips", strips)
        self._put("radii", radii)
        self._put("colors", colors)
        self._put("labels", labels)
        self._put("show_labels", show_labels)
        self._put("draw_order", draw_order)
        self._put("class_ids", class_ids)
