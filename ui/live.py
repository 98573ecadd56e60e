"""Live data from an ingest's query endpoint (see ``ingest.query``), received off the render thread.

``LiveSource`` owns a DEALER socket on its own thread. It subscribes to store events and, in the
default ``mirror`` mode, ``tail``s every recording: each chunk the ingest stores arrives here and
goes into a local ``TimelineStore`` exactly like a file's, so scrubbing never waits on the network.
In ``query`` mode it keeps one standing ``latest_at`` query at the cursor instead (``RemoteStore``).
A tail whose ``Result.seq`` skips, or an ingest that fell silent (restarted), is tailed afresh.
"""

from __future__ import annotations

import queue
import threading
import time

from rerun_zmq import _wire

from .data_client import Update

SUBSCRIBE_ID = 1
SNAPSHOT_ID = 3
LATEST_AT_ID = 2
FIRST_TAIL_ID = 100
RESUBSCRIBE_S = 3.0


def endpoint(addr: str | None) -> str:
    try:
        from rerun_zmq._net_addr import parse_addr
    except ImportError:  # older build: accept tcp:// endpoints as given
        return addr or "tcp://127.0.0.1:9876"
    return parse_addr(addr)


class LiveSource:
    """A viewer's connection to one ingest; ``mode`` is ``"mirror"`` or ``"query"``."""

    def __init__(self, addr: str | None, mode: str = "mirror") -> None:
        if mode not in ("mirror", "query"):
            raise ValueError(f"live mode must be 'mirror' or 'query', got {mode!r}")
        self.endpoint = endpoint(addr)
        self.mode = mode
        self.name = f"live {self.endpoint}"
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sent_key: tuple | None = None
        self._tailing: set[str] = set()  # render thread: recordings asked for
        # live thread only:
        self._tails: dict[int, list] = {}  # query id -> [recording id, last seq]
        self._next_qid = FIRST_TAIL_ID
        self._event_seq = 0  # last Event.seq heard

    def start(self, out: queue.Queue) -> None:
        self._thread = threading.Thread(target=self._run, args=(out,), name="viewer-live", daemon=True)
        self._thread.start()

    # -- render thread -----------------------------------------------------------------------------
    def query_latest_at(self, recording_id: str | None, timeline: str | None, t: int) -> None:
        """Move the standing latest_at query (query mode; no-op when nothing changed)."""
        key = (recording_id, timeline, int(t))
        if self.mode != "query" or key == self._sent_key:
            return
        self._sent_key = key
        params = {"recording_id": recording_id, "timeline": timeline, "time": int(t)}
        self._outbox.put(("query", _wire.Query(LATEST_AT_ID, "latest_at", params)))

    def tail(self, recording_id: str) -> None:
        """Mirror ``recording_id``: all its chunks, then each new one (once per recording)."""
        if recording_id not in self._tailing:
            self._tailing.add(recording_id)
            self._outbox.put(("tail", recording_id))

    def untail(self, recording_id: str) -> None:
        """Stop mirroring ``recording_id`` (the user closed it)."""
        self._tailing.discard(recording_id)
        self._outbox.put(("untail", recording_id))

    # -- live thread -------------------------------------------------------------------------------
    def _run(self, out: queue.Queue) -> None:
        import zmq

        ctx = zmq.Context()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        subscribe = _wire.Query(SUBSCRIBE_ID, "subscribe", {})
        latest: _wire.Query | None = None
        try:
            sock.connect(self.endpoint)
            self._send(sock, subscribe)
            last_rx = last_sub = time.monotonic()
            poller = zmq.Poller()
            poller.register(sock, zmq.POLLIN)
            while not self._stop.is_set():
                while True:
                    try:
                        kind, what = self._outbox.get_nowait()
                    except queue.Empty:
                        break
                    if kind == "tail":
                        self._start_tail(sock, what)
                    elif kind == "untail":
                        for qid in [q for q, (rid, _) in self._tails.items() if rid == what]:
                            del self._tails[qid]
                            self._send(sock, _wire.Query(qid, "cancel", {}))
                    else:
                        latest = what
                        self._send(sock, latest)
                now = time.monotonic()
                if now - last_rx > RESUBSCRIBE_S and now - last_sub > RESUBSCRIBE_S:
                    # a subscribed client hears stats every second: silence means the ingest is
                    # not up yet or was restarted and forgot us
                    last_sub = now
                    self._send(sock, subscribe)
                    if latest is not None:
                        self._send(sock, latest)
                    self._restart_tails(sock, out)
                if not poller.poll(20):
                    continue
                last_rx = time.monotonic()
                while sock.poll(0):
                    update = self._decode(sock, sock.recv_multipart(copy=False))
                    if update is not None:
                        self._put(out, update)
        except zmq.ZMQError as exc:
            self._put(out, Update("error", self.name, value=f"{self.name}: {exc}"))
        finally:
            sock.close(linger=0)
            ctx.term()

    def _start_tail(self, sock, recording_id: str) -> None:
        qid, self._next_qid = self._next_qid, self._next_qid + 1
        self._tails[qid] = [recording_id, 0]
        self._send(sock, _wire.Query(qid, "tail", {"recording_id": recording_id}))

    def _restart_tails(self, sock, out: queue.Queue) -> None:
        """Cancel every tail and tail again from scratch; the render thread drops the old copies."""
        old, self._tails = self._tails, {}
        for qid, (rid, seq) in old.items():
            if seq == 0:  # never answered yet: nothing to drop, keep waiting on it
                self._tails[qid] = [rid, 0]
                continue
            self._send(sock, _wire.Query(qid, "cancel", {}))
            self._put(out, Update("reset", self.name, rid))
            self._start_tail(sock, rid)

    @staticmethod
    def _send(sock, msg: _wire.Query) -> bool:
        """Never block the thread on a missing peer: a query that cannot go now is re-sent later."""
        import zmq

        try:
            sock.send_multipart(_wire.encode(msg), flags=zmq.NOBLOCK)
            return True
        except zmq.Again:
            return False

    def _decode(self, sock, frames) -> Update | None:
        try:
            msg = _wire.decode([f.buffer for f in frames])
        except _wire.WireError as exc:
            return Update("error", self.name, value=f"{self.name}: bad message: {exc}")
        if isinstance(msg, _wire.Event):
            if msg.seq > self._event_seq + 1:  # events were lost (a recording_added, say): resync
                self._send(sock, _wire.Query(SNAPSHOT_ID, "snapshot", {}))
            self._event_seq = msg.seq  # lower: the ingest restarted and counts afresh
            return Update("event", self.name, value=(msg.name, msg.params))
        if isinstance(msg, _wire.Result):
            tail = self._tails.get(msg.query_id)
            if tail is None:
                return Update("result", self.name, batch=msg.batch, value=msg.params)
            rid, last = tail
            if msg.seq != last + 1:  # a push was lost: start over
                self._send(sock, _wire.Query(msg.query_id, "cancel", {}))
                del self._tails[msg.query_id]
                self._start_tail(sock, rid)
                return Update("reset", self.name, rid)
            tail[1] = msg.seq
            if msg.batch is None or msg.params.get("done"):
                return None
            return Update("chunk", self.name, rid, batch=msg.batch)
        if isinstance(msg, _wire.Error):
            return Update("error", self.name, value=f"{self.name}: {msg.code}: {msg.message}")
        return None

    def _put(self, out: queue.Queue, update: Update) -> None:
        while not self._stop.is_set():
            try:
                out.put(update, timeout=0.1)
                return
            except queue.Full:
                continue

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
