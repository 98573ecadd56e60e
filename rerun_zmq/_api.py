"""Module-level functions (``rr.init``, ``rr.log``, ``rr.set_time``…): thin wrappers over ``RecordingStream``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from . import _recording
from ._batcher import BatcherConfig
from ._chunk import build_chunk, concat_instances
from ._entity_path import canonical_path, is_reserved
from ._errors import NotYetAvailableError, report, set_strict_mode, strict_mode
from ._recording import RecordingStream, _thread, resolve
from ._sinks import MemorySink
from ._time import array_to_int64
from .archetypes._base import ComponentColumn


def init(
    application_id: str,
    *,
    recording_id: str | uuid.UUID | None = None,
    spawn: bool = False,
    init_logging: bool = True,
    default_enabled: bool = True,
    strict: bool | None = None,
    default_blueprint=None,
    batcher_config: BatcherConfig | None = None,
    log_tick: bool = False,
) -> RecordingStream | None:
    """Start a new recording and make it the global current one."""
    if strict is not None:
        set_strict_mode(strict)
    if not init_logging:
        return None
    rec = RecordingStream(application_id, recording_id=recording_id, default_enabled=default_enabled,
                          batcher_config=batcher_config, log_tick=log_tick)
    _recording.set_global(rec)
    if default_blueprint is not None:
        _send_blueprint(default_blueprint, rec, make_default=True, make_active=False)
    if spawn:
        globals()["spawn"](recording=rec)
    return rec


def new_recording(application_id: str, *, recording_id=None, make_default: bool = False,
                  make_thread_default: bool = False, spawn: bool = False, default_enabled: bool = True,
                  batcher_config: BatcherConfig | None = None) -> RecordingStream:
    rec = RecordingStream(application_id, recording_id=recording_id, default_enabled=default_enabled,
                          batcher_config=batcher_config)
    if make_default:
        _recording.set_global(rec)
    if make_thread_default:
        _recording.set_thread_local(rec)
    if spawn:
        globals()["spawn"](recording=rec)
    return rec


def _rec(recording: RecordingStream | None) -> RecordingStream | None:
    """The recording a call applies to; a child process joins its parent's when it has none."""
    rec = resolve(recording)
    return rec if rec is not None else _recording.inherit_from_environment()


def log(entity_path, entity=None, *extra, static: bool = False, timeless: bool = False,
        recording: RecordingStream | None = None, strict: bool | None = None) -> None:
    """Log archetypes (or component batches) to ``entity_path`` at the thread's current time."""
    rec = resolve(recording) if recording is not None else (_thread.rec or _recording._global)
    if rec is None:
        rec = _recording.inherit_from_environment()
        if rec is None:
            return
    if strict is None:
        if not extra:
            rec.log(entity_path, entity, static=static or timeless)
        else:
            rec.log(entity_path, entity, *extra, static=static or timeless)
        return
    entities = (entity, *extra) if entity is not None else extra
    prev = getattr(_strict_tls(), "strict", None)
    _strict_tls().strict = strict
    try:
        rec.log(entity_path, *entities, static=static or timeless)
    finally:
        _strict_tls().strict = prev


def _strict_tls():
    from . import _errors

    return _errors._state


def set_time(timeline: str, *, sequence=None, duration=None, timestamp=None, recording=None) -> None:
    """Set the current time of ``timeline`` on this thread (exactly one of the keywords)."""
    rec = resolve(recording) if recording is not None else (_thread.rec or _recording._global)
    if rec is None:
        rec = _recording.inherit_from_environment()
    if rec is not None:
        rec.set_time(timeline, sequence=sequence, duration=duration, timestamp=timestamp)


def set_time_sequence(timeline: str, sequence: int, recording=None) -> None:
    rec = _rec(recording)
    if rec is not None:
        rec.set_time(timeline, sequence=sequence)


def set_time_seconds(timeline: str, seconds: float, recording=None) -> None:
    rec = _rec(recording)
    if rec is not None:
        rec.set_time(timeline, duration=seconds)


def set_time_nanos(timeline: str, nanos: int, recording=None) -> None:
    rec = _rec(recording)
    if rec is not None:
        rec.set_time_nanos(timeline, nanos)


def disable_timeline(timeline: str, recording=None) -> None:
    rec = resolve(recording)
    if rec is not None:
        rec.disable_timeline(timeline)


