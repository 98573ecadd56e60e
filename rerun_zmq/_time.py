"""Per-thread time state and conversion of user time values to int64 timeline values."""

from __future__ import annotations

import datetime as _dt
import numbers
import operator

import numpy as np

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


def _in_i64(value: int, what: str) -> int:
    """``value`` if a timeline can store it (int64), else ValueError naming the range.

    An out-of-range time accepted here would fail later, on the batcher thread, and take every row
    batched with it down too.
    """
    if not _I64_MIN <= value <= _I64_MAX:
        raise ValueError(f"{what} {value} does not fit a timeline (int64 nanoseconds or sequence numbers)")
    return value


def _finite_ns(seconds: float, what: str) -> int:
    if not np.isfinite(seconds):
        raise ValueError(f"{what} must be a finite number of seconds, got {seconds}")
    return _in_i64(int(round(seconds * 1e9)), what)


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
        return _in_i64(int(value), "sequence")
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return _in_i64(int(value), "sequence")
    raise TypeError(f"sequence time must be an integer, got {value!r} ({type(value).__name__})")


def to_duration_ns(value) -> int:
    """Seconds (int/float), ``timedelta`` or ``numpy.timedelta64`` -> nanoseconds."""
    if isinstance(value, _dt.timedelta):
        return _in_i64((value.days * 86_400 + value.seconds) * 1_000_000_000 + value.microseconds * 1000, "time")
    if isinstance(value, np.timedelta64):
        if np.isnat(value):
            raise ValueError("time must not be NaT")
        return _numpy_ns(value, "timedelta64[ns]")
    if isinstance(value, (numbers.Real, np.number)) and not isinstance(value, bool):
        if _is_int(value):
            return _in_i64(operator.index(value) * 1_000_000_000, "time")  # type: ignore[arg-type]
        return _finite_ns(float(value), "time")
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
        if np.isnat(value):
            raise ValueError("timestamp must not be NaT")
        return _numpy_ns(value, "datetime64[ns]")
    if isinstance(value, (numbers.Real, np.number)) and not isinstance(value, bool):
        return to_duration_ns(value)
    raise TypeError(
        f"timestamp must be seconds since the epoch, datetime.datetime or numpy.datetime64, got {type(value).__name__}"
    )


def _numpy_ns(value, unit: str) -> int:
    """A numpy time in nanoseconds, refusing one that overflows int64 (numpy would wrap it)."""
    src, _ = np.datetime_data(value.dtype)
    ns = value.astype(unit)
    if src not in ("ps", "fs", "as") and ns.astype(value.dtype) != value:
        raise ValueError(f"time {value} does not fit a timeline (int64 nanoseconds)")
    return int(ns.astype(np.int64))


def array_to_int64(kind: str, values) -> np.ndarray:
    """A column of times for ``send_columns`` -> int64 array in the timeline's storage unit."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"a time column must be 1-D, got shape {arr.shape}")
    if arr.size == 0:  # np.asarray([]) is float64, which is no reason to refuse an empty column
        return np.empty(0, dtype=np.int64)
    if kind == "sequence":
        if arr.dtype.kind not in "iu":
            raise TypeError(f"sequence times must be integers, got dtype {arr.dtype}")
        return arr.astype(np.int64)
    if arr.dtype.kind in "mM":
        unit = "timedelta64[ns]" if arr.dtype.kind == "m" else "datetime64[ns]"
        if np.isnat(arr).any():
            raise ValueError(f"{kind} times must not be NaT")
        ns = arr.astype(unit)
        if np.datetime_data(arr.dtype)[0] not in ("ps", "fs", "as") and (ns.astype(arr.dtype) != arr).any():
            raise ValueError(f"{kind} times must fit int64 nanoseconds (about years 1678..2261)")
        return ns.astype(np.int64)
    if arr.dtype.kind in "iuf":
        seconds = arr.astype(np.float64)
        if not np.all(np.abs(seconds) < 9.2e9):  # also false for NaN
            raise ValueError(f"{kind} times must be finite seconds within ±9.2e9 (int64 nanoseconds)")
        if arr.dtype.kind == "f":
            return np.round(seconds * 1e9).astype(np.int64)
        return arr.astype(np.int64) * 1_000_000_000
    if arr.dtype == object:
        conv = to_duration_ns if kind == "duration" else to_timestamp_ns
        return np.fromiter((conv(v) for v in arr), dtype=np.int64, count=len(arr))
    raise TypeError(f"{kind} times must be numbers, timedelta/datetime or numpy times, got dtype {arr.dtype}")
