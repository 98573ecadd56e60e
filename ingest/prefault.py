"""Prefaulted memory for the big frames of received chunks.

The store keeps every chunk it receives, so each big frame lands in memory the process never touched
before, and its page faults were paid inside the receive path: one fault per 4 KiB page while the
kernel copies the frame off the socket (a 12 MB frame: ~3,000 faults). A receiver that frees its
messages reuses warm memory and pays none of that.

``FramePool`` moves the faults off the receive path. A background thread keeps a few buffers of
the size big frames have recently had, already populated (``MADV_POPULATE_WRITE``, one system
call for the whole buffer), and the ingest receives a big frame straight into one of them with
``recv_into``. libzmq's own receive buffer is then freed right after the copy and reused for the
next frame, so it stays warm too.

Only sizes of frames that actually arrived are prepared (a header's claims are not trusted for
that); buffers waiting longer than ``idle_release`` seconds with no big frame arriving are freed.
``plan(header)`` reads the sizes of the big body frames of a "buffers"-form CHUNK from its layout.
"""

from __future__ import annotations

import ctypes
import json
import mmap
import sys
import threading
import time
from collections import deque

from rerun_zmq import _net_shm, _wire, _wire_buffers
from rerun_zmq._wire import Kind

MADV_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)  # Linux >= 5.14
_PAGE = mmap.PAGESIZE
_MAX_NODES = 10_000


