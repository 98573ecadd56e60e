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

from rerun_zmq import _net_shm, _wire, _wire_buffers
from rerun_zmq._prepared import MADV_POPULATE_WRITE, PreparedPool, populate
from rerun_zmq._wire import Kind

__all__ = ["MADV_POPULATE_WRITE", "FramePool", "keep_receive_buffers_warm", "populate"]
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


class FramePool(PreparedPool):
    """Populated buffers for big received frames; ``take(n)`` is called on the receiving thread."""

    thread_name = "ingest-prefault"

    def _make(self, size: int) -> mmap.mmap:
        m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        populate(m)
        return m

    @staticmethod
    def _free(m: mmap.mmap) -> None:
        try:
            m.close()
        except BufferError:  # still exported (cannot happen for a buffer never handed out)
            pass

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
            small = json.loads(head[4:])
            stack = list(small[_wire_buffers.LAYOUT]["cols"])
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
        # shared memory (``ingest.shm``) arrive empty (whatever their entries hold: the handler judges them)
        shm = small.get(_net_shm.KEY)
        refs = shm if isinstance(shm, list) else []
        skip = {r[0] for r in refs if isinstance(r, list) and r and type(r[0]) is int}
        plan = {k + 1: n for k, n in ends.items() if self.min_bytes <= n <= self.max_bytes and k + 1 not in skip}
        return plan or None

    def take(self, n: int) -> memoryview | None:
        """A writable, populated view of ``n`` bytes, or None (receive as usual) when none is ready."""
        m = super().take(n)
        if m is None:
            return None
        tail = _round_up(n, _PAGE)
        if len(m) - tail >= _PAGE:
            try:
                m.madvise(mmap.MADV_DONTNEED, tail, len(m) - tail)  # give back what this frame does not use
            except (OSError, ValueError):
                pass
        return memoryview(m)[:n]
