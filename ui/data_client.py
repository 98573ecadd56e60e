"""Data arriving off the render thread, handed over to the frame loop in bounded slices.

Sources (files, a live ingest endpoint) run on their own threads and put ``Update``s into one
bounded queue; ``DataClient.pump(budget_s)`` runs on the render thread once per frame, applies what
fits in the budget to the stores and returns at once when the queue is empty — a frame never waits
on disk or network, and a fast producer only fills the queue (the file thread then blocks, not us).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from rerun_zmq import _wire
from rerun_zmq._chunk import parse_chunk

from .state import AppState, Notice
from .timefmt import is_user_timeline


@dataclass(frozen=True)
class Update:
    """One item from a source: ``kind`` is hello | chunk | progress | done | error."""

    kind: str
    source: str
    recording_id: str = ""
    application_id: str = ""
    batch: pa.RecordBatch | None = None
    value: Any = None


class DataSource(Protocol):
    """A producer of updates running on its own thread."""

    name: str

    def start(self, out: queue.Queue) -> None: ...

    def stop(self) -> None: ...


class FileSource:
    """Reads one .rrd file on a thread; reports progress as the fraction of bytes read."""

    def __init__(self, path: str) -> None:
        self.path = str(path)
        self.name = Path(path).name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, out: queue.Queue) -> None:
        self._thread = threading.Thread(target=self._run, args=(out,), name=f"rrd:{self.name}", daemon=True)
        self._thread.start()

    def messages(self):
        """Yield updates synchronously (screenshot mode loads everything before the first frame)."""
        from rerun_zmq._rrd import RrdReader

        try:
            reader = RrdReader(self.path)
            last = 0.0
            for msg in reader:
                if self._stop.is_set():
                    return
                if isinstance(msg, _wire.Hello):
                    yield Update("hello", self.name, msg.recording_id, msg.application_id, value=msg.store_kind)
                elif isinstance(msg, _wire.ChunkMsg) and msg.store_kind == "recording":
                    yield Update("chunk", self.name, msg.recording_id, batch=msg.batch)
                frac = reader.position / max(reader.size, 1)
                if frac - last > 0.01:
                    last = frac
                    yield Update("progress", self.name, value=frac)
            if reader.error:
                yield Update("error", self.name, value=f"{self.name}: {reader.error}")
        except (OSError, ValueError) as exc:
            yield Update("error", self.name, value=f"{self.name}: {exc}")
        yield Update("done", self.name, value=1.0)

    def _run(self, out: queue.Queue) -> None:
        for update in self.messages():
            while not self._stop.is_set():
                try:
                    out.put(update, timeout=0.1)
                    break
                except queue.Full:
                    continue

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)


class WakingQueue(queue.Queue):
    """A bounded queue that wakes the (possibly idle-waiting) render loop on every put."""

    def __init__(self, maxsize: int, wake: Callable[[], None] | None = None) -> None:
        super().__init__(maxsize)
        self.wake = wake

    def put(self, item, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        if self.wake is not None:
            self.wake()


class DataClient:
    """Owns the sources and the stores (one per recording); applies updates on the render thread."""

    def __init__(self, state: AppState, max_queued: int = 512, wake: Callable[[], None] | None = None) -> None:
        self.state = state
        self.queue: queue.Queue[Update] = WakingQueue(max_queued, wake)
        self.sources: list[DataSource] = []
        self.stores: dict[str, Any] = {}
        #: recording id -> timeline -> sorted distinct data times (merged lazily per frame)
        self.times: dict[str, dict[str, np.ndarray]] = {}
        self._pending_times: dict[str, dict[str, list[np.ndarray]]] = {}
        self._seen_timelines: set[str] = set()
        self.live = None  # the LiveSource, when connected
        #: recordings the user closed: their live chunks are ignored (a file opened again un-closes)
        self.closed: set[str] = set()

    def add(self, source: DataSource) -> None:
        self.sources.append(source)
        if isinstance(source, FileSource):
            self.state.progress[source.name] = (0.0, False)
        source.start(self.queue)

    def load_now(self, source: FileSource) -> None:
        """Apply a whole file before returning (screenshot mode)."""
        for update in source.messages():
            self.apply(update)
        self.finish_batch()

    def pump(self, budget_s: float = 0.008) -> int:
        """Apply queued updates until the queue is empty or the budget is spent; never blocks.

        An update that raises is dropped, reported (``ui.faults``: logged once, in the status bar)
        and the next one applies: one malformed chunk never ends the frame loop.
        """
        deadline = time.perf_counter() + budget_s
        n = 0
        while time.perf_counter() < deadline:
            try:
                update = self.queue.get_nowait()
            except queue.Empty:
                break
            try:
                self.apply(update)
            except Exception as exc:  # noqa: BLE001 - the data step's fault boundary, per update
                self._fault(f"data from {update.source}", f"dropped a {update.kind} update", exc)
            n += 1
        if n:
            try:
                self.finish_batch()
            except Exception as exc:  # noqa: BLE001 - same boundary: the next batch tries again
                self._fault("data", "could not index new times", exc)
        return n

    def _fault(self, where: str, what: str, exc: Exception) -> None:
        s = self.state
        s.faults.report(where, exc, s.frame, s.errors)
        s.faults.clear(where)  # a one-off: it stays in the error list and the notice, not as "failing"
        s.notice = Notice(f"{where}: {what}: {type(exc).__name__}: {exc}", "error")

    # -- applying ----------------------------------------------------------------------------------
    def _store_for(self, recording_id: str, application_id: str = ""):
        from store import TimelineStore

        st = self.stores.get(recording_id)
        if st is None:
            st = self.stores[recording_id] = TimelineStore()
            self.state.recordings[recording_id] = application_id
        elif application_id:
            self.state.recordings[recording_id] = application_id
        return st

    def _activate(self, recording_id: str) -> None:
        s = self.state
        if s.recording_id == recording_id:
            return
        s.recording_id = recording_id
        s.application_id = s.recordings.get(recording_id) or None
        s.store = self.stores[recording_id]
        s.time.timeline, s.time.user_chose = None, False
        s.time.times = self.times.setdefault(recording_id, {})
        self._seen_timelines = set()
        s.generation += 1

    def forget(self, recording_id: str) -> None:
        """The user closed ``recording_id``: drop its store and stop mirroring it."""
        self.closed.add(recording_id)
        self.stores.pop(recording_id, None)
        self.times.pop(recording_id, None)
        self._pending_times.pop(recording_id, None)
        untail = getattr(self.live, "untail", None)
        if untail is not None:
            untail(recording_id)

    def apply(self, update: Update) -> None:
        s = self.state
        if update.recording_id in self.closed:
            if update.kind != "hello":  # a tail still in flight: it would come back half-empty
                return
            self.closed.discard(update.recording_id)  # opened again (a file starts with hello)
        if update.kind in ("hello", "chunk") and update.recording_id:
            srcs = s.recording_sources.setdefault(update.recording_id, [])
            if update.source not in srcs:
                srcs.append(update.source)  # the recordings panel shows where each came from
        if update.kind == "hello":
            if update.value == "recording":
                self._store_for(update.recording_id, update.application_id)
                self._activate(update.recording_id)  # a new run becomes the active recording
        elif update.kind == "chunk":
            st = self._store_for(update.recording_id)
            if s.recording_id is None:
                self._activate(update.recording_id)
            try:
                st.insert(update.batch)
            except ValueError as exc:  # store errors are ValueErrors: show, never crash
                s.errors.append(f"{update.source}: refused chunk: {exc}")
                return
            self._index_times(update.recording_id, update.batch)
            if update.recording_id == s.recording_id:
                s.generation += 1
        elif update.kind == "progress":
            s.progress[update.source] = (float(update.value), False)
        elif update.kind == "done":
            s.progress[update.source] = (1.0, True)
        elif update.kind == "error":
            s.errors.append(str(update.value))
        elif update.kind in ("event", "result", "reset"):
            from .live_apply import apply_live

            apply_live(self, update)

    def _index_times(self, recording_id: str, batch: pa.RecordBatch) -> None:
        pending = self._pending_times.setdefault(recording_id, {})
        for name in parse_chunk(batch).timelines:
            col = batch.column(name)
            vals = col.drop_null().to_numpy() if col.null_count else col.to_numpy()
            pending.setdefault(name, []).append(np.asarray(vals, dtype=np.int64))

    def finish_batch(self) -> None:
        """Merge newly seen times and follow new timelines / the live end."""
        t = self.state.time
        for rid, per_timeline in self._pending_times.items():
            times = self.times.setdefault(rid, {})
            for name, parts in per_timeline.items():
                old = times.get(name)
                times[name] = np.unique(np.concatenate(([old] if old is not None else []) + parts))
        self._pending_times = {}
        if self.state.store is None:  # live, before any recording exists
            return
        if self.state.recording_id is not None:
            t.times = self.times.setdefault(self.state.recording_id, {})
        names = set(self.state.store.timelines())
        new = sorted(n for n in names - self._seen_timelines if is_user_timeline(n))
        self._seen_timelines |= names
        if t.timeline is None or (new and not t.user_chose):
            pick = new[0] if new else (self.state.user_timelines() or sorted(names) or [None])[0]
            if pick is not None:
                select_timeline(self.state, pick, user=False)
        if t.follow and t.timeline is not None and not t.playing:
            rng = self.state.store.time_range(t.timeline)
            if rng is not None:
                t.cursor = rng[1]

    def has_source(self, name: str) -> bool:
        return any(src.name == name for src in self.sources)

    def close(self) -> None:
        for source in self.sources:
            source.stop()


def select_timeline(state: AppState, name: str, user: bool = True) -> None:
    """Switch the time cursor to ``name``, keeping follow-live and moving to its end."""
    t = state.time
    kinds = state.store.timelines()
    if name not in kinds:
        raise ValueError(f"unknown timeline {name!r}; known: {sorted(kinds)}")
    t.timeline, t.kind = name, kinds[name]
    t.user_chose = t.user_chose or user
    rng = state.store.time_range(name)
    if rng is not None:
        t.cursor = rng[1]