def _round_up(n: int, step: int) -> int:
    return -(-n // step) * step


def keep_receive_buffers_warm() -> bool:
    """Ask glibc's allocator to keep freed blocks of up to 32 MiB for reuse (True if it took).

    libzmq receives each frame into a block it allocates and frees once ``recv_into`` has copied it
    out. With glibc's defaults, a freed block at the top of a thread's heap is given back to the
    system and the next frame faults every page in again; keeping it makes that buffer warm. The
    cost is that up to 128 MiB of freed memory per heap is kept instead of returned at once.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 128 << 20))


def populate(m: mmap.mmap) -> None:
    """Fault in every page of ``m`` now, in one call where the kernel can (else a write per page)."""
    try:
        m.madvise(MADV_POPULATE_WRITE)
        return
    except (OSError, ValueError):
        pass
    import numpy as np

    np.frombuffer(m, np.uint8)[::_PAGE] = 0


class FramePool:
    """Populated buffers for big received frames; ``take(n)`` is called on the receiving thread."""

    def __init__(self, min_bytes: int = 1 << 20, ahead: int = 3, idle_release: float = 10.0,
                 max_bytes: int = 1 << 30, clock=time.monotonic) -> None:
        self._clock = clock
        self.min_bytes = min_bytes
        self.ahead = ahead
        self.idle_release = idle_release
        self.max_bytes = max_bytes
        self.hits = self.misses = 0
        self._ready: deque[mmap.mmap] = deque()
        self._want = 0  # the size to prepare: the biggest of the recently received big frames
        self._recent: deque[int] = deque(maxlen=8)
        self._last_use = 0.0
        self._closed = False
        self._cv = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="ingest-prefault", daemon=True)
        self._thread.start()

    @staticmethod
    def supported() -> bool:
        return sys.platform.startswith("linux")

    def plan(self, header) -> dict[int, int] | None:
        """``{body frame index: bytes}`` for the big frames a "buffers"-form CHUNK header references,
        or None. Malformed headers give None: the message is then received as usual and the
        handler reports what is wrong with it."""
        head = header.bytes if hasattr(header, "bytes") else bytes(header)
        if _wire_buffers.LAYOUT.encode() not in head:
            return None
        try:
            if _wire.peek_kind(head) != Kind.CHUNK:
                return None
            layout = json.loads(head[4:]).get(_wire_buffers.LAYOUT)
            stack = list(layout["cols"])
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError, _wire.WireError):
            return None
        ends: dict[int, int] = {}
        seen = 0
        while stack:
            node = stack.pop()
            seen += 1
            if seen > _MAX_NODES or not (isinstance(node, list) and len(node) == 3):
                return None
            _, refs, kids = node
            if not (isinstance(refs, list) and isinstance(kids, list)):
                return None
            for r in refs:
                if (isinstance(r, list) and len(r) == 3 and all(type(x) is int and x >= 0 for x in r)
                        and r[0] >= 2):
                    ends[r[0]] = max(ends.get(r[0], 0), r[1] + r[2])
            stack.extend(kids)
        # body frame 0 is the header: the layout's frame k is body frame k + 1; frames that travel in
        # shared memory (``ingest.shm``) arrive empty
        shm = json.loads(head[4:]).get(_net_shm.KEY) if _net_shm.KEY.encode() in head else None
        skip = {r[0] for r in shm if isinstance(r, list) and r} if isinstance(shm, list) else set()
        plan = {k + 1: n for k, n in ends.items() if self.min_bytes <= n <= self.max_bytes and k + 1 not in skip}
        return plan or None

    def take(self, n: int) -> memoryview | None:
        """A writable, populated view of ``n`` bytes, or None (receive as usual) when none is ready."""
        with self._cv:
            self._last_use = self._clock()
            for i, m in enumerate(self._ready):
                if n <= len(m) <= n + max(n // 4, 1 << 20):
                    del self._ready[i]
                    self._cv.notify_all()
                    break
            else:
                self.misses += 1
                return None
        self.hits += 1
        tail = _round_up(n, _PAGE)
        if len(m) - tail >= _PAGE:
            try:
                m.madvise(mmap.MADV_DONTNEED, tail, len(m) - tail)  # give back what this frame does not use
            except (OSError, ValueError):
                pass
        return memoryview(m)[:n]

    def observe(self, n: int) -> None:
        """A big frame of ``n`` bytes arrived: prepare buffers for frames of about that size."""
        if not self.min_bytes <= n <= self.max_bytes:
            return
        with self._cv:
            self._last_use = self._clock()
            self._recent.append(_round_up(n, 1 << 16))
            want = max(self._recent)
            if want != self._want:
                self._want = want
                self._cv.notify_all()

    def ready_bytes(self) -> int:
        with self._cv:
            return sum(len(m) for m in self._ready)

    def wait_ready(self, nbytes: int, timeout: float) -> bool:
        """Wait until buffers of at least ``nbytes`` in all are prepared (for tests and warm-up)."""
        with self._cv:
            return self._cv.wait_for(lambda: sum(len(m) for m in self._ready) >= nbytes, timeout)

    def release_if_idle(self) -> bool:
        """Free the prepared buffers if no big frame came for ``idle_release`` seconds (the background
        thread calls this; True if it freed any)."""
        with self._cv:
            return self._release_if_idle()

    def _release_if_idle(self) -> bool:
        if self._ready and self._clock() - self._last_use > self.idle_release:
            self._drop(self._ready)
            return True
        return False

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self._thread.join(5.0)
        with self._cv:
            self._drop(self._ready)

    @staticmethod
    def _drop(buffers) -> None:
        while buffers:
            m = buffers.pop()
            try:
                m.close()
            except BufferError:  # still exported (cannot happen for a buffer never handed out)
                pass

    def _run(self) -> None:
        while True:
            with self._cv:
                while True:
                    if self._closed:
                        return
                    self._release_if_idle()
                    idle = self._clock() - self._last_use
                    stale = [m for m in self._ready if len(m) != self._want]
                    for m in stale:
                        self._ready.remove(m)
                    self._drop(stale)
                    if self._want and len(self._ready) < self.ahead and idle <= self.idle_release:
                        size = self._want
                        break
                    self._cv.wait(self.idle_release if self._ready else None)
            try:
                m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
                populate(m)
            except (OSError, ValueError, MemoryError):
                with self._cv:  # out of memory: stop preparing until the next frame arrives
                    self._want = 0
                continue
            with self._cv:
                self._ready.append(m)
                self._cv.notify_all()
