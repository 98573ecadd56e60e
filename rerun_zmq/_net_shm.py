"""Big frames through shared memory when the producer and the ingest run on the same machine.

Over loopback TCP a 12 MB frame is copied four times (into the kernel, out of it into libzmq's
buffer, into the store's memory) and the store's memory is new, so every page of it is faulted in
while the frame is received. On one machine the frame can instead be handed over:

- the sink copies the big buffer into a *memfd* (an anonymous shared-memory file) that a background
  thread created and populated ahead of time, unmaps it and *seals* it (no write, shrink or grow:
  from then on nobody can change its bytes, so what the ingest validated stays valid);
- the CHUNK header lists ``"_shm": [[body frame, fd, size], ...]`` and those body frames travel
  empty;
- the ingest opens ``/proc/<pid>/fd/<fd>`` of the producer, checks the file (see
  ``ingest.shm``), maps it read-only and keeps the mapping as the frame: no copy at all on its side.

The producer keeps the memfd open until the chunk is acknowledged (a resend after an ingest restart
uses it again), then closes it; the ingest's mapping keeps the pages alive while the store holds the
chunk. Nothing is ever left behind: a memfd has no name in any file system.

Negotiation: the sink's HELLO carries ``shm_probe = {"pid", "fd", "token"}``, a tiny sealed memfd
whose name holds a random token. Only an ingest that can open and check it (same machine, same
user, a process namespace where that pid is this producer) answers ``"shm": true`` in its
``ingest_info``; every memfd of the sink carries the same token in its name, so the ingest accepts
only this producer's own files. Anything else (another machine, an older ingest, ``--no-shm``,
``RERUN_ZMQ_SHM=0``) keeps the "buffers" form over TCP.
"""

from __future__ import annotations

import ctypes
import json
import mmap
import os
import secrets
import sys
import threading
import time
from collections import deque

import numpy as np

try:
    import fcntl
except ImportError:  # Windows: no memfds, no shared-memory frames (``supported`` says so)
    fcntl = None  # type: ignore[assignment]

#: header key listing the body frames that travel as memfds
KEY = "_shm"
#: HELLO field carrying the probe
PROBE = "shm_probe"
#: buffers at least this big go through shared memory (smaller ones are cheaper to copy over TCP)
MIN_BYTES = 1 << 20
NAME_PREFIX = "rerun-zmq-"
MADV_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)  # Linux >= 5.14
SEALS = (getattr(fcntl, "F_SEAL_SEAL", 1) | getattr(fcntl, "F_SEAL_SHRINK", 2)
         | getattr(fcntl, "F_SEAL_GROW", 4) | getattr(fcntl, "F_SEAL_WRITE", 8))
_ENV = "RERUN_ZMQ_SHM"


