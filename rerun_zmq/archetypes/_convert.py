"""Converters for structured inputs: line strips, rotations, scales, 3x3 matrices and enum names.

Same contract as ``rerun_zmq._components``: fresh arrays out, ``ValueError``/``TypeError`` naming
the expected shape on bad input.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

import numpy as np
import pyarrow as pa

from .._components import _NUMBER, _numbers, vectors
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


def scale3(value: Any) -> np.ndarray:
    """A uniform scale (one number) or 3 per-axis factors -> float32 ``(1, 3)``."""
    if isinstance(value, _NUMBER) and not isinstance(value, bool):
        return np.full((1, 3), value, dtype=np.float32)
    arr = _numbers(value, np.float32, "a number or 3 numbers")
    if arr.size == 1:
        return np.full((1, 3), arr.reshape(-1)[0], dtype=np.float32)
    if arr.size != 3 or arr.ndim > 2:
        raise ValueError(f"expected a number or 3 numbers, got shape {arr.shape}")
    return arr.reshape(1, 3)


def mat3x3(value: Any) -> np.ndarray:
    """A 3x3 matrix given row by row (nested or flat) -> float32 ``(1, 9)`` stored column-major."""
    arr = _numbers(value, np.float32, "a 3x3 matrix of numbers")
    if arr.size != 9 or arr.ndim > 2:
        raise ValueError(f"expected a 3x3 matrix of numbers, got shape {arr.shape}")
    return np.ascontiguousarray(arr.reshape(3, 3).T).reshape(1, 9)


def scales(value: Any) -> np.ndarray:
    """Batch form of ``scale3``: ``(n, 3)`` factors, or ``(n,)`` uniform scales -> float32 ``(n, 3)``."""
    arr = _numbers(value, np.float32, "uniform scales (N,) or per-axis scales (N, 3)")
    if arr.ndim <= 1 and arr.size != 3:
        return np.repeat(arr.reshape(-1, 1), 3, axis=1)
    return vectors(arr, 3)


def mat3x3s(value: Any) -> np.ndarray:
    """Batch ``mat3x3``: ``(n, 3, 3)`` (or ``(n, 9)``) row-major -> float32 ``(n, 9)`` column-major."""
    arr = _numbers(value, np.float32, "3x3 matrices of shape (N, 3, 3)")
    if arr.size % 9 or arr.ndim not in (2, 3) or arr.shape[-1] not in (3, 9):
        raise ValueError(f"expected 3x3 matrices of shape (N, 3, 3), got shape {arr.shape}")
    return np.ascontiguousarray(arr.reshape(-1, 3, 3).transpose(0, 2, 1)).reshape(-1, 9)