def reset_time(recording=None) -> None:
    rec = resolve(recording)
    if rec is not None:
        rec.reset_time()


@dataclass(frozen=True)
class TimeColumn:
    """A column of times for ``send_columns``: exactly one of sequence=, duration=, timestamp=."""

    timeline: str
    kind: str
    times: np.ndarray

    def __init__(self, timeline: str, *, sequence=None, duration=None, timestamp=None) -> None:
        given = [(k, v) for k, v in (("sequence", sequence), ("duration", duration), ("timestamp", timestamp))
                 if v is not None]
        if len(given) != 1:
            raise TypeError(f"TimeColumn({timeline!r}) takes exactly one of sequence=, duration=, timestamp=")
        kind, values = given[0]
        if not isinstance(timeline, str) or not timeline:
            raise TypeError(f"TimeColumn timeline name must be a non-empty str, got {timeline!r}")
        object.__setattr__(self, "timeline", timeline)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "times", array_to_int64(kind, values))


TimeSequenceColumn = lambda timeline, times: TimeColumn(timeline, sequence=times)  # noqa: E731
TimeSecondsColumn = lambda timeline, times: TimeColumn(timeline, duration=times)  # noqa: E731
TimeNanosColumn = lambda timeline, times: TimeColumn(timeline, duration=np.asarray(times).astype("timedelta64[ns]"))  # noqa: E731


def send_columns(entity_path, indexes: Iterable[TimeColumn], columns: Iterable[ComponentColumn], *,
                 recording: RecordingStream | None = None, strict: bool | None = None) -> None:
    """Log many rows at once: one row per index value, without touching the thread's time state."""
    rec = _rec(recording)
    if rec is None or not rec.enabled:
        return
    try:
        rec.send_chunk(_columns_chunk(rec, entity_path, list(indexes), list(columns)))
    except (TypeError, ValueError) as exc:
        if strict:
            raise
        report(type(exc)(f"rr.send_columns({entity_path!r}): {exc}"))


def _columns_chunk(rec: RecordingStream, entity_path, indexes: list, columns: list):
    path = canonical_path(entity_path)
    if is_reserved(path):
        raise ValueError(f"entity path parts starting with '__' are reserved, got {path!r}")
    flat: list[ComponentColumn] = []
    for col in columns:
        if isinstance(col, ComponentColumn):
            flat.append(col)
        elif isinstance(col, Iterable):
            flat.extend(col)
        else:
            raise TypeError(
                f"columns must be ComponentColumns like rr.Scalars.columns(scalars=...), got {type(col).__name__}"
            )
    if not indexes:
        raise ValueError("indexes must hold at least one rr.TimeColumn")
    n = len(indexes[0].times)
    for idx in indexes:
        if not isinstance(idx, TimeColumn):
            raise TypeError(f"indexes must be rr.TimeColumn, got {type(idx).__name__}")
        if len(idx.times) != n:
            raise ValueError(f"time column {idx.timeline!r} has {len(idx.times)} rows, expected {n}")
    names = [idx.timeline for idx in indexes]
    for name in names:
        if names.count(name) > 1:  # a dict of them kept only the last, dropping the others' times
            raise ValueError(f"timeline {name!r} is given {names.count(name)} times in indexes; give it once")
    comps = {}
    for col in flat:
        if col.num_rows() != n:
            raise ValueError(f"component column {col.key!r} has {col.num_rows()} rows, but the time columns have {n}")
        values, _ = concat_instances([col.values], col.arrow_type)
        lengths = np.ones(n, dtype=np.int64) if col.lengths is None else col.lengths
        comps[col.key] = (col.arrow_type, values, lengths)
    ns, first = rec.batcher.next_row_ids(n)
    row_ids = np.empty((n, 2), dtype=np.uint64)
    row_ids[:, 0] = ns
    row_ids[:, 1] = np.arange(first, first + n, dtype=np.uint64)
    times = {idx.timeline: (idx.kind, idx.times) for idx in indexes}
    archetypes = sorted({c.key.split(":", 1)[0] for c in flat})
    return build_chunk(path, row_ids, times, comps, archetypes, False)


# -- sinks -----------------------------------------------------------------------------------------
def save(path: str | os.PathLike, default_blueprint=None, *, recording=None) -> None:
    """Stream all logged data (including what was logged before this call) to an .rrd file."""
    rec = _rec(recording)
    if rec is not None:
        rec.save(path)
        if default_blueprint is not None:
            _send_blueprint(default_blueprint, rec, make_default=True, make_active=False)


