"""Arrows3D: a batch of 3-D arrows, each a vector drawn from an origin."""

from __future__ import annotations

from typing import Any

from .. import _components as c
from ._common import TableArchetype


class Arrows3D(TableArchetype):
    """3-D arrows: ``vectors`` ``(N, 3)`` drawn from ``origins`` (default: the entity's origin)."""

    archetype_name = "Arrows3D"
    primary_field = "vectors"
    _specs = {
        "vectors": (c.VEC3, c.positions3d),
        "origins": (c.VEC3, c.positions3d),
        "radii": (c.F32, c.radii),
        "colors": (c.COLOR, c.colors),
        "labels": (c.STRING, c.strings),
        "show_labels": (c.BOOL, c.bools),
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
        class_ids: Any = None,
    ) -> None:
        super().__init__()
        self._put("vectors", vectors)
        self._put("origins", origins)
        self._put("radii", radii)
        self._put("colors", colors)
        self._put("labels", labels)
        self._put("show_labels", show_labels)
        self._put("class_ids", class_ids)
