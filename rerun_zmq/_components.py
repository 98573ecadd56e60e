"""Input converters shared by the archetypes, plus read-side helpers for the store and viewer.

Every converter takes what a user may pass (Python scalars, lists, numpy arrays) and returns a
fresh numpy array (never a view of the caller's buffer, so later in-place edits cannot change
logged data) or a list of Python values; on bad input it raises ``ValueError``/``TypeError``
naming the shape expected and the shape received.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from . import _shm_copy

VEC2 = pa.list_(pa.float32(), 2)
VEC3 = pa.list_(pa.float32(), 3)
VEC4 = pa.list_(pa.float32(), 4)
MAT3 = pa.list_(pa.float32(), 9)
VIEW_XYZ = pa.list_(pa.uint8(), 3)
COLOR = pa.uint32()
F32 = pa.float32()
F64 = pa.float64()
U16 = pa.uint16()
BOOL = pa.bool_()
STRING = pa.string()
STRIP2 = pa.list_(VEC2)
STRIP3 = pa.list_(VEC3)

_NUMBER = (int, float)


def _shape_of(value: Any) -> str:
    try:
        return str(np.shape(value))
    except ValueError:
        return "a ragged nesting"


#: numeric arrays at least this big are copied into Arrow's memory pool (see ``_pooled_copy``)
_POOLED_BYTES = 1 << 20


def _pooled_copy(value: np.ndarray, dtype: type) -> np.ndarray:
    """A copy of ``value`` as ``dtype`` in memory from Arrow's pool. Its allocator keeps freed pages
    mapped, so a big per-frame copy (a 1M-point cloud: 12 MB) costs a memcpy; a fresh numpy
    allocation of that size page-faults on every frame once the process's heap is fragmented.

    While a sink hands big frames to its ingest in shared memory, the copy goes into a sealed memfd
    instead (read-only; ``_shm_copy``), which the sink then sends as it is."""
    out_dtype = np.dtype(dtype)
    if _shm_copy.active():
        sealed = _shm_copy.sealed_copy(value, out_dtype)
        if sealed is not None:
            return sealed
    buf = pa.allocate_buffer(value.size * out_dtype.itemsize)
    out = np.frombuffer(buf, dtype=out_dtype, count=value.size).reshape(value.shape)
    np.copyto(out, value, casting="unsafe")  # the casts np.array(value, dtype) makes
    return out


def _numbers(value: Any, dtype: type | None, what: str) -> np.ndarray:
    """``np.array(value, dtype)`` that reports non-numeric or ragged input clearly."""
    if isinstance(value, str | bytes):
        raise TypeError(f"expected {what}, got {type(value).__name__}")
    if (dtype is not None and isinstance(value, np.ndarray) and value.dtype.kind in "biuf"
            and value.size * np.dtype(dtype).itemsize >= _POOLED_BYTES):
        return _pooled_copy(value, dtype)
    try:
        return np.array(value, dtype=dtype)
    except (ValueError, TypeError, OverflowError):
        raise TypeError(f"expected {what}, got {type(value).__name__} of shape {_shape_of(value)}") from None


def vectors(value: Any, dim: int) -> np.ndarray:
    """Points/vectors -> float32 ``(n, dim)``; a flat sequence of ``dim * n`` numbers is accepted."""
    what = f"an array of shape (N, {dim}) of numbers"
    arr = _numbers(value, np.float32, what)
    if arr.ndim == 2 and arr.shape[1] == dim:
        return arr
    if arr.ndim == 1 and arr.size % dim == 0:
        return arr.reshape(-1, dim)
    raise ValueError(f"expected {what}, got shape {arr.shape}")


def positions2d(value: Any) -> np.ndarray:
    return vectors(value, 2)


def positions3d(value: Any) -> np.ndarray:
    return vectors(value, 3)


def vec3(value: Any) -> np.ndarray:
    """Exactly one 3-vector -> float32 ``(1, 3)``."""
    arr = _numbers(value, np.float32, "3 numbers")
    if arr.size != 3 or arr.ndim > 2:
        raise ValueError(f"expected 3 numbers, got shape {arr.shape}")
    return arr.reshape(1, 3)


def floats(
    value: Any, dtype: type = np.float32, what: str = "a number or a 1-D array of numbers"
) -> np.ndarray:
    """One number or a 1-D batch -> ``(n,)`` of ``dtype``."""
    if type(value) is float or type(value) is int:
        return np.array((value,), dtype=dtype)
    arr = _numbers(value, dtype, what)
    if arr.ndim == 0:
        return arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"expected {what}, got shape {arr.shape}")
    return arr


def radii(value: Any) -> np.ndarray:
    return floats(value, np.float32)


def scalars(value: Any) -> np.ndarray:
    """Scalars -> float64 ``(n,)`` (the hot path: one Python float)."""
    if type(value) is float:
        return (value,)  # a 1-tuple: the batcher converts all rows' values to Arrow in one call
    return floats(value, np.float64)


def float32_one(value: Any) -> np.ndarray:
    """Exactly one number (draw order, opacity, ...) -> float32 ``(1,)``."""
    arr = floats(value, np.float32, "one number")
    if arr.shape != (1,):
        raise ValueError(f"expected one number, got shape {arr.shape}")
    return arr


def ids_u16(value: Any) -> np.ndarray:
    """Class or keypoint ids -> uint16 ``(n,)``, each in 0..65535."""
    what = "an integer or a 1-D array of integers in 0..65535"
    if type(value) is int and 0 <= value <= 0xFFFF:
        return np.array((value,), dtype=np.uint16)
    arr = _numbers(value, np.int64, what)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"expected {what}, got shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() > 0xFFFF):
        raise ValueError(f"expected {what}, got values in {arr.min()}..{arr.max()}")
    return arr.astype(np.uint16)


def strings(value: Any) -> list[str]:
    """One string or a sequence of strings -> ``list[str]``."""
    if isinstance(value, str):
        return [str(value)]
    if isinstance(value, bytes) or not isinstance(value, Sequence | np.ndarray):
        raise TypeError(f"expected a string or a sequence of strings, got {type(value).__name__}")
    return [str(v) for v in value]


def text_one(value: Any) -> list[str]:
    """Exactly one string (``str`` subclasses such as ``TextLogLevel`` become plain ``str``)."""
    if isinstance(value, str):
        return [str(value)]
    raise TypeError(f"expected a string, got {type(value).__name__}")


def bools(value: Any) -> np.ndarray:
    """One bool or a 1-D sequence of bools -> bool ``(n,)``."""
    if isinstance(value, bool | np.bool_):
        return np.array((bool(value),), dtype=np.bool_)
    arr = np.array(value) if isinstance(value, Sequence | np.ndarray) else None
    if arr is None or arr.dtype != np.bool_ or arr.ndim != 1:
        raise TypeError(f"expected a bool or a 1-D sequence of bools, got {type(value).__name__}")
    return arr


def _pack(rgba: np.ndarray) -> np.ndarray:
    """``(n, 4)`` integers 0..255 -> packed ``0xRRGGBBAA`` uint32."""
    c = rgba.astype(np.uint32)
    return (c[:, 0] << 24) | (c[:, 1] << 16) | (c[:, 2] << 8) | c[:, 3]


def _pack_u8(rgb: np.ndarray) -> np.ndarray:
    """``(n, 3|4)`` uint8 -> packed uint32 without widening: the bytes R,G,B,A read as big-endian.

    For RGB, each u32 is read at a 3-byte stride (R,G,B plus the next row's R) and its low byte
    is then set to 255: one pass over the data instead of a strided copy into an RGBA buffer.
    """
    n = len(rgb)
    if rgb.shape[1] == 4:
        return np.ascontiguousarray(rgb).view(">u4").reshape(n).astype(np.uint32)
    buf = np.empty(3 * n + 1, dtype=np.uint8)
    buf[: 3 * n] = rgb.reshape(-1)
    buf[-1] = 0
    out = np.ndarray(shape=(n,), dtype=">u4", buffer=buf, strides=(3,)).astype(np.uint32)
    out |= 0xFF
    return out


def _pack_one(rgba: Sequence) -> int | None:
    """Fast path for one color given as 3-4 Python ints 0..255 or floats; ``None`` if not that."""
    kinds = {type(v) for v in rgba}
    if kinds == {int}:
        if not all(0 <= v <= 255 for v in rgba):
            return None
        ints = list(rgba)
    elif kinds <= {int, float}:
        ints = [round(min(max(float(v), 0.0), 1.0) * 255) for v in rgba]
    else:
        return None
    if len(ints) == 3:
        ints.append(255)
    return (ints[0] << 24) | (ints[1] << 16) | (ints[2] << 8) | ints[3]


def colors(value: Any) -> np.ndarray:
    """Colors -> packed ``0xRRGGBBAA`` uint32 ``(n,)``.

    Accepts one color or many: RGB/RGBA rows of integers 0..255 or floats 0..1 (floats are
    clipped to 0..1 then rounded), packed uint32 integers, or a single packed Python int.
    A 1-D sequence of 3 or 4 numbers is one color unless its dtype is uint32.
    """
    what = "colors as RGB/RGBA rows (uint8 0-255 or float 0-1) or packed 0xRRGGBBAA integers"
    if type(value) is int:
        if 0 <= value <= 0xFFFFFFFF:
            return np.array((value,), dtype=np.uint32)
        raise ValueError(f"expected {what}, got the integer {value}")
    if type(value) in (list, tuple) and len(value) in (3, 4):
        packed = _pack_one(value)
        if packed is not None:
            return np.array((packed,), dtype=np.uint32)
    if isinstance(value, np.ndarray) and value.dtype == np.uint32 and value.ndim == 1:
        return value.copy()
    if (
        isinstance(value, np.ndarray)
        and value.dtype == np.uint8
        and value.ndim == 2
        and value.shape[1] in (3, 4)
    ):
        return _pack_u8(value)
    arr = value if isinstance(value, np.ndarray) else _numbers(value, None, what)
    if arr.dtype.kind not in "uif":
        raise TypeError(f"expected {what}, got dtype {arr.dtype}")
    if arr.size == 0:
        return np.empty(0, dtype=np.uint32)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim == 1:
        if arr.dtype.kind in "ui" and (arr.size not in (3, 4) or arr.dtype == np.uint32):
            if arr.size and (arr.min() < 0 or arr.max() > 0xFFFFFFFF):
                raise ValueError(f"expected {what}, got packed values out of the uint32 range")
            return arr.astype(np.uint32)
        if arr.size not in (3, 4):
            raise ValueError(f"expected {what}, got shape {arr.shape}")
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] not in (3, 4):
        raise ValueError(f"expected {what}, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        arr = np.round(np.clip(arr, 0.0, 1.0) * 255)
    elif arr.size and (arr.min() < 0 or arr.max() > 255):
        raise ValueError(f"expected {what}, got integer components in {arr.min()}..{arr.max()}")
    if arr.shape[1] == 3:
        arr = np.concatenate([arr, np.full((len(arr), 1), 255, dtype=arr.dtype)], axis=1)
    return _pack(arr)


def color_one(value: Any) -> np.ndarray:
    arr = colors(value)
    if arr.shape != (1,):
        raise ValueError(f"expected one color, got {len(arr)} colors")
    return arr


def clamp_instances(values: Any, n: int) -> Any:
    """Read-side clamping of one component's instances to ``n`` primary instances.

    One value applies to all ``n`` instances (repeated); extra values are ignored (truncated);
    with more than one but fewer than ``n`` values, only the values that exist are returned —
    the last one is *not* repeated, so callers draw the first ``len(result)`` instances with it.
    Works on numpy arrays (first axis), lists/tuples and ``pyarrow`` arrays.
    """
    count = len(values)
    if count == 1 and n > 1:
        if isinstance(values, np.ndarray):
            return np.repeat(values, n, axis=0)
        if isinstance(values, pa.Array):
            return values.take(pa.array(np.zeros(n, dtype=np.int64)))
        return list(values) * n
    if count > n:
        return values[:n]
    return values


def unpack_colors(packed: Any) -> np.ndarray:
    """Packed ``0xRRGGBBAA`` uint32 values (numpy or Arrow) -> ``(n, 4)`` uint8 RGBA."""
    if isinstance(packed, pa.ChunkedArray):
        packed = packed.combine_chunks()
    if isinstance(packed, pa.Array):
        packed = packed.fill_null(0).to_numpy(zero_copy_only=False)  # a null color is transparent black
    arr = np.asarray(packed, dtype=np.uint32).reshape(-1)
    return np.ascontiguousarray(arr.astype(">u4").view(np.uint8).reshape(-1, 4))
