"""Memory prepared ahead by a background thread, in the size that big frames have recently had.

A 12 MB frame written into memory the process never touched costs ~3,000 page faults (~3 ms here)
on the thread that writes it. ``PreparedPool`` moves that cost to a thread of its own: whoever is
about to write a big frame says its size (``observe``) and takes a buffer (``take``); the thread
keeps ``ahead`` buffers of the biggest recent size ready, and frees them after ``idle_release``
seconds without big frames. ``take`` never waits: with none ready the caller does without.

Subclasses say what a buffer is (``_make``, ``_size``, ``_free``): populated anonymous memory for
the ingest's receive path (``ingest.prefault.FramePool``), populated memfds for the sink's
shared-memory frames (``rerun_zmq._net_shm.MemfdPool``).
"""

from __future__ import annotations

import ctypes
import mmap
import threading
import time
from collections import deque
from typing import Any

MADV_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)  # Linux >= 5.14
_libc_madvise = None


def populate(m: mmap.mmap) -> None:
    """Fault every page of ``m`` in now: one system call where the kernel can, else a write per page.

    Through ctypes, which lets go of the GIL for the call (``mmap.madvise`` holds it, and populating
    12 MB takes ~3 ms while other threads of the process want the GIL)."""
    global _libc_madvise
    try:
        if _libc_madvise is None:
            madvise = ctypes.CDLL(None, use_errno=True).madvise
            madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
            madvise.restype = ctypes.c_int
            _libc_madvise = madvise
        anchor = ctypes.c_char.from_buffer(m)
        addr = ctypes.addressof(anchor)
        del anchor  # release the export, or the mapping could never be closed
        if _libc_madvise(addr, len(m), MADV_POPULATE_WRITE) == 0:
            return
    except (OSError, AttributeError, TypeError, ValueError):
        pass
    try:
        m.madvise(MADV_POPULATE_WRITE)
    except (OSError, ValueError):
        for off in range(0, len(m), mmap.PAGESIZE):
            m[off] = 0


class PreparedPool:
    """Buffers for big frames, prepared by a background thread (started with the first ``observe``)."""

    #: the background thread's name
    thread_name = "rerun_zmq-prepare"

    def __init__(self, min_bytes: int = 1 << 20, ahead: int = 3, idle_release: float = 10.0,
                 max_bytes: int = 1 << 30, max_ready_bytes: int = 256 << 20, clock=time.monotonic) -> None:
        self._clock = clock
        #: at most this much prepared at once (but always one buffer, whatever its size)
        self.max_ready_bytes = max_ready_bytes
        self.min_bytes = min_bytes
        self.ahead = ahead
        self.idle_release = idle_release
        self.max_bytes = max_bytes
        self.hits = self.misses = 0
        self._ready: deque = deque()
        self._want = 0  # the size to prepare: the biggest of the recently seen big frames
        self._recent: deque[int] = deque(maxlen=8)
        self._last_use = 0.0
        self._closed = False
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None

    # -- what a buffer is --------------------------------------------------------------------------
    def _make(self, size: int) -> Any:
        """A new populated buffer of ``size`` bytes (runs on the pool's thread, without its lock)."""
        raise NotImplementedError

    @staticmethod
    def _size(item: Any) -> int:
        return len(item)

    @staticmethod
    def _free(item: Any) -> None:
        item.close()

    # -- the callers' side -------------------------------------------------------------------------
    def observe(self, n: int) -> None:
        """A big frame of ``n`` bytes is at hand: prepare buffers for frames of about that size."""
        if not self.min_bytes <= n <= self.max_bytes:
            return
        with self._cv:
            if self._closed:
                return
            self._last_use = self._clock()
            self._recent.append(-(-n // (1 << 16)) << 16)
            want = max(self._recent)
            if want != self._want:
                self._want = want
                self._cv.notify_all()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
                self._thread.start()

    def take(self, n: int) -> Any | None:
        """A prepared buffer of ``n`` bytes up to a quarter (at least 1 MiB) more, now, or None."""
        with self._cv:
            self._last_use = self._clock()
            for i, item in enumerate(self._ready):
                if n <= self._size(item) <= n + max(n // 4, 1 << 20):
                    del self._ready[i]
                    self._cv.notify_all()
                    self.hits += 1
                    return item
            self.misses += 1
            return None

    def ready_bytes(self) -> int:
        with self._cv:
            return self._ready_bytes()

    def _ready_bytes(self) -> int:
        return sum(self._size(item) for item in self._ready)

    def wait_ready(self, nbytes: int, timeout: float) -> bool:
        """Wait until buffers of at least ``nbytes`` in all are prepared (for tests and warm-up)."""
        with self._cv:
            return self._cv.wait_for(lambda: self._ready_bytes() >= nbytes, timeout)

    def release_if_idle(self) -> bool:
        """Free the prepared buffers if no big frame came for ``idle_release`` seconds (the background
        thread calls this; True if it freed any)."""
        with self._cv:
            return self._release_if_idle()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(5.0)
        with self._cv:
            self._drop(self._ready)

    def forget_after_fork(self) -> None:
        """In a forked child: the parent's thread does not exist here; free what it had prepared."""
        self._cv = threading.Condition()
        self._thread = None
        self._closed = True
        self._drop(self._ready)

    # -- the pool's thread -------------------------------------------------------------------------
    def _release_if_idle(self) -> bool:
        if self._ready and self._clock() - self._last_use > self.idle_release:
            self._drop(self._ready)
            return True
        return False

    def _drop(self, items) -> None:
        while items:
            self._free(items.pop())

    def _run(self) -> None:
        while True:
            with self._cv:
                while True:
                    if self._closed:
                        return
                    self._release_if_idle()
                    idle = self._clock() - self._last_use
                    stale = [item for item in self._ready if self._size(item) != self._want]
                    for item in stale:
                        self._ready.remove(item)
                    self._drop(stale)
                    room = not self._ready or self._ready_bytes() + self._want <= self.max_ready_bytes
                    if self._want and len(self._ready) < self.ahead and room and idle <= self.idle_release:
                        size = self._want
                        break
                    self._cv.wait(self.idle_release if self._ready else None)
            try:
                item = self._make(size)
            except (OSError, ValueError, MemoryError):
                with self._cv:  # out of memory: stop preparing until the next frame arrives
                    self._want = 0
                continue
            with self._cv:
                if self._closed:
                    self._free(item)
                    return
                self._ready.append(item)
                self._cv.notify_all()
