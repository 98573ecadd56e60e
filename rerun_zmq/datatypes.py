"""Small value types used as archetype inputs: rotations, angles, enumerations, annotation classes."""

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


class AnnotationInfo:
    """A class or keypoint of an ``AnnotationContext``: an id with an optional label and color.

    Kept as given; ``rr.AnnotationContext`` checks the values (so bad input follows the SDK's
    warn-or-raise policy instead of failing here).
    """

    __slots__ = ("id", "label", "color")

    def __init__(self, id: int, label: str | None = None, color: Any = None) -> None:  # noqa: A002
        self.id = id
        self.label = label
        self.color = color

    def __repr__(self) -> str:
        return f"AnnotationInfo(id={self.id!r}, label={self.label!r}, color={self.color!r})"


class KeypointPair:
    """Two keypoint ids of one class joined by a line (``ClassDescription.keypoint_connections``)."""

    __slots__ = ("keypoint0", "keypoint1")

    def __init__(self, keypoint0: int, keypoint1: int) -> None:
        self.keypoint0 = keypoint0
        self.keypoint1 = keypoint1

    def __repr__(self) -> str:
        return f"KeypointPair({self.keypoint0!r}, {self.keypoint1!r})"


class ClassDescription:
    """A class (``info``) with its keypoints' annotations and the keypoint pairs drawn as lines.

    ``info`` and each keypoint annotation: an ``AnnotationInfo`` or an ``(id, label[, color])``
    tuple; each connection: a ``KeypointPair`` or an ``(id0, id1)`` pair.
    """

    __slots__ = ("info", "keypoint_annotations", "keypoint_connections")

    def __init__(self, *, info: Any, keypoint_annotations: Any = None, keypoint_connections: Any = None) -> None:
        self.info = info
        self.keypoint_annotations = [] if keypoint_annotations is None else keypoint_annotations
        self.keypoint_connections = [] if keypoint_connections is None else keypoint_connections

    def __repr__(self) -> str:
        return (
            f"ClassDescription(info={self.info!r}, keypoint_annotations={self.keypoint_annotations!r}, "
            f"keypoint_connections={self.keypoint_connections!r})"
        )


class ClassDescriptionMapElem:
    """A ``ClassDescription`` keyed by ``class_id`` (the id wins over the description's own)."""

    __slots__ = ("class_id", "class_description")

    def __init__(self, class_id: int, class_description: Any) -> None:
        self.class_id = class_id
        self.class_description = class_description

    def __repr__(self) -> str:
        return f"ClassDescriptionMapElem(class_id={self.class_id!r}, class_description={self.class_description!r})"


__all__ = [
    "Angle",
    "AnnotationInfo",
    "Box2DFormat",
    "ClassDescription",
    "ClassDescriptionMapElem",
    "FillMode",
    "KeypointPair",
    "MediaType",
    "Quaternion",
    "RotationAxisAngle",
    "TextLogLevel",
    "TransformRelation",
]
