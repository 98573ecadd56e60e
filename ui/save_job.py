"""File > Save on a background thread: the render thread only snapshots the store's chunk list.

``SaveJob.start`` checks the target and takes the snapshot (``recording_io.snapshot``: references
to immutable Arrow batches, no copy) on the render thread, then a thread writes the file
(``recording_io.save_chunks``: a temporary name renamed over the target when complete). Data
arriving meanwhile goes into the store as usual and is not in the file; nothing is locked.
``poll(state)`` (each frame) turns a finished job into the status bar's notice. One save at a time:
a second one is refused while the first runs (``SaveBusy``), rather than queued, so what is written
where is always what the user just asked for.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .recording_io import SaveCancelled, check_target, save_chunks, snapshot
from .state import AppState, Notice

log = logging.getLogger("ui")

CLOSE_WAIT_S = 30.0  # closing the viewer waits this long for a running save, then cancels it


class SaveBusy(ValueError):
    """A save is already running."""


@dataclass
class SaveResult:
    path: Path
    rows: int = 0
    bytes: int = 0
    error: str | None = None  # None: saved


class SaveJob:
    """One save running on its own thread; ``done``/``total`` chunks give the progress."""

    def __init__(
        self,
        path: Path,
        chunks: list,
        recording_id: str,
        application_id: str | None,
        time_range: tuple[str, int, int] | None = None,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.path = path
        self.total = len(chunks)
        self.done = 0
        self.result: SaveResult | None = None
        self._args = (chunks, recording_id, application_id, time_range)
        self._wake = wake
        self._cancel = threading.Event()
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"save:{path.name}", daemon=True)

    @classmethod
    def start(
        cls,
        path: str | os.PathLike,
        store,
        recording_id: str,
        application_id: str | None,
        time_range: tuple[str, int, int] | None = None,
        wake: Callable[[], None] | None = None,
    ) -> SaveJob:
        """Check ``path``, snapshot ``store`` (on the caller's thread, which owns it) and start writing."""
        job = cls(check_target(path), snapshot(store), recording_id, application_id, time_range, wake)
        job._thread.start()
        return job

    @property
    def running(self) -> bool:
        return not self._finished.is_set()

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else 0.0

    def describe(self) -> str:
        return f"{self.path.name}, {self.progress * 100:.0f} %"

    def wait(self, timeout: float | None = None) -> bool:
        """True once the file is written (or the save failed)."""
        return self._finished.wait(timeout)

    def cancel(self, timeout: float = 5.0) -> None:
        """Stop after the chunk being written; the partial file is removed, the target untouched."""
        self._cancel.set()
        self._finished.wait(timeout)

    def _tick(self) -> None:
        self.done += 1

    def _run(self) -> None:
        try:
            rows = save_chunks(self.path, *self._args, on_chunk=self._tick, cancelled=self._cancel.is_set)
            self.result = SaveResult(self.path, rows, self.path.stat().st_size)
        except SaveCancelled as exc:
            self.result = SaveResult(self.path, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - the save thread's boundary: every failure is reported in the UI
            if not isinstance(exc, (OSError, ValueError)):
                log.error("saving %s failed", self.path, exc_info=exc)
            self.result = SaveResult(self.path, error=f"{type(exc).__name__}: {exc}")
        finally:
            self._args = ()  # the snapshot's chunks can be freed now
            self._finished.set()
            if self._wake is not None:
                self._wake()  # an idle window shows the result at once

    def finish(self, timeout: float = CLOSE_WAIT_S) -> None:
        """Closing the viewer: let a running save end (``timeout`` at most), then cancel it."""
        try:
            if self.wait(timeout):
                return
        except BaseException:  # a second Ctrl+C while waiting: stop the thread too
            self._cancel.set()
            raise
        log.warning("saving %s still runs after %.0f s: cancelled; the file was not written", self.path, timeout)
        self.cancel()


def start_save(
    state: AppState,
    path: str,
    time_range: tuple[str, int, int] | None = None,
    wake: Callable[[], None] | None = None,
) -> SaveJob:
    """Start saving the active recording; ``SaveBusy`` while another save runs."""
    running = state.save_job
    if running is not None and running.running:
        raise SaveBusy(f"a save is already running ({running.describe()}); wait for it to finish")
    if state.store is None or state.recording_id is None:
        raise ValueError("no recording is open")
    job = SaveJob.start(path, state.store, state.recording_id, state.application_id, time_range, wake)
    state.save_job = job
    state.notice = None  # the status bar shows the running save's progress, then its result
    return job


def poll(state: AppState) -> None:
    """Once per frame: a finished save becomes the status bar's notice (and an error list entry)."""
    job = state.save_job
    if job is None or job.running:
        return
    state.save_job = None
    r = job.result
    if r is None or r.error is not None:
        text = f"saving {job.path} failed: {r.error if r is not None else 'no result'}"
        state.notice = Notice(text, "error")
        state.errors.append(text)
    else:
        state.notice = Notice(f"saved {r.rows:,} rows to {r.path} ({_size(r.bytes)})")


def _size(n: int) -> str:
    """``1234567`` -> ``"1.2 MB"``."""
    if n < 1000:
        return f"{n:,} bytes"
    scaled, unit = float(n), "bytes"
    for unit in ("KB", "MB", "GB"):  # noqa: B007 - the unit the loop stopped at is the answer
        scaled /= 1000
        if scaled < 1000:
            break
    return f"{scaled:.1f} {unit}"
