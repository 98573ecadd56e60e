"""The I/O thread of ``NetworkSink`` (``_net_sink``): the one thread that owns its DEALER socket.

It says HELLO, encodes queued chunks (big frames into memfds when the ingest takes shared memory,
``_net_shm``), sends them while the credit window allows, reads ACK / CREDIT / ERROR / EVENT
replies, resyncs after an ingest restart and heartbeats while data is pending. Every method here
runs on that thread; ``NetworkSink`` holds the state (see ``_init_state``) and the lock.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections import deque
from typing import TYPE_CHECKING

import zmq

from . import _net_shm, _shm_copy, _wire, _wire_buffers
from ._errors import warn_user
from ._wire import Ack, Bye, Credit, Dropped, Error, Event, Flush, Message

if TYPE_CHECKING:
    from ._net_sink import _Out

_HEARTBEAT = 0.5
_RESYNC_AFTER = 1.5
_WARN_EVERY = 5.0


def _context() -> zmq.Context:
    """The process's one context (``Context.instance`` makes a new one after ``fork``)."""
    return zmq.Context.instance()


class IoThread:
    """``NetworkSink``'s I/O-thread half (a mixin: the state is the sink's)."""

    # -- the thread --------------------------------------------------------------------------------
    def _io_main(self) -> None:
        sock = _context().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.IMMEDIATE, 1)
        sock.setsockopt(zmq.SNDHWM, 100_000)
        sock.setsockopt(zmq.RCVHWM, 100_000)
        sock.setsockopt(zmq.RECONNECT_IVL, 50)
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, 500)
        if self._curve is not None:
            sock.curve_secretkey, sock.curve_publickey, sock.curve_serverkey = self._curve
        monitor = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH) if self._curve is not None else None
        sock.connect(self.endpoint)
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        poller.register(self._wake_r.fileno(), zmq.POLLIN)
        if monitor is not None:
            poller.register(monitor, zmq.POLLIN)
        warned_auth = False
        last_heard = time.monotonic()
        last_ping = 0.0
        try:
            while True:
                backlog = self._encode_ahead()
                with self._cv:
                    if self._closing:
                        self._report_drops(sock)
                        _try_send(sock, _wire.encode(Bye("producer closing")))
                        sock.setsockopt(zmq.LINGER, 100)  # let the last words out
                        return
                    now = time.monotonic()
                    busy = bool(self._unsent or self._inflight or self._ping)
                    if busy and not self._handshaken and now - self._hello_at > _RESYNC_AFTER:
                        self._need_hello = True
                    if busy and self._handshaken and now - last_heard > _RESYNC_AFTER + _HEARTBEAT:
                        self._need_hello = True  # silent ingest: maybe restarted; resync
                        last_heard = now
                    if self._need_hello and self._hello is not None:
                        if _try_send(sock, self._hello):
                            self._need_hello = False
                            self._handshaken = False
                            self._hello_at = now
                    if self._handshaken:
                        self._send_chunks(sock)
                        self._report_drops(sock)
                        if (self._ping or self._inflight) and now - last_ping > _HEARTBEAT:
                            if _try_send(sock, _wire.encode(Flush(self._next_seq - 1))):
                                last_ping = now
                                self._ping = False
                    timeout = 0 if backlog and self._handshaken else 100 if busy or self._need_hello else 1000
                events = dict(poller.poll(timeout))
                if self._wake_r.fileno() in events:
                    try:
                        while self._wake_r.recv(4096):
                            pass
                    except (BlockingIOError, OSError):
                        pass
                if sock in events:
                    last_heard = time.monotonic()
                    self._receive(sock)
                if monitor is not None and monitor in events:
                    monitor.recv_multipart()
                    if not warned_auth:
                        warned_auth = True
                        _warn(f"rerun_zmq: the ingest at {self.endpoint} refused this producer's CURVE key; "
                                  "nothing is delivered until its public key is in the ingest's --auth-keys folder")
        finally:
            if monitor is not None:
                sock.disable_monitor()
                monitor.close(0)
            sock.close()
            self._wake_r.close()
            self._wake_w.close()

    def _encode_ahead(self, n: int = 4) -> bool:
        """Encode the next ``n`` queued chunks outside the lock; returns True if more wait.

        Not before the handshake: the ingest's ``ingest_info`` (which arrives before its credit)
        says which body forms it reads, so a big chunk logged before it still goes in the
        "buffers" form."""
        with self._cv:
            if not self._handshaken:
                return False
            todo = [o for o in itertools.islice(self._unsent, 0, n) if o.frames is None]
        for out in todo:
            self._encode(out, self._buffers_ok)
        with self._cv:
            return any(o.frames is None for o in itertools.islice(self._unsent, 0, n))

    def _encode(self, out: _Out, buffers: bool) -> None:
        """Encode ``out`` outside the lock (``_encode_ahead``); big frames go into memfds when the
        ingest takes them (``_shm_copy.attach``)."""
        frames = _wire.encode(out.msg, buffers=buffers)
        fds: list[int] = []
        keep: list = []
        moved = 0
        if buffers and self._shm_ok and len(frames) > 3:
            frames, fds, moved, keep = _shm_copy.attach(frames)
        with self._cv:
            self._set_frames(out, frames, fds, moved, keep)
            if out.dropped:  # given up while it was encoded
                _release(out)

    def _set_frames(self, out: _Out, frames: list, fds: list[int] | None = None, moved: int = 0,
                    keep: list | None = None) -> None:
        """Called with the lock held. ``moved``: bytes of ``frames`` that travel in memfds ``fds``
        (they count against ``max_bytes_in_flight`` like bytes on the wire)."""
        exact = sum(len(memoryview(f)) for f in frames) + moved
        if not out.dropped:
            self._queued_bytes += exact - out.size
        _release(out)
        out.frames, out.size, out.buffers, out.fds = frames, exact, len(frames) > 2, list(fds or ())
        out.keep = list(keep or ())
        if not out.buffers or out.fds:
            out.msg = None

    def _send_chunks(self, sock: zmq.Socket) -> None:
        while self._unsent:
            out = self._unsent[0]
            if out.frames is None:
                return
            if out.fds and not self._shm_ok:  # memfds for an ingest that took them; this one does not
                self._set_frames(out, _net_shm.inline(out.frames))
            if out.buffers and not self._buffers_ok:  # encoded for an ingest that read it; this one does not
                self._set_frames(out, _wire.encode(out.msg if out.msg is not None else _wire.decode(out.frames)))
            if out.size > self._max_message:  # queued before the ingest told us its limit
                self._unsent.popleft()
                self._queued_bytes -= out.size
                self._count_drop(out, f"chunk of {out.size} bytes is over the ingest's message limit")
                continue
            if self._inflight and self._inflight_bytes + out.size > self._window:
                return
            if not _try_send(sock, out.frames):
                return
            self._unsent.popleft()
            out.sent = True
            self._inflight.append(out)
            self._inflight_bytes += out.size
            self.stats.sent_chunks += 1

    def _report_drops(self, sock: zmq.Socket) -> None:
        rows, nbytes = self._drop_report
        if rows or nbytes:
            reason = getattr(self, "_drop_reason", "dropped")
            if _try_send(sock, _wire.encode(Dropped(rows, nbytes, reason))):
                self._drop_report = [0, 0]

    def _receive(self, sock: zmq.Socket) -> None:
        while True:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                msg = _wire.decode(frames)
                _check_reply(msg)
            except (_wire.WireError, TypeError) as exc:  # the I/O thread must outlive a bad reply
                _warn(f"rerun_zmq: unreadable message from the ingest at {self.endpoint}: {exc}")
                continue
            with self._cv:
                self._on_message(msg)
                self._cv.notify_all()

    def _on_message(self, msg: Message) -> None:
        if isinstance(msg, Ack):
            self._on_ack(msg.seq)
            self.stats.acked_rows = msg.rows
        elif isinstance(msg, Credit):
            if not self._handshaken:
                self._resync()
                self._window = 0
            self._window += msg.bytes
        elif isinstance(msg, Event) and msg.name == "ingest_info":
            limit = msg.params.get("max_message_bytes")
            if isinstance(limit, int) and limit > 0:
                self._max_message = limit
            forms = msg.params.get("body_forms")
            self._buffers_ok = isinstance(forms, list) and _wire_buffers.FORM in forms
            self._set_shm_ok(self._buffers_ok and self._shm is not None and msg.params.get("shm") is True)
        elif isinstance(msg, Error):
            self._on_error(msg)
        elif isinstance(msg, Bye):
            self._handshaken = False
            self._need_hello = True

    def _on_ack(self, seq: int) -> None:
        if seq > self.stats.acked_seq:
            self.stats.acked_seq = seq
        while self._inflight and self._inflight[0].seq <= seq:
            out = self._inflight.popleft()
            self._inflight_bytes -= out.size
            self._queued_bytes -= out.size
            _release(out)
        while self._unsent and self._unsent[0].seq <= seq:
            out = self._unsent.popleft()
            self._queued_bytes -= out.size
            _release(out)

    def _resync(self) -> None:
        """After a HELLO was answered: whatever is still unacknowledged is sent again, in order."""
        if self._inflight:
            self.stats.resent_chunks += len(self._inflight)
            self._unsent.extendleft(reversed(self._inflight))
            self._inflight.clear()
            self._inflight_bytes = 0
        if self.stats.sent_chunks:
            self.stats.reconnects += 1
        self._handshaken = True

    def _set_shm_ok(self, ok: bool) -> None:
        """Called with the lock held. While any sink takes shared memory, log calls copy big arrays
        straight into sealed memfds (``_shm_copy``)."""
        if ok != self._shm_ok:
            (_shm_copy.enable if ok else _shm_copy.disable)()
        self._shm_ok = ok

    def _resend_without_shm(self, msg: Error) -> None:
        """The ingest could not use a memfd of chunk ``msg.seq``: it took none of the chunks from that
        one on, so they go again, in order, with their bytes inline; shared memory stays off."""
        if self._shm_ok:
            _warn(f"rerun_zmq: the ingest at {self.endpoint} could not use a shared-memory frame "
                  f"({msg.message}); sending big frames over TCP from now on, nothing is lost")
        self._set_shm_ok(False)
        back = [o for o in self._inflight if o.seq >= msg.seq]
        if not back:
            return
        self._inflight = deque(o for o in self._inflight if o.seq < msg.seq)
        self._inflight_bytes -= sum(o.size for o in back)
        self._unsent.extendleft(reversed(back))
        self.stats.resent_chunks += len(back)

    def _on_error(self, msg: Error) -> None:
        if msg.code == "unknown_producer":
            self._handshaken = False
            self._need_hello = True
            return
        if msg.code == "shm_unavailable":
            self._resend_without_shm(msg)
            return
        rows = next((o.rows for o in self._inflight if o.seq == msg.seq), 0)
        self.stats.rejected_rows += rows
        now = time.monotonic()
        if now - self._last_warn >= _WARN_EVERY or self.stats.rejected_rows == rows:
            self._last_warn = now
            _warn(f"rerun_zmq: the ingest at {self.endpoint} refused data ({msg.code}): {msg.message}")