def supported() -> bool:
    """memfds with seals (Linux) and not turned off with ``RERUN_ZMQ_SHM=0``."""
    if os.environ.get(_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return (sys.platform.startswith("linux") and hasattr(os, "memfd_create")
            and hasattr(fcntl, "F_ADD_SEALS") and hasattr(os, "MFD_ALLOW_SEALING"))


def memfd_name(token: str) -> str:
    return NAME_PREFIX + token


def _memfd(token: str, size: int) -> int:
    fd = os.memfd_create(memfd_name(token), os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        os.ftruncate(fd, size)
    except OSError:
        os.close(fd)
        raise
    return fd


_libc_madvise = None


def _populate(m: mmap.mmap) -> None:
    """Fault every page in now: one system call where the kernel can, else a write per page.

    Through ctypes, which lets go of the GIL for the call (``mmap.madvise`` holds it): populating
    12 MB takes ~3 ms, and the user's thread, the batcher and the I/O thread all need the GIL."""
    global _libc_madvise
    try:
        if _libc_madvise is None:
            _libc_madvise = ctypes.CDLL(None, use_errno=True).madvise
            _libc_madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
            _libc_madvise.restype = ctypes.c_int
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


class Probe:
    """The HELLO's proof that this producer shares the ingest's machine: a sealed memfd holding its token."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(16)
        self.fd = _memfd(self.token, len(self.token))
        try:
            os.pwrite(self.fd, self.token.encode(), 0)
            fcntl.fcntl(self.fd, fcntl.F_ADD_SEALS, SEALS)
        except OSError:
            os.close(self.fd)
            raise

    def params(self) -> dict:
        return {"pid": os.getpid(), "fd": self.fd, "token": self.token}

    def close(self) -> None:
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1


def add_to_header(header: bytes, key: str, value: object) -> bytes:
    """``header`` (4-byte prefix + JSON map) with one more field."""
    small = json.loads(header[4:])
    small[key] = value
    return header[:4] + json.dumps(small, separators=(",", ":")).encode()


class MemfdPool:
    """Populated memfds for big frames, prepared ahead by a background thread.

    Sizes are learned from the big buffers the sink sends (``observe``); a few memfds of the biggest
    recent size wait ready, and are freed after ``idle_release`` seconds without big frames.
    ``take(n)`` never waits: with none ready the frame travels over TCP instead."""

    def __init__(self, token: str, ahead: int = 3, idle_release: float = 10.0, max_bytes: int = 1 << 30) -> None:
        self.token = token
        self.ahead = ahead
        self.idle_release = idle_release
        self.max_bytes = max_bytes
        self.hits = self.misses = 0
        self._ready: deque[tuple[int, mmap.mmap]] = deque()
        self._want = 0
        self._recent: deque[int] = deque(maxlen=8)
        self._last_use = 0.0
        self._closed = False
        self._failed = False
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None

    def observe(self, n: int) -> None:
        """A big buffer of ``n`` bytes is being sent: prepare memfds for buffers of about that size."""
        if not MIN_BYTES <= n <= self.max_bytes:
            return
        with self._cv:
            if self._closed:
                return
            self._last_use = time.monotonic()
            self._recent.append(-(-n // (1 << 16)) << 16)
            want = max(self._recent)
            if want != self._want:
                self._want = want
                self._failed = False
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="rerun_zmq-shm", daemon=True)
                self._thread.start()
            self._cv.notify_all()

    def take(self, n: int) -> tuple[int, mmap.mmap] | None:
        """A prepared ``(fd, writable mapping)`` of at least ``n`` bytes (the caller owns both), or None."""
        with self._cv:
            self._last_use = time.monotonic()
            for i, (fd, m) in enumerate(self._ready):
                if n <= len(m) <= n + max(n // 4, 1 << 20):
                    del self._ready[i]
                    self._cv.notify_all()
                    self.hits += 1
                    return fd, m
            self.misses += 1
            return None

    def ready(self) -> int:
        with self._cv:
            return len(self._ready)

    def wait_ready(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` memfds are prepared (tests, warm-up)."""
        with self._cv:
            return self._cv.wait_for(lambda: len(self._ready) >= count, timeout)

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
        self._thread = None
        self._cv = threading.Condition()
        self._drop(self._ready)
        self._closed = True

    @staticmethod
    def _drop(items) -> None:
        while items:
            fd, m = items.pop()
            m.close()
            os.close(fd)

    def _run(self) -> None:
        while True:
            with self._cv:
                while True:
                    if self._closed:
                        return
                    idle = time.monotonic() - self._last_use > self.idle_release
                    if idle and self._ready:
                        self._drop(self._ready)
                    stale = [item for item in self._ready if len(item[1]) != self._want]
                    for item in stale:
                        self._ready.remove(item)
                    self._drop(stale)
                    if self._want and not self._failed and not idle and len(self._ready) < self.ahead:
                        size = self._want
                        break
                    self._cv.wait(self.idle_release)
            fd = -1
            try:
                fd = _memfd(self.token, size)
                m = mmap.mmap(fd, size)  # shared, read-write
                _populate(m)
            except (OSError, ValueError, MemoryError):
                if fd >= 0:
                    os.close(fd)
                with self._cv:  # out of memory: stop preparing until the size changes
                    self._failed = True
                continue
            with self._cv:
                if self._closed:
                    self._drop([(fd, m)])
                    return
                self._ready.append((fd, m))
                self._cv.notify_all()


class ShmSender:
    """Moves the big body frames of an encoded "buffers"-form CHUNK into sealed memfds."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.pool = MemfdPool(probe.token)

    def attach(self, frames: list) -> tuple[list, list[int], int]:
        """``(frames, fds, bytes moved)``: ``frames`` with each big body frame that a prepared memfd
        fits replaced by ``b""`` and listed in the header; the caller owns ``fds`` (close them once
        the chunk is acknowledged or given up). Frames without a ready memfd stay as they are."""
        refs, fds, moved = [], [], 0
        out = list(frames)
        for i in range(3, len(frames)):  # header, schema, packed small buffers, then big buffers
            view = memoryview(frames[i])
            n = view.nbytes
            if n < MIN_BYTES:
                continue
            self.pool.observe(n)
            got = self.pool.take(n)
            if got is None:  # none prepared in time: a fresh one (its pages fault in during the copy)
                try:
                    fd = _memfd(self.probe.token, n)
                except OSError:
                    continue
                try:
                    got = fd, mmap.mmap(fd, n)
                except (OSError, ValueError):
                    os.close(fd)
                    continue
            fd, m = got
            try:
                if len(m) != n:
                    os.ftruncate(fd, n)  # the tail past n is never touched again
                dst = np.frombuffer(m, np.uint8, count=n)
                np.copyto(dst, np.frombuffer(view, np.uint8))  # numpy lets go of the GIL for the copy
                del dst
                m.close()  # sealing against writes needs every writable mapping gone
                fcntl.fcntl(fd, fcntl.F_ADD_SEALS, SEALS)
            except (OSError, ValueError, BufferError):
                m.close()
                os.close(fd)
                continue
            refs.append([i, fd, n])  # index among the message's frames (0: the header)
            fds.append(fd)
            out[i] = b""
            moved += n
        if refs:
            out[0] = add_to_header(frames[0], KEY, refs)
        return out, fds, moved

    def close(self) -> None:
        self.pool.close()
        self.probe.close()


def close_fds(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    fds.clear()
