"""``NetworkSink``: streaming a recording to an ingest process over ZeroMQ.

``NetworkSink.send`` runs on the recording's batcher thread (never in ``rr.log``): it encodes the
message, applies the memory policy and queues it. One background I/O thread of the sink owns the
DEALER socket and does every socket call: it says HELLO, sends queued chunks while the ingest's
credit window allows (bytes sent but not acknowledged never exceed what the ingest granted),
handles cumulative ACKs, and resyncs after an ingest restart (HELLO again; the ingest answers with
the last seq it stored from this producer, everything after it is resent).

Memory bound (``max_bytes_in_flight``, default 100 MiB) over queued plus unacknowledged bytes:

- ``policy="block"`` (default): the batcher thread waits for room. Every ``block_timeout_sec``
  without progress it warns; after that it drops the oldest queued chunk to make room (counted,
  warned, reported to the ingest) so the program never hangs forever.
- ``policy="drop_oldest"``: the oldest queued chunks are dropped at once (counted, warned, reported).

Closing is bounded by the recording's timeout, not by these: when its time is up the recording calls
``give_up``, after which nothing here waits (a ``send`` waiting for room returns, ``flush`` returns
False, ``close`` does not wait for acknowledgements) and every row not acknowledged is counted in
``close``'s warning.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
import time
import uuid
from collections import deque
from typing import Literal

from . import _net_shm, _wire
from ._errors import warn_user
from ._net_addr import parse_addr
from ._net_curve import _curve_keys
from ._net_io import _WARN_EVERY, IoThread, _release, _warn
from ._wire import ChunkMsg, Hello, Message

Policy = Literal["block", "drop_oldest"]
MiB = 1 << 20
#: how long ``close`` waits for the I/O thread to say BYE once the sink has given up
_BYE_WAIT = 0.2


@dataclasses.dataclass
class _Out:
    """One queued chunk; the I/O thread encodes it (so the batcher thread stays quick)."""

    seq: int
    msg: ChunkMsg | None
    frames: list | None
    #: encoded size once ``frames`` is set; until then an estimate (the batch's buffers)
    size: int
    rows: int
    #: sent at least once (the ingest may hold it even if it never acknowledged it)
    sent: bool = False
    dropped: bool = False
    #: ``frames`` are in the "buffers" body form (``msg`` is kept: an ingest that does not read that
    #: form gets it re-encoded; the frames are views of the batch, so keeping it costs no memory;
    #: not once big frames moved into memfds, which then hold the only copy)
    buffers: bool = False
    #: memfds holding big frames of ``frames`` (``_net_shm``), closed once the chunk is acknowledged or given up
    fds: list = dataclasses.field(default_factory=list)
    #: buffers the log call copied into sealed memfds (``_shm_copy``), listed in the header as they are:
    #: kept alive (and with them their memfds) until the chunk is acknowledged or given up
    keep: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class NetStats:
    """What happened to this sink's data so far (rows)."""

    sent_chunks: int = 0
    acked_seq: int = 0
    #: rows the ingest stored from this producer (its running total, from the last ACK)
    acked_rows: int = 0
    #: rows dropped before they were ever sent (policy, or over the ingest's message limit): surely lost
    dropped_rows: int = 0
    dropped_bytes: int = 0
    #: rows the ingest refused (bad data; each refusal also warned)
    rejected_rows: int = 0
    #: rows sent but never acknowledged, given up at close or by the block timeout: maybe stored
    undelivered_rows: int = 0
    reconnects: int = 0
    resent_chunks: int = 0