def _release(out: _Out) -> None:
    """Let go of ``out``'s memfds (its own, and the log call's sealed copies it kept)."""
    _net_shm.close_fds(out.fds)
    out.keep = []


def _warn(message: str) -> None:
    """``warn_user`` for the batcher and I/O threads: under ``-W error`` a raised warning there would
    stop delivery (I/O thread) or lose the chunk being queued (batcher), so it is printed instead."""
    try:
        warn_user(message)
    except Warning:
        print(message, file=sys.stderr, flush=True)


def _check_reply(msg: Message) -> None:
    """Raise ``TypeError`` if a field the sink uses has the wrong type (decode checks only the names)."""
    ints = {Ack: ("seq", "rows", "bytes"), Credit: ("bytes",), Error: ("seq",)}.get(type(msg), ())
    for name in ints:
        value = getattr(msg, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise TypeError(f"{type(msg).__name__}.{name} must be an int >= 0, got {value!r:.40}")
    if isinstance(msg, Error) and not (isinstance(msg.code, str) and isinstance(msg.message, str)):
        raise TypeError("Error.code and Error.message must be strings")
    if isinstance(msg, Event) and not isinstance(msg.params, dict):
        raise TypeError(f"Event.params must be an object, got {type(msg.params).__name__}")


def _try_send(sock: zmq.Socket, frames: list) -> bool:
    try:
        sock.send_multipart(frames, zmq.NOBLOCK, copy=False)
        return True
    except zmq.Again:
        return False
