"""The log call's copy of a big array made straight into a sealed memfd, while shared memory is in use.

``rr.log`` copies every big array it is given (a 1M-point cloud: 12 MB), so that a buffer the user
reuses cannot change what was logged. While some sink of this process hands big frames to its
ingest in shared memory (``_net_shm``; ``enable``/``disable`` count those sinks), that copy goes
into a memfd prepared ahead by a background thread, is sealed and mapped read-only, and the array
the SDK keeps is that mapping. The sink then lists the memfd in the CHUNK header as it is
(``attach``), where it would otherwise copy the array once more into a memfd (~1.3 ms a frame; it
still does for a big frame that is not such a copy, e.g. rows the batcher joined). The logged
arrays are read-only, which nothing in the SDK writes to anyway.

Every memfd of the process carries the process token (``_net_shm.process_token``), so whichever
sink sends the chunk, the ingest finds the name it expects. A mapping closes its memfd when the
last array over it goes. A forked child starts afresh: it draws a new token, and its parent's
mappings stay valid, but it never hands them over and never closes their descriptors (which the
child closed at the fork).
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pyarrow as pa

from . import _net_shm

try:
    import fcntl
except ImportError:  # Windows: never enabled (``_net_shm.supported``)
    fcntl = None  # type: ignore[assignment]

#: at most this much memfd memory prepared ahead (the process-wide pool)
_POOL_BYTES = 64 << 20
_lock = threading.Lock()
_users = 0
_pool: _net_shm.MemfdPool | None = None
#: address of a live sealed copy -> (fd, size, serial)
_by_addr: dict[int, tuple[int, int, int]] = {}


def _max_live() -> int:
    """Sealed copies alive at once (each holds a file descriptor until its array goes): a quarter of the
    process's descriptor limit, at most 256, so a program keeping many logged objects never runs out
    of descriptors because of us. Past it, copies go to ordinary memory."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return 64
    return 256 if soft == resource.RLIM_INFINITY else max(0, min(256, soft // 4))


_MAX_LIVE = _max_live()


def enable() -> None:
    """A sink now sends big frames in shared memory: make log-time copies in memfds."""
    global _users, _pool
    with _lock:
        _users += 1
        if _pool is None:  # what it prepares ahead is bounded, beside the sinks' max_bytes_in_flight
            _pool = _net_shm.MemfdPool(_net_shm.process_token(), max_ready_bytes=_POOL_BYTES)


def disable() -> None:
    """That sink stopped (closed, or its ingest does not take shared memory)."""
    global _users, _pool
    with _lock:
        _users = max(0, _users - 1)
        pool = _pool if _users == 0 else None
        if pool is not None:
            _pool = None
    if pool is not None:
        pool.close()


def active() -> bool:
    return _users > 0


def lookup(buf: pa.Buffer) -> tuple[int, int] | None:
    """``(fd, serial)`` of the sealed memfd ``buf`` spans exactly, or None."""
    entry = _by_addr.get(buf.address)
    if entry is None or entry[1] != buf.size:
        return None
    return entry[0], entry[2]


class _Owner(_net_shm.ReadOnlyMapping):
    """The read-only mapping of one sealed copy; closes its memfd when unmapped (in the process that made it)."""

    __slots__ = ("fd", "pid")


def _release(owner: _Owner) -> None:
    if owner.pid == os.getpid():
        _by_addr.pop(owner.addr, None)
        try:
            os.close(owner.fd)
        except OSError:
            pass


def sealed_copy(value: np.ndarray, dtype: np.dtype) -> np.ndarray | None:
    """A read-only copy of ``value`` as ``dtype`` in a sealed memfd, or None (copy as usual) when no
    sink uses shared memory or the memfd cannot be made."""
    if _pool is None or not _users:
        return None
    nbytes = value.size * dtype.itemsize
    if nbytes < _net_shm.MIN_BYTES or len(_by_addr) >= _MAX_LIVE:
        return None

    def fill(m) -> None:  # with the casts np.array(value, dtype) makes
        np.copyto(np.frombuffer(m, dtype, count=value.size).reshape(value.shape), value, casting="unsafe")

    sealed = _sealed(nbytes, fill)
    if sealed is None:
        return None
    fd, serial = sealed
    try:
        owner = _Owner(fd, nbytes, _release)
    except OSError:
        os.close(fd)
        return None
    owner.fd, owner.pid = fd, os.getpid()
    _by_addr[owner.addr] = (fd, nbytes, serial)
    buf = pa.foreign_buffer(owner.addr, nbytes, base=owner)
    return np.frombuffer(buf, dtype, count=value.size).reshape(value.shape)


def _sealed(nbytes: int, fill) -> tuple[int, int] | None:
    """A memfd of ``nbytes`` (prepared by the pool if one is ready) that ``fill(writable mapping)``
    wrote, then sealed against writing, shrinking and growing: ``(fd, serial)``, or None."""
    pool, got = _pool, None
    if pool is not None:
        pool.observe(nbytes)
        got = pool.take(nbytes)
    try:
        if got is None:  # none prepared in time: a fresh one (its pages fault in during the fill)
            got = _net_shm.fresh_memfd(nbytes)
    except (OSError, ValueError):
        return None
    fd, m, serial = got
    try:
        if len(m) != nbytes:
            os.ftruncate(fd, nbytes)  # the tail past nbytes is never touched again
        fill(m)  # (numpy lets go of the GIL for the copy)
        m.close()  # sealing against writes needs every writable mapping gone
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, _net_shm.SEALS)
    except (OSError, ValueError, BufferError):
        m.close()
        os.close(fd)
        return None
    return fd, serial


def attach(frames: list) -> tuple[list, list[int], int, list]:
    """``(frames, fds, bytes moved, kept)`` for an encoded "buffers"-form CHUNK: each big body frame
    replaced by ``b""`` and listed in the header's ``"_shm"``. A frame that is a sealed log-time copy
    is listed as it is; the caller keeps those buffers (``kept``) alive until the chunk is
    acknowledged. Others are copied into a sealed memfd the caller owns (``fds``: close them once
    the chunk is acknowledged or given up)."""
    refs, fds, kept, moved = [], [], [], 0
    out = list(frames)
    for i in range(3, len(frames)):  # header, schema, packed small buffers, then big buffers
        frame = frames[i]
        found = lookup(frame) if isinstance(frame, pa.Buffer) else None
        if found is not None:
            fd, serial = found
            n = frame.size
            kept.append(frame)
        else:
            view = memoryview(frame)
            n = view.nbytes
            if n < _net_shm.MIN_BYTES:
                continue

            def fill(m, view=view, n=n) -> None:
                np.copyto(np.frombuffer(m, np.uint8, count=n), np.frombuffer(view, np.uint8))

            made = _sealed(n, fill)
            if made is None:
                continue  # stays in the message
            fd, serial = made
            fds.append(fd)
        refs.append([i, fd, n, serial])  # i: index among the message's frames (0: the header)
        out[i] = b""
        moved += n
    if refs:
        out[0] = _net_shm.add_to_header(frames[0], _net_shm.KEY, refs)
    return out, fds, moved, kept


def _after_fork_in_child() -> None:
    global _users, _pool, _lock
    _lock = threading.Lock()
    _users = 0
    if _pool is not None:
        _pool.forget_after_fork()
    _pool = None
    _by_addr.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