class NetworkSink(IoThread):
    """A ``Sink`` that streams to an ingest at ``addr`` with credit-based flow control and acks."""

    def __init__(
        self,
        addr: str | None = None,
        *,
        policy: Policy = "block",
        max_bytes_in_flight: int = 100 * MiB,
        block_timeout_sec: float = 10.0,
        flush_timeout_sec: float | None = 2.0,
        client_key: str | os.PathLike | tuple[bytes, bytes] | None = None,
        server_key: str | os.PathLike | bytes | None = None,
    ) -> None:
        if policy not in ("block", "drop_oldest"):
            raise ValueError(f"policy must be 'block' or 'drop_oldest', got {policy!r}")
        if not isinstance(max_bytes_in_flight, int) or max_bytes_in_flight <= 0:
            raise ValueError(f"max_bytes_in_flight must be a positive int, got {max_bytes_in_flight!r}")
        self.endpoint = parse_addr(addr)
        self.policy = policy
        self.max_bytes_in_flight = max_bytes_in_flight
        self.block_timeout_sec = block_timeout_sec
        self.flush_timeout_sec = flush_timeout_sec
        self._curve = _curve_keys(client_key, server_key)
        self._init_state()
        self._start()

    def _init_state(self) -> None:
        self._cv = threading.Condition(threading.Lock())
        self._nonce = uuid.uuid4().hex[:8]
        self._hello: list | None = None
        self._unsent: deque[_Out] = deque()
        self._inflight: deque[_Out] = deque()
        self._queued_bytes = 0
        self._inflight_bytes = 0
        self._window = 0
        self._handshaken = False
        self._need_hello = False
        self._hello_at = 0.0
        self._next_seq = 1
        self._max_message = 1 << 62
        #: the ingest reads the "buffers" body form (big chunks sent without copying; ``ingest_info``)
        self._buffers_ok = False
        #: big frames go through shared memory (``_net_shm``): created with the first HELLO, used once
        #: the ingest has checked the probe and said ``"shm": true``
        self._shm: _net_shm.Probe | None = None
        self._shm_ok = False
        self._drop_report = [0, 0]
        self._last_warn = 0.0
        self._ping = False
        self._closing = False
        #: ``give_up`` was called: nothing waits any more; rows refused since then, for ``close`` to report
        self._gave_up = False
        self._refused = [0, 0]
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.stats = NetStats()

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._io_main, name="rerun_zmq-net", daemon=True)
        self._thread.start()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):
            pass

    # -- Sink protocol (batcher thread) -------------------------------------------------------------
    def send(self, msg: Message) -> None:
        if self._thread is None:
            self._start()
        if isinstance(msg, Hello):
            hello = _wire.encode(dataclasses.replace(msg, producer_id=f"{msg.producer_id}.{self._nonce}"))
            if self._shm is None and _net_shm.supported():
                try:
                    self._shm = _net_shm.Probe()
                except OSError:
                    pass
            if self._shm is not None:
                hello[0] = _net_shm.add_to_header(hello[0], _net_shm.PROBE, self._shm.params())
            with self._cv:
                self._hello = hello
                self._need_hello = True
                self._handshaken = False
            self._wake()
            return
        if not isinstance(msg, ChunkMsg):
            return
        for part in self._split(msg.batch):
            out = _Out(0, None, None, part.nbytes + 1024, part.num_rows)
            with self._cv:
                if out.size > self._max_message:
                    self._count_drop(out, f"a single row of {out.size} bytes is over the ingest's message "
                                          f"limit {self._max_message}")
                    continue
                self._make_room(out.size)
                if self._gave_up or self._closing:  # queued now, it would never be sent nor counted
                    self._refuse(out)
                    continue
                # the seq is taken only as the chunk is queued: a concurrent flush() that counts it waits for it
                out.seq = self._next_seq
                self._next_seq += 1
                out.msg = dataclasses.replace(msg, batch=part, seq=out.seq)
                self._unsent.append(out)
                self._queued_bytes += out.size
            self._wake()

    def _split(self, batch):
        """Row slices of ``batch`` small enough for the ingest's message limit (a slice is a valid chunk)."""
        limit = self._max_message - 64 * 1024
        size = batch.nbytes
        if size <= limit or batch.num_rows <= 1:
            return [batch]
        pieces = min(batch.num_rows, -(-size // max(limit, 1)) * 2)
        step = -(-batch.num_rows // pieces)
        return [batch.slice(i, step) for i in range(0, batch.num_rows, step)]

    def _make_room(self, size: int) -> None:
        """Called with the lock held: apply the policy until ``size`` more bytes fit."""
        waited_since, acked = time.monotonic(), self.stats.acked_seq
        while self._queued_bytes + size > self.max_bytes_in_flight and (self._unsent or self._inflight):
            if self.policy == "drop_oldest" and self._drop_oldest(
                    "max_bytes_in_flight reached (policy drop_oldest)", never_sent_only=True):
                continue
            if self._closing or self._gave_up:
                return
            if self.stats.acked_seq != acked:  # the ingest is taking data: the timeout counts from now
                waited_since, acked = time.monotonic(), self.stats.acked_seq
            remaining = waited_since + self.block_timeout_sec - time.monotonic()
            if remaining > 0:
                self._cv.wait(min(remaining, 1.0))
                continue
            _warn(f"rerun_zmq: the ingest at {self.endpoint} has not accepted data for "
                      f"{self.block_timeout_sec:.0f} s and {self._queued_bytes} bytes are pending; "
                      "dropping the oldest to stay within max_bytes_in_flight")
            self._drop_oldest(f"ingest did not accept data for {self.block_timeout_sec} s (policy block)")
            waited_since = time.monotonic()

    def _drop_oldest(self, reason: str, never_sent_only: bool = False) -> bool:
        """Drop the oldest chunk never sent (surely not stored, so counts stay exact); failing that,
        unless ``never_sent_only``, the oldest one sent but unacknowledged. Returns False if none."""
        idx = next((i for i, o in enumerate(self._unsent) if not o.sent), None)
        if idx is not None:
            out = self._unsent[idx]
            del self._unsent[idx]
        elif never_sent_only:
            return False
        elif self._unsent:
            out = self._unsent.popleft()
        elif self._inflight:
            out = self._inflight.popleft()
            self._inflight_bytes -= out.size
        else:
            return False
        self._queued_bytes -= out.size
        self._count_drop(out, reason)
        _release(out)
        self._cv.notify_all()
        return True

    def _refuse(self, out: _Out) -> None:
        """Called with the lock held, after ``give_up`` or ``close``: ``out`` is dropped, never sent."""
        if self._closing:  # sent to a closed sink: nobody else will say it
            self._count_drop(out, "the sink is closed")
            return
        out.dropped = True
        self.stats.dropped_rows += out.rows
        self.stats.dropped_bytes += out.size
        self._drop_report[0] += out.rows
        self._drop_report[1] += out.size
        self._drop_reason = "the recording closed before the ingest took it"
        self._refused[0] += out.rows
        self._refused[1] += out.size

    def _count_drop(self, out: _Out, reason: str) -> None:
        out.dropped = True
        if out.sent:  # the ingest may have stored it without acknowledging: not "surely lost"
            self.stats.undelivered_rows += out.rows
            reason += " (sent once; may have been stored)"
        else:
            self.stats.dropped_rows += out.rows
        self.stats.dropped_bytes += out.size
        self._drop_report[0] += out.rows
        self._drop_report[1] += out.size
        self._drop_reason = reason
        now = time.monotonic()
        if now - self._last_warn >= _WARN_EVERY:
            self._last_warn = now
            rows = self.stats.dropped_rows + self.stats.undelivered_rows  # given up on, sent or not
            _warn(f"rerun_zmq: dropped {rows} rows ({self.stats.dropped_bytes} bytes) "
                  f"so far for {self.endpoint}: {reason}")
        self._wake()

    def end_of_pass(self) -> None:
        pass

    def inherit_spec(self) -> str:
        """How a child process started by this one joins the same ingest (see ``_recording``)."""
        return f"tcp:{self.endpoint}"

    def _pending_through(self, target: int) -> bool:
        return bool((self._unsent and self._unsent[0].seq <= target)
                    or (self._inflight and self._inflight[0].seq <= target))

    def flush(self, timeout: float | None = None, *, stall: bool = False) -> bool:
        """Wait until every chunk sent before this call is acknowledged (or refused/dropped, counted).

        ``timeout=None`` (or ``stall=True``, as when the recording closes) waits as long as
        acknowledgements keep coming, and gives up after ``flush_timeout_sec`` without progress (the
        ingest is gone); returns False if data is pending.
        """
        start = time.monotonic()
        with self._cv:
            target = self._next_seq - 1
            self._ping = True
            self._wake()
            last_progress, last_acked = start, self.stats.acked_seq
            while self._pending_through(target):
                if self._closing or self._gave_up:  # nothing will be waited for (what is pending is counted)
                    return False
                now = time.monotonic()
                if self.stats.acked_seq != last_acked:
                    last_progress, last_acked = now, self.stats.acked_seq
                if timeout is not None and now - start >= timeout:
                    return False
                limit = self.flush_timeout_sec
                if (timeout is None or stall) and limit is not None and now - last_progress >= limit:
                    return False
                self._cv.wait(0.05)
        return True

    def flush_for_close(self, timeout: float | None) -> bool:
        return self.flush(timeout, stall=True)

    def give_up(self) -> None:
        """Stop waiting for the ingest (the recording closes and its time is up); callable from any thread.

        A ``send`` waiting for room returns at once and drops its chunk, as do later ones; ``flush``
        returns False; ``close`` counts what is unacknowledged instead of waiting for it."""
        with self._cv:
            self._gave_up = True
            self._cv.notify_all()

    def close(self) -> None:
        """Wait for acknowledgements (unless given up), then stop; warns with the rows not acknowledged."""
        with self._cv:
            if self._closing:
                return
            gave_up = self._gave_up
        if not gave_up:
            self.flush()
        with self._cv:
            self._closing = True
            pending = list(self._unsent) + list(self._inflight)
            unsent = sum(o.rows for o in pending if not o.sent) + self._refused[0]
            unconfirmed = sum(o.rows for o in pending if o.sent)
            nbytes = sum(o.size for o in pending) + self._refused[1]
            self.stats.dropped_rows += unsent - self._refused[0]
            self.stats.undelivered_rows += unconfirmed
            self.stats.dropped_bytes += nbytes - self._refused[1]
            for o in pending:
                o.dropped = True
            if pending:
                self._drop_report[0] += sum(o.rows for o in pending)
                self._drop_report[1] += sum(o.size for o in pending)
                self._drop_reason = "not acknowledged when the sink closed"
            self._cv.notify_all()
        self._wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=_BYE_WAIT if gave_up else 2.0)
        with self._cv:
            for o in pending:
                _release(o)
            self._set_shm_ok(False)
        if self._shm is not None:
            self._shm.close()
        if unsent or unconfirmed:
            split = [f"{unsent} never sent (lost)" if unsent else "",
                     f"{unconfirmed} sent but not confirmed (may be lost)" if unconfirmed else ""]
            warn_user(f"rerun_zmq: {unsent + unconfirmed} rows ({nbytes} bytes) logged to {self.endpoint} were not "
                      f"acknowledged by the ingest before the connection closed: {', '.join(filter(None, split))}")

    def after_fork_in_child(self) -> None:
        """A forked child owns none of the parent's socket, thread or pending data (its copies of
        the parent's memfds are closed: they would keep that memory alive as long as the child)."""
        if self._shm is not None:  # (the process-wide pool forgets its own: ``_shm_copy``)
            _net_shm.close_inherited(self._shm.token)
        self._init_state()
