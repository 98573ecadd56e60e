"""Where a recording's messages go. Sinks are called from the batcher thread (never from ``rr.log``).

- ``BufferedSink``: the default before ``save``/``connect``; keeps messages so a sink set later
  receives everything logged since ``init``.
- ``MemorySink`` (``rr.memory_recording()``): keeps messages; ``drain_as_bytes()`` gives .rrd bytes.
- ``FileSink`` (``rr.save(path)``): streams to an .rrd file as data arrives.

A sink may wait inside ``send`` (a network sink out of room, a file on a stalled disk). Closing a
recording is bounded all the same: it calls ``give_up(sink)`` when its time is up, and a sink that
can stop waiting (``NetworkSink.give_up``) does; one that cannot is left behind, and what it holds
unwritten is counted by ``held_rows(sink)``.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

from . import _wire
from ._errors import warn_user
from ._rrd import RrdWriter, file_header, footer_bytes, record_bytes
from ._wire import ChunkMsg, Message


class Sink(Protocol):
    def send(self, msg: Message) -> None: ...
    def flush(self, timeout: float | None = None) -> bool: ...
    def end_of_pass(self) -> None: ...
    def close(self) -> None: ...
    def after_fork_in_child(self) -> None: ...


def give_up(sink: Sink) -> None:
    """Tell ``sink`` (and each sink a ``TeeSink`` holds) to stop waiting for room or acknowledgements."""
    stop = getattr(sink, "give_up", None)
    if stop is not None:
        stop()
        return
    for inner in getattr(sink, "sinks", ()):
        give_up(inner)


def flush_for_close(sink: Sink, timeout: float | None) -> bool:
    """``sink.flush(timeout)`` before closing it; a network sink also stops waiting once its ingest made
    no progress for the sink's ``flush_timeout_sec`` (2 s by default), so a dead ingest does not hold
    a closing program for the whole timeout (what it held is counted by its ``close``)."""
    fn = getattr(sink, "flush_for_close", None)
    if fn is not None:
        return fn(timeout)
    inner = getattr(sink, "sinks", None)
    if inner is not None:
        return all([flush_for_close(s, timeout) for s in inner])
    return sink.flush(timeout)


def held_rows(sink: Sink) -> int:
    """Rows ``sink`` has accepted but not yet written out, where it can tell (0 where it cannot)."""
    count = getattr(sink, "held_rows", None)
    if count is not None:
        return count()
    return sum(held_rows(inner) for inner in getattr(sink, "sinks", ()))


class BufferedSink:
    """Holds messages until a real sink is set (then ``take()`` hands them over)."""

    def __init__(self) -> None:
        self._msgs: list[Message] = []
        self._lock = threading.Lock()

    def send(self, msg: Message) -> None:
        with self._lock:
            self._msgs.append(msg)

    def take(self) -> list[Message]:
        with self._lock:
            msgs, self._msgs = self._msgs, []
        return msgs

    def buffered_rows(self) -> int:
        """Rows of the chunks held here."""
        with self._lock:
            return sum(m.batch.num_rows for m in self._msgs if isinstance(m, ChunkMsg))

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def end_of_pass(self) -> None:
        pass

    def close(self) -> None:
        pass

    def after_fork_in_child(self) -> None:
        self._lock = threading.Lock()
        self._msgs = []


class MemorySink(BufferedSink):
    """``rr.memory_recording()``: the recording kept in memory."""

    def __init__(self) -> None:
        super().__init__()
        #: the recording's latest Hello: every drained file starts with one, not only the first
        self._hello: _wire.Hello | None = None

    def send(self, msg: Message) -> None:
        with self._lock:
            if isinstance(msg, _wire.Hello):
                self._hello = msg
            self._msgs.append(msg)

    def num_msgs(self) -> int:
        with self._lock:
            return len(self._msgs)

    def messages(self) -> list[Message]:
        with self._lock:
            return list(self._msgs)

    def drain_as_bytes(self) -> bytes:
        """Everything logged since the last drain, as a complete .rrd file's bytes."""
        out = [file_header()]
        with self._lock:
            msgs, self._msgs, hello = self._msgs, [], self._hello
        if msgs and hello is not None and not isinstance(msgs[0], _wire.Hello):
            msgs.insert(0, hello)  # a later drain is a file of its own: say whose data it holds
        for msg in msgs:
            out.extend(record_bytes(_wire.encode(msg, compression=None)))
        body = b"".join(bytes(memoryview(p)) for p in out)
        return body + footer_bytes([])


class FileSink:
    """``rr.save(path)``: writes each message to the file from the batcher thread."""

    def __init__(self, path: str | os.PathLike, compression: str | None = "auto", append: bool = False) -> None:
        self.path = os.path.abspath(os.fspath(path))
        self._writer = RrdWriter(path, compression=compression, append=append)
        self._lock = threading.Lock()

    def inherit_spec(self) -> str:
        """How a child process joins this sink (see ``_recording.inherit_from_environment``)."""
        return f"file:{self.path}"

    def send(self, msg: Message) -> None:
        with self._lock:
            self._writer.write(msg)

    def end_of_pass(self) -> None:
        with self._lock:
            self._writer.flush()

    def flush(self, timeout: float | None = None) -> bool:
        """Write out what is buffered; False if another write still holds the file after ``timeout``, or
        if the write failed (disk full: warned; what is buffered stays for the next try)."""
        if not self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
            return False
        try:
            self._writer.flush()
        except OSError as exc:
            warn_user(f"rerun_zmq: could not write to {self.path}: {exc}; "
                      f"{self._writer.pending_rows()} rows wait in memory for it")
            return False
        finally:
            self._lock.release()
        return True

    def held_rows(self) -> int:
        """Rows buffered or being written, not yet known to be in the file (read without the lock:
        the thread holding it may be stuck in that very write)."""
        return self._writer.pending_rows()

    def close(self) -> None:
        """Finish the file. A failed write (disk full) is warned with the rows it lost, never raised:
        the records already written still load (the file only lacks its footer)."""
        with self._lock:
            rows = self._writer.pending_rows()
            try:
                self._writer.close()
            except OSError as exc:
                warn_user(f"rerun_zmq: could not finish {self.path}: {exc}; {rows} rows buffered for it are "
                          "lost, and the file has no footer (its complete records still load)")

    def after_fork_in_child(self) -> None:
        self._lock = threading.Lock()
        self._writer.reopen_after_fork()
