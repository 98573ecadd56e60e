"""The ingest's side of big frames through shared memory (see ``rerun_zmq._net_shm``).

A producer on this machine proves it with its HELLO's ``shm_probe``: ``{"pid", "fd", "token"}``
naming a sealed memfd whose name and bytes hold the token. ``check_probe`` opens it through
``/proc/<pid>/fd/<fd>`` and checks it; only then does ``ingest_info`` say ``"shm": true`` to that
producer, and only then are its CHUNKs' ``"_shm"`` frames opened.

Each such frame is opened the same way and must be this producer's own memfd: its name carries
the probe's token and the serial number the header gives for it (so a descriptor number the
producer closed and reused for another memfd never passes for the one the header meant). It must be
owned by this user, sealed against writing, shrinking and growing (so the bytes the ingest
validates can never change, and no access to the mapping can fault), and exactly as big as the
header says. It is then mapped read-only and used as the frame itself: no copy.

The mapping is made through libc (``rerun_zmq._net_shm.ReadOnlyMapping``), not ``mmap.mmap``: Python's
mmap object keeps a duplicate of the file descriptor open for as long as it lives, and the store
keeps every frame, so an ingest holding a few thousand frames would run out of file descriptors.
Ours holds none; the memory is unmapped when the last Arrow buffer over it goes.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass

import pyarrow as pa

try:
    import fcntl
except ImportError:  # Windows: never offered (``rerun_zmq._net_shm.supported``)
    fcntl = None  # type: ignore[assignment]

from rerun_zmq import _net_shm

from .errors import ProtocolViolation, ShmUnavailableError

log = logging.getLogger("ingest")
_MAX_PID = 1 << 22
_MAX_FD = 1 << 20


@dataclass(frozen=True)
class ShmPeer:
    """A producer whose probe checked out: its process id and token."""

    pid: int
    token: str


def map_readonly(fd: int, size: int) -> pa.Buffer:
    """``size`` bytes of ``fd`` as an Arrow buffer over a read-only mapping (``fd`` may be closed after)."""
    m = _net_shm.ReadOnlyMapping(fd, size)
    return pa.foreign_buffer(m.addr, size, base=m)


def _small_int(value: object, limit: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < limit


def _open(pid: int, fd: int, token: str, size: int | None, serial: int = 0) -> tuple[int, int]:
    """Open the producer's memfd and check it; returns ``(our fd, size)``. Raises ``OSError`` or
    ``ValueError`` naming what did not match."""
    path = f"/proc/{pid}/fd/{fd}"
    want = f"/memfd:{_net_shm.memfd_name(token, serial)} (deleted)"
    # Read the link first: it touches no file system (a producer could name a file on a mount that
    # hangs). Then hold the file by an O_PATH descriptor, which opens nothing (a FIFO would wait for a
    # writer, a device could act), check it, and only then open that same file for reading.
    name = os.readlink(path)
    if name != want:
        raise ValueError(f"not this producer's memfd ({name[:80]!r})")
    handle = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        st = os.fstat(handle)
        if not stat.S_ISREG(st.st_mode) or os.readlink(f"/proc/self/fd/{handle}") != want:
            raise ValueError("not this producer's memfd")
        own = os.open(f"/proc/self/fd/{handle}", os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY)
    finally:
        os.close(handle)
    try:
        st = os.fstat(own)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("not a regular file")
        if st.st_uid != os.geteuid():
            raise ValueError(f"owned by uid {st.st_uid}, not this ingest's {os.geteuid()}")
        seals = fcntl.fcntl(own, fcntl.F_GET_SEALS)
        if seals & _net_shm.SEALS != _net_shm.SEALS:
            raise ValueError("not sealed against writing, shrinking and growing")
        if size is not None and st.st_size != size:
            raise ValueError(f"{st.st_size} bytes, the header says {size}")
        return own, st.st_size
    except BaseException:
        os.close(own)
        raise


def check_probe(probe: object) -> ShmPeer | None:
    """The producer's HELLO ``shm_probe``, checked; None (logged at debug level) when it does not hold."""
    if not isinstance(probe, dict):
        return None
    pid, fd, token = probe.get("pid"), probe.get("fd"), probe.get("token")
    if not (_small_int(pid, _MAX_PID) and _small_int(fd, _MAX_FD) and isinstance(token, str)
            and 16 <= len(token) <= 64 and token.isalnum()):
        return None
    try:
        own, size = _open(pid, fd, token, None)
    except (OSError, ValueError) as exc:
        log.debug("shared memory not used for producer pid %s: %s", pid, exc)
        return None
    try:
        if size != len(token) or os.pread(own, size, 0) != token.encode():
            return None
    finally:
        os.close(own)
    return ShmPeer(pid, token)


def open_frames(peer: ShmPeer | None, refs: object, body: list, limit: int, seq: int) -> int:
    """Replace the ``"_shm"`` frames of ``body`` (a CHUNK's frames, header first) by read-only
    mappings of the producer's memfds, in place; returns the bytes mapped. Raises a
    ``RejectedMessage`` naming what was wrong (``shm_unavailable`` when a memfd cannot be used)."""
    if peer is None:
        raise ProtocolViolation("CHUNK has shared-memory frames, but shared memory was not agreed in the "
                                "handshake (HELLO shm_probe, ingest_info shm)", seq)
    if not isinstance(refs, list) or not refs or len(refs) > len(body):
        raise ProtocolViolation(f'"{_net_shm.KEY}" must be a list of [body frame, fd, size, serial], '
                                f"got {refs!r:.80}", seq)
    total = 0
    mapped: dict[int, pa.Buffer] = {}
    for r in refs:
        if not (isinstance(r, list) and len(r) == 4 and _small_int(r[0], len(body))
                and _small_int(r[1], _MAX_FD) and _small_int(r[2], 1 << 62) and r[2] >= _net_shm.MIN_BYTES
                and _small_int(r[3], 1 << 62) and r[3] > 0):
            raise ProtocolViolation(f'a "{_net_shm.KEY}" entry must be [body frame >= 2, fd, size >= '
                                    f'{_net_shm.MIN_BYTES}, serial > 0], got {r!r:.80}', seq)
        k, fd, size, serial = r
        if k < 2 or k in mapped or len(body[k]) != 0:
            raise ProtocolViolation(f"shared-memory frame {k} must be a big-buffer frame, listed once "
                                    "and sent empty", seq)
        total += size
        if total > limit:
            raise ProtocolViolation(f"shared-memory frames of {total} bytes are over --max-message-bytes "
                                    f"{limit}", seq)
        try:
            own, _ = _open(peer.pid, fd, peer.token, size, serial)
        except (OSError, ValueError) as exc:
            raise ShmUnavailableError(f"shared-memory frame {k} (producer fd {fd}): {exc}", seq) from None
        try:
            mapped[k] = map_readonly(own, size)
        except (OSError, ValueError) as exc:
            raise ShmUnavailableError(f"cannot map shared-memory frame {k}: {exc}", seq) from None
        finally:
            os.close(own)
    for k, m in mapped.items():
        body[k] = m
    return total