def memory_recording(recording=None) -> MemorySink | None:
    rec = resolve(recording)
    return rec.memory_recording() if rec is not None else None


def disconnect(recording=None) -> None:
    rec = resolve(recording)
    if rec is not None:
        rec.disconnect()


def flush(timeout: float | None = None, *, blocking: bool = True, recording=None) -> bool:
    rec = resolve(recording)
    return rec.flush(timeout) if rec is not None else True


def default_port() -> int:
    """The port ``rr.spawn``/``rr.connect`` use when given none: ``RERUN_ZMQ_PORT``, else 9876."""
    raw = os.environ.get("RERUN_ZMQ_PORT", "").strip()
    if not raw:
        return 9876
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"RERUN_ZMQ_PORT must be a port number 1..65535, got {raw!r}")
    return int(raw)


def connect(addr: str | None = None, *, flush_timeout_sec: float | None = 2.0, recording=None, **kwargs) -> None:
    """Stream this recording (and everything logged so far) to a running ingest at ``HOST:PORT``.

    With no address: ``127.0.0.1`` on ``RERUN_ZMQ_PORT`` (default 9876).
    """
    rec = _rec(recording)
    if rec is None:
        return
    if addr is None:
        addr = f"127.0.0.1:{default_port()}"
    try:
        from ._net import connect as net_connect
    except ImportError:
        raise NotYetAvailableError("rr.connect: streaming to an ingest process is not available in this build yet; "
                                   "use rr.save(path) and open the file with `rerun-zmq FILE.rrd`") from None
    net_connect(rec, addr, flush_timeout_sec=flush_timeout_sec, **kwargs)


connect_tcp = connect


def spawn(*, port: int | None = None, connect: bool = True, memory_limit: str = "75%", recording=None,
          **kwargs) -> None:
    """Start ``rerun-zmq`` (ingest + viewer) unless something listens on ``port``, then connect to it.

    ``port`` defaults to ``RERUN_ZMQ_PORT``, else 9876.
    """
    rec = _rec(recording)
    if port is None:
        port = default_port()
    try:
        from ._net import spawn as net_spawn
    except ImportError:
        raise NotYetAvailableError("rr.spawn: the viewer/ingest process is not available in this build yet; "
                                   "use rr.save(path) and open the file with `rerun-zmq FILE.rrd`") from None
    net_spawn(rec, port=port, connect=connect, memory_limit=memory_limit, **kwargs)


def _send_blueprint(blueprint, rec: RecordingStream, make_default: bool = True, make_active: bool = True) -> None:
    """Store the layout as static data at ``/__blueprint`` (so files keep it and the viewer finds it)."""
    import pyarrow as pa

    from .archetypes._base import ComponentBatch, batches_signature
    from .blueprint import BLUEPRINT_ENTITY, LAYOUT_COMPONENT, as_blueprint

    try:
        bp = as_blueprint(blueprint)
        layout = bp.to_json_str()
    except (TypeError, ValueError) as exc:
        report(type(exc)(f"rr.send_blueprint: {exc}"))
        return
    mode = "active" if make_active else "default"
    batches = [ComponentBatch(LAYOUT_COMPONENT, pa.string(), [layout]),
               ComponentBatch("Blueprint:mode", pa.string(), [mode])]
    rec.batcher.push(BLUEPRINT_ENTITY, True, (), (), batches, ("Blueprint",), batches_signature(batches))


def send_blueprint(blueprint, *, make_active: bool = True, make_default: bool = True, recording=None) -> None:
    """Send a layout (``rerun_zmq.blueprint``) to the viewer and into the recording's files."""
    rec = _rec(recording)
    if rec is not None:
        _send_blueprint(blueprint, rec, make_default, make_active)


def get_recording_id(recording=None) -> str | None:
    rec = resolve(recording)
    return rec.recording_id if rec is not None else None


def get_application_id(recording=None) -> str | None:
    rec = resolve(recording)
    return rec.application_id if rec is not None else None


def is_enabled(recording=None) -> bool:
    rec = resolve(recording)
    return rec is not None and rec.enabled


def set_enabled(enabled: bool, recording=None) -> None:
    rec = resolve(recording)
    if rec is not None:
        rec.enabled = bool(enabled)


def get_strict_mode() -> bool:
    return strict_mode()
