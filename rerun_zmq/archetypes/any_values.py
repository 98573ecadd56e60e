"""AnyValues: arbitrary named values, logged as components ``AnyValues:<name>``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from ._base import Archetype, ComponentColumn, ComponentColumnList

_WHAT = "a number, bool, string, bytes, a sequence of them, a numpy array or a pyarrow array"


#: one type object per distinct type: the batcher groups rows by arrow type identity
_INTERNED: dict[pa.DataType, pa.DataType] = {}


def infer(value: Any) -> tuple[pa.DataType, Any]:
    """A value -> (arrow element type, instances). Arrays are batches along their first axis.

    A 2-D or higher numpy array becomes ``fixed_size_list<T>[k]`` instances (k = the other axes).
    """
    arrow_type, data = _infer(value)
    return _INTERNED.setdefault(arrow_type, arrow_type), data


def _infer(value: Any) -> tuple[pa.DataType, Any]:
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if isinstance(value, pa.Array):
        return value.type, value
    if isinstance(value, bool | np.bool_):
        return pa.bool_(), np.array([value], dtype=np.bool_)
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return pa.int64(), np.array([value], dtype=np.int64)
    if isinstance(value, float):
        return pa.float64(), np.array([value], dtype=np.float64)
    if isinstance(value, str):
        return pa.string(), [value]
    if isinstance(value, bytes):
        return pa.binary(), [value]
    if isinstance(value, np.generic):
        value = np.array([value])
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        return pa.string(), [str(v) for v in value]
    if isinstance(value, list | tuple) and value and all(isinstance(v, bytes) for v in value):
        return pa.binary(), list(value)
    try:
        arr = np.array(value)
    except (ValueError, OverflowError):
        raise TypeError(f"expected {_WHAT}, got {type(value).__name__} of ragged shape") from None
    if arr.dtype.kind in "biuf":
        arr = arr.reshape(1) if arr.ndim == 0 else arr
        elem = pa.from_numpy_dtype(arr.dtype)
        if arr.ndim == 1:
            return elem, arr
        width = int(np.prod(arr.shape[1:]))
        return pa.list_(elem, width), np.ascontiguousarray(arr).reshape(len(arr), width)
    if arr.dtype.kind == "U" and arr.ndim <= 1:
        return pa.string(), [str(v) for v in arr.reshape(-1)]
    try:
        out = pa.array(list(value) if isinstance(value, list | tuple) else [value])
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        raise TypeError(f"expected {_WHAT}, got {type(value).__name__}") from None
    return out.type, out


class AnyValues(Archetype):
    """Named values of any type: ``rr.AnyValues(confidence=[1.2, 3.4], description="...")``.

    ``None`` values are dropped (``drop_untyped_nones=True``) or reported as errors.
    """

    archetype_name = "AnyValues"
    primary_field = None

    def __init__(self, drop_untyped_nones: bool = True, **kwargs: Any) -> None:
        super().__init__()
        for name, value in kwargs.items():
            if value is None:
                if not drop_untyped_nones:
                    self._fail(name, TypeError("cannot infer an Arrow type from None"))
                continue
            try:
                arrow_type, data = infer(value)
            except (ValueError, TypeError) as exc:
                self._fail(name, exc)
                continue
            self._add(name, arrow_type, data)

    @classmethod
    def columns(cls, drop_untyped_nones: bool = True, **kwargs: Any) -> ComponentColumnList:
        """One column per name; each value is a batch with one instance per row."""
        out = ComponentColumnList()
        for name, value in kwargs.items():
            if value is None:
                continue
            try:
                arrow_type, data = infer(value)
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"AnyValues.{name}: {exc}") from None
            out.append(ComponentColumn(f"AnyValues:{name}", arrow_type, data))
        return out
