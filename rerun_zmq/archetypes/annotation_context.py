"""AnnotationContext: labels, colors and keypoint skeletons of class ids, for an entity subtree.

Stored as one component, ``AnnotationContext:context``, whose instances are class descriptions
(``CLASS_DESCRIPTION``); the viewer resolves an entity's ``class_ids``/``keypoint_ids`` against the
context logged on the entity itself or its nearest ancestor that has one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from typing import Any

import numpy as np
import pyarrow as pa

from .. import _components as c
from ..datatypes import AnnotationInfo, ClassDescription, ClassDescriptionMapElem, KeypointPair
from ._base import ComponentColumn, ComponentColumnList
from ._common import TableArchetype

ANNOTATION_INFO = pa.struct(
    [pa.field("id", pa.uint16(), nullable=False), ("label", pa.string()), ("color", pa.uint32())]
)
KEYPOINT_PAIR = pa.struct(
    [pa.field("keypoint0", pa.uint16(), nullable=False), pa.field("keypoint1", pa.uint16(), nullable=False)]
)
#: one class: its id, optional label and packed 0xRRGGBBAA color, its keypoints and their connections
CLASS_DESCRIPTION = pa.struct(
    [
        pa.field("class_id", pa.uint16(), nullable=False),
        ("label", pa.string()),
        ("color", pa.uint32()),
        ("keypoint_annotations", pa.list_(ANNOTATION_INFO)),
        ("keypoint_connections", pa.list_(KEYPOINT_PAIR)),
    ]
)

_WHAT = (
    "class descriptions: (id, label) or (id, label, color) tuples, AnnotationInfo, ClassDescription "
    "or ClassDescriptionMapElem values"
)
_INFO = "an AnnotationInfo, an id, or an (id, label) / (id, label, color) tuple"


def _id(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"expected {what} as an integer in 0..65535, got {type(value).__name__}")
    if not 0 <= int(value) <= 0xFFFF:
        raise ValueError(f"expected {what} as an integer in 0..65535, got {int(value)}")
    return int(value)


def _info(value: Any) -> dict:
    """An ``AnnotationInfo``-like -> ``{"id", "label", "color"}`` (label/color may be None)."""
    ident: Any
    if isinstance(value, AnnotationInfo):
        ident, label, color = value.id, value.label, value.color
    elif isinstance(value, int | np.integer) and not isinstance(value, bool):
        ident, label, color = value, None, None
    elif isinstance(value, tuple | list) and 1 <= len(value) <= 3:
        ident, label, color = (*value, None, None)[:3]
    else:
        raise TypeError(f"expected {_INFO}, got {type(value).__name__}")
    if label is not None and not isinstance(label, str):
        raise TypeError(f"expected a label as a string or None, got {type(label).__name__}")
    packed = None if color is None else int(c.color_one(color)[0])
    return {"id": _id(ident, "an id"), "label": None if label is None else str(label), "color": packed}


def _pair(value: Any) -> dict:
    if isinstance(value, KeypointPair):
        a, b = value.keypoint0, value.keypoint1
    elif isinstance(value, Sequence | np.ndarray) and not isinstance(value, str | bytes) and len(value) == 2:
        a, b = value[0], value[1]
    else:
        raise TypeError(f"expected keypoint connections as KeypointPair or (id0, id1) pairs, got {value!r}")
    return {"keypoint0": _id(a, "a keypoint id"), "keypoint1": _id(b, "a keypoint id")}


def _items(value: Any, what: str) -> Sequence | np.ndarray:
    """A sequence of items; a set (e.g. MediaPipe's ``POSE_CONNECTIONS``) in sorted order."""
    if isinstance(value, Set):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence | np.ndarray):
        raise TypeError(f"expected {what} as a sequence, got {type(value).__name__}")
    return value


def _class(value: Any) -> dict:
    """One class description (any accepted form) -> a ``CLASS_DESCRIPTION`` dict."""
    class_id = None
    if isinstance(value, ClassDescriptionMapElem):
        class_id, value = _id(value.class_id, "a class id"), value.class_description
    if isinstance(value, ClassDescription):
        info = _info(value.info)
        keypoints = [_info(k) for k in _items(value.keypoint_annotations, "keypoint_annotations")]
        pairs = [_pair(p) for p in _items(value.keypoint_connections, "keypoint_connections")]
    else:
        info, keypoints, pairs = _info(value), [], []
    return {
        "class_id": info["id"] if class_id is None else class_id,
        "label": info["label"],
        "color": info["color"],
        "keypoint_annotations": keypoints,
        "keypoint_connections": pairs,
    }


def _is_one(value: Any) -> bool:
    """Whether ``value`` is one class description rather than a sequence of them."""
    if isinstance(value, AnnotationInfo | ClassDescription | ClassDescriptionMapElem):
        return True
    return (
        isinstance(value, tuple)
        and 2 <= len(value) <= 3
        and isinstance(value[0], int | np.integer)
        and (value[1] is None or isinstance(value[1], str))
    )


def class_descriptions(value: Any) -> pa.Array:
    """A context (one class description or a sequence of them) -> a ``CLASS_DESCRIPTION`` array."""
    if isinstance(value, AnnotationContext):
        for batch in value.as_component_batches():
            return batch.data
        raise ValueError("expected a usable AnnotationContext, got one whose context was refused")
    items = [value] if _is_one(value) else _items(value, _WHAT)
    rows = []
    for item in items:
        try:
            rows.append(_class(item))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"expected {_WHAT}; in {item!r}: {exc}") from None
    return pa.array(rows, type=CLASS_DESCRIPTION)


class AnnotationContext(TableArchetype):
    """Class labels, colors and keypoint skeletons for the ``class_ids``/``keypoint_ids`` of an entity
    and its descendants (the nearest ancestor's context applies); usually logged ``static=True``.

    ``context``: a sequence of ``(id, label)`` / ``(id, label, color)`` tuples, ``AnnotationInfo``,
    ``ClassDescription`` or ``ClassDescriptionMapElem`` values.
    """

    archetype_name = "AnnotationContext"
    primary_field = "context"
    _specs = {"context": (CLASS_DESCRIPTION, class_descriptions)}

    def __init__(self, context: Any) -> None:
        super().__init__()
        if context is None:
            self._fail("context", TypeError(f"expected {_WHAT}, got None"))
            return
        self._put("context", context)

    @classmethod
    def columns(cls, **fields: Any) -> ComponentColumnList:
        """Columns for ``send_columns``: ``context=`` holds one whole context per row."""
        out = ComponentColumnList()
        for name, value in fields.items():
            if value is None:
                continue
            cls._resolve(name)
            try:
                parts = [class_descriptions(ctx) for ctx in _items(value, "one context per row")]
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"{cls.archetype_name}.context: {exc}") from None
            values = pa.concat_arrays(parts) if parts else pa.array([], type=CLASS_DESCRIPTION)
            lengths = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
            out.append(ComponentColumn(f"{cls.archetype_name}:context", CLASS_DESCRIPTION, values, lengths))
        return out
