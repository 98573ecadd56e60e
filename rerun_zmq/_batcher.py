"""The batcher: coalesces logged rows per entity into Arrow chunks on a background thread.

``push`` (the logging thread) only appends references to per-entity accumulators under a lock;
the batcher thread swaps the accumulators out every tick (or sooner when the pending bytes or
rows pass a threshold), builds one chunk per accumulator and hands it to ``on_chunk``.

The tick is a latency bound, not a schedule: after a pass that cost ``w`` seconds the thread waits at
least ``4·w``, so building chunks never takes more than about a fifth of the process's time, and
busy many-entity workloads get bigger, cheaper chunks instead of starving the logging thread.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ._chunk import LOG_TIME, build_chunk, concat_instances, make_schema


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


@dataclass
class BatcherConfig:
    """When pending rows are turned into chunks: every ``flush_tick`` seconds, or sooner."""

    flush_tick: float = 0.008
    flush_num_bytes: int = 2 * 1024 * 1024
    flush_num_rows: int = 2**62
    #: logged bytes not yet handed to the sink above which ``rr.log`` waits (back-pressure from a
    #: blocked sink reaches the logging thread instead of growing memory without bound)
    max_backlog_bytes: int = 64 * 1024 * 1024

    @classmethod
    def from_env(cls) -> BatcherConfig:
        """Defaults overridden by RERUN_ZMQ_FLUSH_TICK_SECS / _NUM_BYTES / _NUM_ROWS."""
        d = cls()
        return cls(
            flush_tick=_env_float("RERUN_ZMQ_FLUSH_TICK_SECS", d.flush_tick),
            flush_num_bytes=int(_env_float("RERUN_ZMQ_FLUSH_NUM_BYTES", d.flush_num_bytes)),
            flush_num_rows=int(_env_float("RERUN_ZMQ_FLUSH_NUM_ROWS", d.flush_num_rows)),
            max_backlog_bytes=int(_env_float("RERUN_ZMQ_MAX_BACKLOG_BYTES", d.max_backlog_bytes)),
        )


class _Acc:
    """Rows of one (entity, static, timelines, components) signature awaiting a chunk."""

    __slots__ = ("entity", "static", "tsig", "ckeys", "ctypes", "archetypes", "rows", "datas", "schema")

    def __init__(self, entity, static, tsig, batches, archetypes, schema):
        self.entity = entity
        self.static = static
        self.tsig = tsig
        self.ckeys = [b.key for b in batches]
        self.ctypes = [b.arrow_type for b in batches]
        self.archetypes = archetypes
        #: per row: (ns, counter, *timeline values); ns is both the RowId time and log_time
        self.rows: list[tuple] = []
        self.datas: list[list] = [[] for _ in batches]
        self.schema = schema

    def build(self) -> pa.RecordBatch:
        table = np.array(self.rows, dtype=np.int64)
        row_ids = table[:, :2].astype(np.uint64)
        times = {}
        if not self.static:
            times[LOG_TIME] = ("timestamp", table[:, 0])
            for i, (name, kind) in enumerate(self.tsig, start=2):
                times[name] = (kind, table[:, i])
        comps = {}
        for key, dtype, datas in zip(self.ckeys, self.ctypes, self.datas):
            values, lengths = concat_instances(datas, dtype)
            comps[key] = (dtype, values, lengths)
        if self.schema is None:
            self.schema = make_schema(self.entity, {k: v[0] for k, v in times.items()},
                                      [(k, v[0]) for k, v in comps.items()], self.archetypes, self.static)
        return build_chunk(self.entity, row_ids, times, comps, self.archetypes, self.static, self.schema)


class Batcher:
    """Owns the accumulators and the background thread that turns them into chunks."""

    def __init__(self, config: BatcherConfig, on_chunk: Callable[[pa.RecordBatch], None],
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self._on_chunk = on_chunk
        self._on_error = on_error
        self.config = config
        #: called on the batcher thread after each pass (sinks write out their buffers there)
        self.on_pass_end: Callable[[], None] | None = None
        self._init_state()

    @property
    def config(self) -> BatcherConfig:
        return self._config

    @config.setter
    def config(self, config: BatcherConfig) -> None:
        self._config = config
        self._max_bytes, self._max_rows = config.flush_num_bytes, config.flush_num_rows
        self._max_backlog = max(config.max_backlog_bytes, 1)

    def _init_state(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._done = threading.Condition(threading.Lock())
        self._accs: dict[tuple, _Acc] = {}
        #: chunk schema per accumulator key, built once (see ``_emit``)
        self._schemas: dict[tuple, object] = {}
        #: accumulator sets cut off by the byte/row thresholds, awaiting the thread
        self._sealed: list[dict[tuple, _Acc]] = []
        self._ready: list[pa.RecordBatch] = []
        self._pending_bytes = 0
        #: bytes pushed since the thread last took the accumulators / bytes of the pass under way
        self._unemitted = 0
        self._emitting = 0
        self._room = threading.Condition(self._lock)
        self._backlog_warned = False
        self._pending_rows = 0
        self._last_ns = 0
        self._counter = random.getrandbits(62)
        self._flush_requested = 0
        self._flush_done = 0
        self._thread: threading.Thread | None = None
        self._stopping = False

    def after_fork_in_child(self) -> None:
        """A forked child starts with no pending rows (they are the parent's) and no thread."""
        self._init_state()

    @property
    def rows_taken(self) -> int:
        """Row ids handed out so far (one per logged row, ``n`` per ``next_row_ids(n)``)."""
        return self._counter

    # -- logging thread ---------------------------------------------------------------------------
    def next_row_ids(self, n: int) -> tuple[int, int]:
        """Reserve ``n`` row ids; returns (ns, first counter). Caller holds no lock."""
        with self._lock:
            ns = time.time_ns()
            if ns < self._last_ns:
                ns = self._last_ns
            self._last_ns = ns
            first = self._counter + 1
            self._counter += n
            return ns, first

    def push(self, entity: str, static: bool, tsig: tuple, tvalues: Sequence[int], batches, archetypes: tuple,
             sig: tuple) -> int:
        """Append one row; returns its log_time (ns).

        ``sig`` is ``batches_signature(batches)``: arrow types by identity, which is safe because an
        accumulator keeps its first batch's type objects alive, so an equal id means the same type.
        """
        key = (entity, static, tsig, sig)
        size = 32  # RowId and log_time
        for b in batches:
            data = b.data
            if type(data) is tuple or type(data) is list:  # Python values (one scalar, strings): ~16 B each
                size += 16 * len(data)
            else:
                try:
                    size += data.nbytes
                except AttributeError:
                    size += 16 * len(data)
        with self._lock:
            acc = self._accs.get(key)
            if acc is None:
                acc = self._accs[key] = _Acc(entity, static, tsig, batches, archetypes, self._schemas.get(key))
            ns = time.time_ns()
            if ns < self._last_ns:
                ns = self._last_ns
            self._last_ns = ns
            self._counter += 1
            acc.rows.append((ns, self._counter, *tvalues))
            datas = acc.datas
            if len(datas) == 1:
                datas[0].append(batches[0].data)
            else:
                for lst, b in zip(datas, batches):
                    lst.append(b.data)
            self._pending_bytes += size
            self._pending_rows += 1
            self._unemitted += size
            if self._unemitted + self._emitting > self._max_backlog and self._thread is not None:
                self._wait_for_room()
            if self._pending_bytes >= self._max_bytes or self._pending_rows >= self._max_rows:
                # cut here, deterministically: these rows become chunks of their own
                self._sealed.append(self._accs)
                self._accs = {}
                self._pending_bytes = self._pending_rows = 0
                self._wake.notify()
            elif self._pending_rows == 1:
                self._wake.notify()
            if self._thread is None:
                self._start()
        return ns

    def _wait_for_room(self) -> None:
        """Called with the lock held by a logging thread: wait until the backlog drains.

        The sink's own policy bounds how long that can take (``block`` drops with a warning after
        its timeout), so this never waits forever; a long wait is reported once.
        """
        self._wake.notify()
        waited = 0.0
        while self._unemitted + self._emitting > self._max_backlog and not self._stopping:
            self._room.wait(1.0)
            waited += 1.0
            if waited >= 5.0 and not self._backlog_warned:
                self._backlog_warned = True
                if self._on_error is not None:
                    self._on_error(TimeoutError(
                        f"logging is waiting: {self._unemitted + self._emitting} bytes are not yet accepted by the "
                        f"sink (limit {self._max_backlog} bytes of backlog)"))

    def push_chunk(self, batch: pa.RecordBatch) -> None:
        """Queue an already-built chunk (``send_columns``) behind the rows logged before it."""
        with self._lock:
            self._unemitted += batch.nbytes
            self._ready.append(batch)
            if self._thread is None:
                self._start()
            else:
                self._wake.notify()

    def flush(self, timeout: float | None = None) -> bool:
        """Block until every row pushed before this call has been handed to ``on_chunk``."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                if not self._accs and not self._ready and not self._sealed:
                    return True
                self._start()
            self._flush_requested += 1
            target = self._flush_requested
            self._wake.notify()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._done:
            while self._flush_done < target:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._done.wait(min(remaining, 0.5) if remaining is not None else 0.5)
                thread = self._thread
                if thread is not None and not thread.is_alive() and self._flush_done < target:
                    with self._lock:  # the thread died (it should not): start another to finish the work
                        if self._thread is thread:
                            self._start()
        return True

    def stop(self, timeout: float | None = 10.0) -> bool:
        """Flush, then end the thread; False when rows were still not handed over after ``timeout``."""
        flushed = self.flush(timeout)
        with self._lock:
            self._stopping = True
            self._wake.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return flushed

    # -- batcher thread -----------------------------------------------------------------------------
    def _start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="rerun_zmq-batcher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        cfg = self.config
        wait = cfg.flush_tick
        while True:
            with self._lock:
                while not (self._accs or self._sealed or self._ready or self._flush_requested > self._flush_done
                           or self._stopping):
                    self._wake.wait()  # idle: no timer, no CPU
                if not (self._flush_requested > self._flush_done or self._stopping or self._sealed):
                    self._wake.wait(wait)
                accs = [*self._sealed, self._accs]
                ready = self._ready
                self._accs, self._sealed, self._ready = {}, [], []
                self._pending_bytes = self._pending_rows = 0
                self._emitting, self._unemitted = self._unemitted, 0
                target = self._flush_requested
                stopping = self._stopping
            started = time.perf_counter()
            self._emit(accs, ready)
            with self._lock:
                self._emitting = 0
                self._backlog_warned = False
                self._room.notify_all()
            if self.on_pass_end is not None:
                try:
                    self.on_pass_end()
                except Exception as exc:  # noqa: BLE001 - reported, the thread goes on
                    self._report(exc)
            spent = time.perf_counter() - started
            wait = max(cfg.flush_tick, 4.0 * spent)
            with self._done:
                self._flush_done = target
                self._done.notify_all()
            if stopping:
                return

    def _emit(self, acc_sets: list[dict], ready: list) -> None:
        schemas = self._schemas
        if len(schemas) > 10_000:
            schemas.clear()
        for accs in acc_sets:
            for key, acc in accs.items():
                try:
                    batch = acc.build()
                except Exception as exc:  # noqa: BLE001 - reported to the user, never kills the thread
                    self._report(exc)
                    continue
                schemas[key] = acc.schema
                self._deliver(batch)
        for batch in ready:
            self._deliver(batch)

    def _deliver(self, batch: pa.RecordBatch) -> None:
        try:
            self._on_chunk(batch)
        except Exception as exc:  # noqa: BLE001 - a sink failure must not stop the batcher
            self._report(exc)

    def _report(self, exc: BaseException) -> None:
        """Tell the user; never let the telling (e.g. warnings turned into errors) stop the thread."""
        if self._on_error is None:
            return
        try:
            self._on_error(exc)
        except Exception as again:  # noqa: BLE001 - last resort: stderr, and the thread goes on
            print(f"rerun_zmq: {exc} (and reporting it failed: {again})", file=sys.stderr, flush=True)
