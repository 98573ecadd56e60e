"""LineStrips3D: a batch of 3-D polylines; each instance is one whole strip."""

from __future__ import annotations

from typing import Any

from .. import _components as c
from ._common import TableArchetype
from ._convert import line_strips


def _strips3d(value: Any):
    return line_strips(value, 3)


class LineStrips3D(TableArchetype):
    """3-D line strips: a list of ``(K, 3)`` arrays, or an ``(N, K, 3)`` array of N strips.

    ``LineStrips3D:strips`` has element type ``list<fixed_size_list<float32>[3]>``.
    """

    archetype_name = "LineStrips3D"
    primary_field = "strips"
    _specs = {
        "strips": (c.STRIP3, _strips3d),
        "radii": (c.F32, c.radii),
        "colors": (c.COLOR, c.colors),
        "labels": (c.STRING, c.strings),
        "show_labels": (c.BOOL, c.bools),
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
        class_ids: Any = None,
    ) -> None:
        super().__init__()
        self._put("strips", strips)
        self._put("radii", radii)
        self._put("colors", colors)
        self._put("labels", labels)
        self._put("show_labels", show_labels)
        self._put("class_ids", class_ids)
