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
import itertools
import json
import mmap
import os
import secrets
import sys

try:
    import fcntl
except ImportError:  # Windows: no memfds, no shared-memory frames (``supported`` says so)
    fcntl = None  # type: ignore[assignment]

from ._prepared import PreparedPool, populate

#: header key listing the body frames that travel as memfds
KEY = "_shm"
#: HELLO field carrying the probe
PROBE = "shm_probe"
#: buffers at least this big go through shared memory (smaller ones are cheaper to copy over TCP)
MIN_BYTES = 1 << 20
NAME_PREFIX = "rerun-zmq-"
SEALS = (getattr(fcntl, "F_SEAL_SEAL", 1) | getattr(fcntl, "F_SEAL_SHRINK", 2)
         | getattr(fcntl, "F_SEAL_GROW", 4) | getattr(fcntl, "F_SEAL_WRITE", 8))
_ENV = "RERUN_ZMQ_SHM"


def supported() -> bool:
    """memfds with seals (Linux) and not turned off with ``RERUN_ZMQ_SHM=0``."""
    if os.environ.get(_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return (sys.platform.startswith("linux") and hasattr(os, "memfd_create")
            and hasattr(fcntl, "F_ADD_SEALS") and hasattr(os, "MFD_ALLOW_SEALING"))


#: serial numbers of this process's memfds (0 is the probe): with the token, a memfd's name is unique,
#: so a descriptor number closed and reused for another memfd never passes for the one a header meant
_serials = itertools.count(1)


_MAP_FAILED = ctypes.c_void_p(-1).value
_libc_calls: tuple | None = None


def _libc() -> tuple:
    """libc's ``mmap`` and ``munmap`` (loaded on first use: only Linux gets here)."""
    global _libc_calls
    if _libc_calls is None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                              ctypes.c_long)
        libc.mmap.restype = ctypes.c_void_p
        libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
        libc.munmap.restype = ctypes.c_int
        _libc_calls = libc.mmap, libc.munmap
    return _libc_calls


class ReadOnlyMapping:
    """A read-only shared mapping of ``size`` bytes of ``fd``, unmapped when garbage. Unlike
    ``mmap.mmap`` it keeps no duplicate of the descriptor (``fd`` may be closed at once), and
    ``on_free`` runs after the unmapping."""

    __slots__ = ("addr", "size", "on_free", "_munmap")

    def __init__(self, fd: int, size: int, on_free=None) -> None:
        self.addr = None  # (``__del__`` runs even when the mapping failed)
        self.on_free = on_free
        libc_mmap, self._munmap = _libc()
        addr = libc_mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0), fd, 0)
        if addr is None or addr == _MAP_FAILED:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        self.addr, self.size = addr, size

    def __del__(self) -> None:
        if self.addr is not None:
            self._munmap(self.addr, self.size)
            if self.on_free is not None:
                self.on_free(self)


#: every memfd of this process carries this token (a forked child draws its own), so any of its
#: sinks may hand any of them over (``_shm_copy``)
_token = secrets.token_hex(16)


def process_token() -> str:
    return _token


def _new_token_in_child() -> None:
    global _token
    _token = secrets.token_hex(16)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_token_in_child)


def memfd_name(token: str, serial: int = 0) -> str:
    return f"{NAME_PREFIX}{token}-{serial}"


def _memfd(token: str, size: int, serial: int = 0) -> int:
    fd = os.memfd_create(memfd_name(token, serial), os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        os.ftruncate(fd, size)
    except OSError:
        os.close(fd)
        raise
    return fd


class Probe:
    """The HELLO's proof that this producer shares the ingest's machine: a sealed memfd holding its token."""

    def __init__(self) -> None:
        self.token = process_token()
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


class MemfdPool(PreparedPool):
    """Populated memfds (``(fd, writable shared mapping, serial)``) for big frames, prepared ahead;
    the caller of ``take`` owns them. Sizes are learned from the big buffers the sink sends."""

    thread_name = "rerun_zmq-shm"

    def __init__(self, token: str, **kwargs) -> None:
        super().__init__(min_bytes=MIN_BYTES, **kwargs)
        self.token = token

    def _make(self, size: int) -> tuple[int, mmap.mmap, int]:
        serial = next(_serials)
        fd = _memfd(self.token, size, serial)
        try:
            m = mmap.mmap(fd, size)  # shared, read-write
            populate(m)
        except BaseException:
            os.close(fd)
            raise
        return fd, m, serial

    @staticmethod
    def _size(item: tuple[int, mmap.mmap, int]) -> int:
        return len(item[1])

    @staticmethod
    def _free(item: tuple[int, mmap.mmap, int]) -> None:
        fd, m, _ = item
        m.close()
        os.close(fd)


def fresh_memfd(size: int) -> tuple[int, mmap.mmap, int]:
    """A new memfd of this process and a writable mapping of it: ``(fd, mapping, serial)``."""
    serial = next(_serials)
    fd = _memfd(process_token(), size, serial)
    try:
        return fd, mmap.mmap(fd, size), serial
    except (OSError, ValueError):
        os.close(fd)
        raise


def inline(frames: list) -> list:
    """``frames`` (a CHUNK listing memfds under ``"_shm"``, its descriptors still open) with each memfd's
    bytes back in its frame (a read-only mapping: no copy here), for an ingest that does not take them."""
    small = json.loads(frames[0][4:])
    refs = small.pop(KEY, [])
    out = list(frames)
    for k, fd, size, _ in refs:
        out[k] = mmap.mmap(fd, size, prot=mmap.PROT_READ)  # keeps its own descriptor
    out[0] = frames[0][:4] + json.dumps(small, separators=(",", ":")).encode()
    return out


def close_inherited(token: str) -> None:
    """In a forked child: close every descriptor of a memfd this token named (pending frames, the
    probe, the pool's buffers, one the parent's threads were preparing at the moment of the fork)."""
    prefix = f"/memfd:{NAME_PREFIX}{token}-"
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith(prefix):
                os.close(int(name))
        except (OSError, ValueError):
            pass


def close_fds(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    fds.clear()
