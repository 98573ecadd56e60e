"""Per-thread time state and conversion of user time values to int64 timeline values."""

from __future__ import annotations

import datetime as _dt
import numbers
import operator

import numpy as np

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


class ThreadTime:
    """The timelines set on one thread for one recording.

    ``names``/``kinds``/``values`` are parallel lists; ``sig`` is the (name, kind) tuple used as
    part of the batcher's accumulator key, rebuilt only when the set of timelines changes.
    """

    __slots__ = ("names", "kinds", "values", "sig", "tick")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.kinds: list[str] = []
        self.values: list[int] = []
        self.sig: tuple = ()
        self.tick = 0

    def set(self, name: str, kind: str, value: int) -> None:
        names = self.names
        if names and names[-1] == name and self.kinds[-1] == kind:  # the usual single-timeline loop
            self.values[-1] = value
            return
        try:
            i = names.index(name)
        except ValueError:
            self.names.append(name)
            self.kinds.append(kind)
            self.values.append(value)
            self.sig = tuple(zip(self.names, self.kinds))
            return
        if self.kinds[i] != kind:
            self.kinds[i] = kind
            self.sig = tuple(zip(self.names, self.kinds))
        self.values[i] = value

    def disable(self, name: str) -> None:
        if name in self.names:
            i = self.names.index(name)
            del self.names[i], self.kinds[i], self.values[i]
            self.sig = tuple(zip(self.names, self.kinds))

    def reset(self) -> None:
        self.names, self.kinds, self.values, self.sig = [], [], [], ()


def _is_int(value) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool)


def to_sequence(value) -> int:
    if _is_int(value):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    raise TypeError(f"sequence time must be an integer, got {value!r} ({type(value).__name__})")


def to_duration_ns(value) -> int:
    """Seconds (int/float), ``timedelta`` or ``numpy.timedelta64`` -> nanoseconds."""
    if isinstance(value, _dt.timedelta):
        return (value.days * 86_400 + value.seconds) * 1_000_000_000 + value.microseconds * 1000
    if isinstance(value, np.timedelta64):
        return int(value.astype("timedelta64[ns]").astype(np.int64))
    if isinstance(value, (numbers.Real, np.number)) and not isinstance(value, bool):
        if _is_int(value):
            return operator.index(value) * 1_000_000_000  # type: ignore[arg-type]
        return int(round(float(value) * 1e9))
    raise TypeError(
        f"duration must be seconds (int or float), datetime.timedelta or numpy.timedelta64, got {type(value).__name__}"
    )


def to_timestamp_ns(value) -> int:
    """Seconds since the epoch (int/float), ``datetime`` or ``numpy.datetime64`` -> nanoseconds."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return to_duration_ns(value - _EPOCH)
    if isinstance(value, np.datetime64):
        return int(value.astype("datetime64[ns]").astype(np.int64))
    if isinstance(value, (numbers.Real, np.number)) and not isinstance(value, bool):
        return to_duration_ns(value)
    raise TypeError(
        f"timestamp must be seconds since the epoch, datetime.datetime or numpy.datetime64, got {type(value).__name__}"
    )


def array_to_int64(kind: str, values) -> np.ndarray:
    """A column of times for ``send_columns`` -> int64 array in the timeline's storage unit."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"a time column must be 1-D, got shape {arr.shape}")
    if kind == "sequence":
        if arr.dtype.kind not in "iu":
            raise TypeError(f"sequence times must be integers, got dtype {arr.dtype}")
        return arr.astype(np.int64)
    if arr.dtype.kind == "m":
        return arr.astype("timedelta64[ns]").astype(np.int64)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[ns]").astype(np.int64)
    if arr.dtype.kind in "iuf":
        return np.round(arr.astype(np.float64) * 1e9).astype(np.int64) if arr.dtype.kind == "f" else (
            arr.astype(np.int64) * 1_000_000_000
        )
    if arr.dtype == object:
        conv = to_duration_ns if kind == "duration" else to_timestamp_ns
        return np.fromiter((conv(v) for v in arr), dtype=np.int64, count=len(arr))
    raise TypeError(f"{kind} times must be numbers, timedelta/datetime or numpy times, got dtype {arr.dtype}")
