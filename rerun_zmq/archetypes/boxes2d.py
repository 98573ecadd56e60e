"""Boxes2D: a batch of axis-aligned 2-D boxes."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _components as c
from ..datatypes import Box2DFormat
from ._common import TableArchetype, boxes_from_sizes
from ._convert import enum_names


def _from_array(array: Any, array_format: Any) -> tuple[np.ndarray, np.ndarray]:
    """Rows of 4 numbers in ``array_format`` -> (half_sizes, centers)."""
    fmt = enum_names(array_format, Box2DFormat, "a Box2DFormat")[0]
    rows = c.vectors(array, 4)
    a, b, p, q = rows.T
    if fmt == "XYWH":
        half = np.stack([p, q], 1) / 2
        return half, np.stack([a, b], 1) + half
    if fmt == "YXHW":
        half = np.stack([q, p], 1) / 2
        return half, np.stack([b, a], 1) + half
    if fmt == "XYXY":
        return np.stack([p - a, q - b], 1) / 2, np.stack([a + p, b + q], 1) / 2
    if fmt == "YXYX":
        return np.stack([q - b, p - a], 1) / 2, np.stack([b + q, a + p], 1) / 2
    if fmt == "XCYCWH":
        return np.stack([p, q], 1) / 2, np.stack([a, b], 1)
    return np.stack([p, q], 1), np.stack([a, b], 1)  # XCYCW2H2


class Boxes2D(TableArchetype):
    """2-D boxes by ``half_sizes`` / ``sizes`` / ``mins`` / ``centers``, or ``array`` + ``array_format``.

    ``array`` rows are 4 numbers laid out as ``array_format`` says (a ``Box2DFormat`` or its name).
    """

    archetype_name = "Boxes2D"
    primary_field = "half_sizes"
    _specs = {
        "half_sizes": (c.VEC2, c.positions2d),
        "centers": (c.VEC2, c.positions2d),
        "colors": (c.COLOR, c.colors),
        "radii": (c.F32, c.radii),
        "labels": (c.STRING, c.strings),
        "show_labels": (c.BOOL, c.bools),
        "draw_order": (c.F32, c.float32_one),
        "class_ids": (c.U16, c.ids_u16),
    }

    def __init__(
        self,
        *,
        sizes: Any = None,
        mins: Any = None,
        half_sizes: Any = None,
        centers: Any = None,
        array: Any = None,
        array_format: Any = None,
        radii: Any = None,
        colors: Any = None,
        labels: Any = None,
        show_labels: bool | None = None,
        draw_order: float | None = None,
        class_ids: Any = None,
    ) -> None:
        super().__init__()
        if array is not None:
            if any(v is not None for v in (sizes, mins, half_sizes, centers)):
                self._fail(
                    "half_sizes", TypeError("array= cannot be combined with sizes/mins/half_sizes/centers")
                )
            elif array_format is None:
                self._fail("half_sizes", TypeError("array= needs array_format= (a Box2DFormat)"))
            else:
                try:
                    half_sizes, centers = _from_array(array, array_format)
                except (ValueError, TypeError) as exc:
                    self._fail("half_sizes", exc)
        else:
            half_sizes, centers = boxes_from_sizes(self, 2, half_sizes, sizes, mins, centers)
        self._put("half_sizes", half_sizes)
        self._put("centers", centers)
        self._put("colors", colors)
        self._put("radii", radii)
        self._put("labels", labels)
        self._put("show_labels", show_labels)
        self._put("draw_order", draw_order)
        self._put("class_ids", class_ids)
