"""Points3D: a batch of 3-D points with optional per-point radii, colors, labels and ids."""

from __future__ import annotations

from typing import Any

from .. import _components as c
from ._common import TableArchetype


class Points3D(TableArchetype):
    """3-D points; ``positions`` is an ``(N, 3)`` array (or N 3-sequences, or one point)."""

    archetype_name = "Points3D"
    primary_field = "positions"
    _specs = {
        "positions": (c.VEC3, c.positions3d),
        "radii": (c.F32, c.radii),
        "colors": (c.COLOR, c.colors),
        "labels": (c.STRING, c.strings),
        "show_labels": (c.BOOL, c.bools),
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
        class_ids: Any = None,
        keypoint_ids: Any = None,
    ) -> None:
        super().__init__()
        self._put("positions", positions)
        self._put("radii", radii)
        self._put("colors", colors)
        self._put("labels", labels)
        self._put("show_labels", show_labels)
        self._put("class_ids", class_ids)
        self._put("keypoint_ids", keypoint_ids)
