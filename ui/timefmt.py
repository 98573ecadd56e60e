"""Timeline values <-> text, in each timeline kind's unit (sequence: integer; duration: seconds;
timestamp: UTC date-time). Stored values are int64 (nanoseconds for duration and timestamp)."""

from __future__ import annotations

import datetime as dt

NS = 1_000_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def format_time(value: int | None, kind: str) -> str:
    """Human text for a timeline value."""
    if value is None:
        return "-"
    if kind == "sequence":
        return f"#{value}"
    if kind == "duration":
        return f"{value / NS:.3f}s"
    stamp = _EPOCH + dt.timedelta(microseconds=value // 1000)
    return stamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def parse_time(text: str, kind: str) -> int:
    """Parse ``--time`` values: sequence ``42``; duration seconds ``1.5`` (or ``1.5s``);
    timestamp seconds since the epoch or an ISO date-time."""
    text = text.strip()
    try:
        value = _parse_time(text, kind)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"cannot read {text!r} as a {kind} time: {exc}") from None
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"time {text!r} is outside the int64 range of {kind} timelines")
    return value


def _parse_time(text: str, kind: str) -> int:
    if kind == "sequence":
        return int(text.lstrip("#"))
    if kind == "duration":
        return round(float(text.rstrip("s")) * NS)
    try:
        return round(float(text) * NS)
    except ValueError:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.timezone.utc)
        delta = stamp - _EPOCH
        return (delta.days * 86400 + delta.seconds) * NS + delta.microseconds * 1000


def play_rate(kind: str) -> float:
    """Timeline units advanced per second of wall time at speed 1."""
    return 30.0 if kind == "sequence" else float(NS)


def is_user_timeline(name: str) -> bool:
    """The SDK's automatic timelines are not what users pick; any other timeline is."""
    return name not in ("log_time", "log_tick")
