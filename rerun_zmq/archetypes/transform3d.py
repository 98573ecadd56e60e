"""Transform3D: the affine transform from an entity's space to its parent's (or back)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _components as c
from ..datatypes import Quaternion, RotationAxisAngle, TransformRelation
from ._common import BATCH_OF, Converter, TableArchetype
from ._convert import enum_names, mat3x3, quaternions, rotation_axis_angles, scale3


def _one(convert: Converter) -> Converter:
    """``convert`` limited to exactly one value; ``columns`` uses ``convert`` itself."""

    def one(value: Any) -> Any:
        arr = convert(value)
        if len(arr) != 1:
            raise ValueError(f"expected one value, got {len(arr)}")
        return arr

    BATCH_OF[one] = convert
    return one


def _relations(value: Any) -> list[str]:
    return enum_names(value, TransformRelation, "a TransformRelation")


_relation = _one(_relations)


class Transform3D(TableArchetype):
    """A 3-D transform; only the fields given are logged.

    Components: ``translation`` and ``scale`` (fsl<float32>[3]), ``rotation_axis_angle``
    (fsl<float32>[4]: axis xyz as given + radians), ``quaternion`` (fsl<float32>[4], xyzw),
    ``mat3x3`` (fsl<float32>[9], column-major; pass it row by row as usual), ``relation``
    (string ``"ParentFromChild"``, the default meaning, or ``"ChildFromParent"``) and ``axis_length``.
    """

    archetype_name = "Transform3D"
    primary_field = None
    _specs = {
        "translation": (c.VEC3, c.vec3),
        "rotation_axis_angle": (c.VEC4, _one(rotation_axis_angles)),
        "quaternion": (c.VEC4, _one(quaternions)),
        "scale": (c.VEC3, scale3),
        "mat3x3": (c.MAT3, mat3x3),
        "relation": (c.STRING, _relation),
        "axis_length": (c.F32, c.float32_one),
    }

    def __init__(
        self,
        *,
        translation: Any = None,
        rotation: RotationAxisAngle | Quaternion | None = None,
        rotation_axis_angle: Any = None,
        quaternion: Any = None,
        scale: Any = None,
        mat3x3: Any = None,
        from_parent: bool | None = None,
        relation: Any = None,
        axis_length: float | None = None,
    ) -> None:
        super().__init__()
        if rotation is not None:
            if isinstance(rotation, RotationAxisAngle) and rotation_axis_angle is None:
                rotation_axis_angle = rotation
            elif isinstance(rotation, Quaternion) and quaternion is None:
                quaternion = rotation
            else:
                self._fail(
                    "rotation",
                    TypeError(
                        "expected a RotationAxisAngle or a Quaternion (not also given as "
                        f"rotation_axis_angle=/quaternion=), got {type(rotation).__name__}"
                    ),
                )
        if from_parent is not None:
            if relation is not None:
                self._fail("relation", TypeError("give only one of from_parent= or relation="))
                relation = None
            elif type(from_parent) not in (bool, np.bool_):
                got = type(from_parent).__name__
                self._fail("relation", TypeError(f"from_parent must be True or False, got {got}"))
            else:
                relation = (
                    TransformRelation.ChildFromParent if from_parent else TransformRelation.ParentFromChild
                )
        self._put("translation", translation)
        self._put("rotation_axis_angle", rotation_axis_angle)
        self._put("quaternion", quaternion)
        self._put("scale", scale)
        self._put("mat3x3", mat3x3)
        self._put("relation", relation)
        self._put("axis_length", axis_length)
