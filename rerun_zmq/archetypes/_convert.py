"""Converters for structured inputs: line strips, rotations and enum names.

Same contract as ``rerun_zmq._components``: fresh arrays out, ``ValueError``/``TypeError`` naming
the expected shape on bad input.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

import numpy as np
import pyarrow as pa

from .._components import _numbers
from ..datatypes import Quaternion, RotationAxisAngle


def line_strips(value: Any, dim: int) -> pa.Array:
    """Strips -> ``list<fixed_size_list<float32>[dim]>``, one list per strip.

    Accepts an ``(n, k, dim)`` array (n strips of k points) or a sequence of ``(k_i, dim)`` arrays.
    """
    what = f"a list of (K, {dim}) arrays or an array of shape (N, K, {dim})"
    if isinstance(value, np.ndarray) and value.ndim == 3:
        if value.shape[2] != dim:
            raise ValueError(f"expected {what}, got shape {value.shape}")
        flat = np.array(value, dtype=np.float32).reshape(-1, dim)
        lengths = np.full(value.shape[0], value.shape[1], dtype=np.int32)
    else:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
            raise TypeError(f"expected {what}, got {type(value).__name__}")
        parts = []
        for strip in value:
            arr = _numbers(strip, np.float32, what)
            if arr.ndim != 2 or arr.shape[1] != dim:
                if not (arr.ndim == 1 and arr.size == 0):
                    raise ValueError(f"expected {what}, got a strip of shape {arr.shape}")
                arr = arr.reshape(0, dim)
            parts.append(arr)
        lengths = np.fromiter((len(p) for p in parts), dtype=np.int32, count=len(parts))
        flat = np.concatenate(parts) if parts else np.empty((0, dim), dtype=np.float32)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    points = pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), dim)
    return pa.ListArray.from_arrays(pa.array(offsets), points)


def rotation_axis_angles(value: Any) -> np.ndarray:
    """``RotationAxisAngle``(s) or ``[x, y, z, radians]`` rows -> float32 ``(n, 4)``."""
    if isinstance(value, RotationAxisAngle):
        return value.as_array().reshape(1, 4)
    if isinstance(value, Sequence) and value and all(isinstance(v, RotationAxisAngle) for v in value):
        return np.stack([v.as_array() for v in value])
    return _rows4(value, "RotationAxisAngle values or rows of [x, y, z, radians]")


def quaternions(value: Any) -> np.ndarray:
    """``Quaternion``(s) or xyzw rows -> float32 ``(n, 4)``."""
    if isinstance(value, Quaternion):
        return value.as_array().reshape(1, 4)
    if isinstance(value, Sequence) and value and all(isinstance(v, Quaternion) for v in value):
        return np.stack([v.xyzw for v in value])
    return _rows4(value, "Quaternion values or rows of xyzw")


def _rows4(value: Any, what: str) -> np.ndarray:
    arr = _numbers(value, np.float32, what)
    if arr.ndim == 1 and arr.size == 4:
        return arr.reshape(1, 4)
    if arr.ndim == 2 and arr.shape[1] == 4:
        return arr
    raise ValueError(f"expected {what}, got shape {arr.shape}")


def enum_names(value: Any, enum: type[Enum], what: str) -> list[str]:
    """One or more members of a ``str`` enum, by member or (case-insensitive) name -> names."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Sequence):
        raise TypeError(f"expected {what}, got {type(value).__name__}")
    lookup = {m.value.lower(): m.value for m in enum}
    out = []
    for item in items:
        key = str(item.value if isinstance(item, enum) else item).lower().replace("_", "")
        if key not in lookup:
            raise ValueError(f"expected {what} (one of {sorted(lookup.values())}), got {item!r}")
        out.append(lookup[key])
    return out
