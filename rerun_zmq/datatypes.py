"""Small value types used as archetype inputs: rotations, angles, enumerations."""

from __future__ import annotations

import math
from enum import Enum
from typing import Any

import numpy as np


class Angle:
    """An angle, given in radians (``rad=``) or degrees (``deg=``); stored in radians."""

    __slots__ = ("radians",)

    def __init__(self, rad: float | None = None, deg: float | None = None) -> None:
        if (rad is None) == (deg is None):
            raise TypeError("Angle needs exactly one of rad= or deg=")
        self.radians = float(rad) if rad is not None else math.radians(float(deg))  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Angle(rad={self.radians})"


class RotationAxisAngle:
    """A rotation of ``angle`` around ``axis`` (kept as given, not normalised).

    The angle is one of ``angle`` (an ``Angle`` or radians), ``radians=`` or ``degrees=``.
    """

    __slots__ = ("axis", "radians")

    def __init__(
        self,
        axis: Any,
        angle: Angle | float | None = None,
        *,
        radians: float | None = None,
        degrees: float | None = None,
    ) -> None:
        given = [a for a in (angle, radians, degrees) if a is not None]
        if len(given) != 1:
            raise TypeError("RotationAxisAngle needs exactly one of angle, radians= or degrees=")
        arr = np.array(axis, dtype=np.float32)
        if arr.shape != (3,):
            raise ValueError(f"RotationAxisAngle: expected an axis of 3 numbers, got shape {arr.shape}")
        self.axis = arr
        if isinstance(angle, Angle):
            self.radians = angle.radians
        elif angle is not None:
            self.radians = float(angle)
        elif radians is not None:
            self.radians = float(radians)
        else:
            self.radians = math.radians(float(degrees))  # type: ignore[arg-type]

    def as_array(self) -> np.ndarray:
        """``[x, y, z, radians]`` as float32."""
        return np.array((*self.axis, self.radians), dtype=np.float32)

    def __repr__(self) -> str:
        return f"RotationAxisAngle(axis={self.axis.tolist()}, radians={self.radians})"


class Quaternion:
    """A rotation quaternion in ``xyzw`` order (kept as given, not normalised)."""

    __slots__ = ("xyzw",)

    def __init__(self, *, xyzw: Any) -> None:
        arr = np.array(xyzw, dtype=np.float32)
        if arr.shape != (4,):
            raise ValueError(f"Quaternion: expected xyzw of 4 numbers, got shape {arr.shape}")
        self.xyzw = arr

    IDENTITY: Quaternion

    def as_array(self) -> np.ndarray:
        return self.xyzw.copy()

    def __repr__(self) -> str:
        return f"Quaternion(xyzw={self.xyzw.tolist()})"


Quaternion.IDENTITY = Quaternion(xyzw=[0.0, 0.0, 0.0, 1.0])


class TransformRelation(str, Enum):
    """Which way a ``Transform3D`` maps: stored as its name."""

    ParentFromChild = "ParentFromChild"
    ChildFromParent = "ChildFromParent"

    def __str__(self) -> str:
        return self.value


class TextLogLevel(str):
    """A log level for ``TextLog``: any string, with the usual ones as constants."""

    CRITICAL: TextLogLevel
    ERROR: TextLogLevel
    WARN: TextLogLevel
    INFO: TextLogLevel
    DEBUG: TextLogLevel
    TRACE: TextLogLevel


for _name in ("CRITICAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"):
    setattr(TextLogLevel, _name, TextLogLevel(_name))


class FillMode(str, Enum):
    """How ``Boxes3D`` are drawn: stored as its name."""

    MajorWireframe = "MajorWireframe"
    DenseWireframe = "DenseWireframe"
    Solid = "Solid"

    def __str__(self) -> str:
        return self.value


class Box2DFormat(str, Enum):
    """Layout of the ``array=`` rows given to ``Boxes2D``."""

    XYWH = "XYWH"
    YXHW = "YXHW"
    XYXY = "XYXY"
    YXYX = "YXYX"
    XCYCWH = "XCYCWH"
    XCYCW2H2 = "XCYCW2H2"

    def __str__(self) -> str:
        return self.value


class MediaType(str):
    """A MIME type string, with the common ones as constants (``MediaType.MARKDOWN``, ...)."""

    TEXT: MediaType
    MARKDOWN: MediaType
    JPEG: MediaType
    PNG: MediaType
    GLB: MediaType
    GLTF: MediaType
    OBJ: MediaType
    STL: MediaType
    MP4: MediaType


for _name, _mime in {
    "TEXT": "text/plain",
    "MARKDOWN": "text/markdown",
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GLB": "model/gltf-binary",
    "GLTF": "model/gltf+json",
    "OBJ": "model/obj",
    "STL": "model/stl",
    "MP4": "video/mp4",
}.items():
    setattr(MediaType, _name, MediaType(_mime))


__all__ = [
    "Angle",
    "Box2DFormat",
    "FillMode",
    "MediaType",
    "Quaternion",
    "RotationAxisAngle",
    "TextLogLevel",
    "TransformRelation",
]
