"""Boxes3D: a batch of oriented 3-D boxes."""

from __future__ import annotations

from typing import Any

from .. import _components as c
from ..datatypes import FillMode, Quaternion, RotationAxisAngle
from ._common import TableArchetype, boxes_from_sizes
from ._convert import enum_names, quaternions, rotation_axis_angles


def _fill_mode(value: Any) -> list[str]:
    return enum_names(value, FillMode, "a FillMode")


class Boxes3D(TableArchetype):
    """3-D boxes given by ``half_sizes`` (or ``sizes``, optionally with ``mins``) and ``centers``.

    ``sizes`` become ``half_sizes = sizes / 2``; with ``mins``, ``centers = mins + sizes / 2``.
    ``rotations`` routes ``RotationAxisAngle`` values and ``Quaternion`` values to their components.
    """

    archetype_name = "Boxes3D"
    primary_field = "half_sizes"
    _specs = {
        "half_sizes": (c.VEC3, c.positions3d),
        "centers": (c.VEC3, c.positions3d),
        "rotation_axis_angles": (c.VEC4, rotation_axis_angles),
        "quaternions": (c.VEC4, quaternions),
        "colors": (c.COLOR, c.colors),
        "radii": (c.F32, c.radii),
        "fill_mode": (c.STRING, _fill_mode),
        "labels": (c.STRING, c.strings),
        "show_labels": (c.BOOL, c.bools),
        "class_ids": (c.U16, c.ids_u16),
    }

    def __init__(
        self,
        *,
        half_sizes: Any = None,
        sizes: Any = None,
        mins: Any = None,
        centers: Any = None,
        rotation_axis_angles: Any = None,
        quaternions: Any = None,
        rotations: Any = None,
        colors: Any = None,
        radii: Any = None,
        fill_mode: Any = None,
        labels: Any = None,
        show_labels: bool | None = None,
        class_ids: Any = None,
    ) -> None:
        super().__init__()
        half_sizes, centers = boxes_from_sizes(self, 3, half_sizes, sizes, mins, centers)
        if rotations is not None:
            first = rotations[0] if isinstance(rotations, list | tuple) and rotations else rotations
            if isinstance(first, Quaternion) and quaternions is None:
                quaternions = rotations
            elif isinstance(first, RotationAxisAngle) and rotation_axis_angles is None:
                rotation_axis_angles = rotations
            else:
                self._fail("rotations", TypeError("expected RotationAxisAngle or Quaternion values"))
        self._put("half_sizes", half_sizes)
        self._put("centers", centers)
        self._put("rotation_axis_angles", rotation_axis_angles)
        self._put("quaternions", quaternions)
        self._put("colors", colors)
        self._put("radii", radii)
        self._put("fill_mode", fill_mode)
        self._put("labels", labels)
        self._put("show_labels", show_labels)
        self._put("class_ids", class_ids)
