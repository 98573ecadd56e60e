"""A store worker process (``--shards N``): one ``StoreHub`` for the entities routed to it.

Started by the ingest (``ingest.workers``) as
``python -m ingest.worker ENDPOINT INDEX N MEMORY PARENT_PID [ROUTING_ID]``; its DEALER connects to
the ingest's ROUTER under ``ROUTING_ID`` (new for each worker process, so a restarted one is told
apart from the one it replaces). It ignores SIGINT (a terminal's Ctrl-C reaches the whole process
group; the ingest decides when workers stop), exits on the ingest's BYE, on SIGTERM, or when the
ingest process is gone. Asked ``copy_hierarchy``, it sends its Transform3D/Pinhole/Clear/
AnnotationContext chunks (which every shard holds) for the ingest to pass to a restarted worker,
which stores them (``b"C"`` frames) without acknowledging them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import struct
import sys

import zmq
import zmq.asyncio

from rerun_zmq import _wire
from rerun_zmq._chunk import ChunkError, parse_chunk
from rerun_zmq._wire import Ack, Bye, ChunkMsg, Error, Event, Message, Query

from .errors import RejectedMessage
from .query import QueryService
from .routing import ShardMap, is_hierarchy_chunk
from .shards import LocalShards

log = logging.getLogger("ingest.worker")
_TICKET = struct.Struct("<Q")


class _Config:
    push_interval = 0.016


class Worker:
    """Quacks like ``Server`` for the ``QueryService`` that runs the standing queries of this shard."""

    def __init__(self, endpoint: str, index: int, num_shards: int, memory_limit: int | None, parent: int,
                 identity: bytes = b"") -> None:
        self.endpoint, self.index, self.parent, self.identity = endpoint, index, parent, identity
        self.config = _Config()
        self.shard_map = ShardMap(num_shards)
        self.memory_limit = memory_limit
        self.stop = False

    def stats(self) -> dict:
        return {"shard": self.index}

    def _send(self, identity: bytes, msg: Message) -> bool:
        tag = b"Q" + identity if identity else b""
        self._sync.send_multipart([tag, *_wire.encode(msg)], copy=False)
        return True

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self._stop)
        ctx = zmq.asyncio.Context()
        sock = ctx.socket(zmq.DEALER)
        if self.identity:
            sock.setsockopt(zmq.IDENTITY, self.identity)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, 0)
        sock.setsockopt(zmq.RCVHWM, 0)
        sock.connect(self.endpoint)
        self._sync = zmq.Socket.shadow(sock.underlying)
        self.queries = QueryService(self)
        self.queries.owns = lambda path: self.shard_map.shard_of(path) == self.index
        self.queries.forward_events = True
        self.shards = LocalShards(self.memory_limit, self.queries.on_store_event)
        self._send(b"", Event(0, "worker_ready", {"index": self.index, "pid": os.getpid()}))
        push = asyncio.ensure_future(self.queries.run())
        try:
            while not self.stop:
                if await sock.poll(1000):
                    self.drain()
                elif os.getppid() != self.parent:
                    log.warning("store worker %d: the ingest is gone; exiting", self.index)
                    break
        finally:
            push.cancel()
            sock.close(0)
            ctx.term()

    def _stop(self) -> None:
        self.stop = True

    def drain(self) -> None:
        for _ in range(512):
            try:
                frames = self._sync.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            tag = frames[0].bytes
            if tag.startswith(b"T"):
                self.insert(_TICKET.unpack(tag[1:9])[0], frames[1:])
            elif tag.startswith(b"Q"):
                self.query(tag[1:], frames[1:])
            elif tag == b"C":
                self.seed(frames[1:])
            elif self.control(frames[1:]):
                return

    def control(self, frames: list) -> bool:
        """A message of the ingest itself (BYE, ``copy_hierarchy``); True when this worker should stop."""
        try:
            msg = _wire.decode([f.bytes for f in frames])
        except _wire.WireError as exc:
            log.warning("store worker %d: unreadable control message: %s", self.index, exc)
            return False
        if isinstance(msg, Bye):
            self.stop = True
            return True
        if isinstance(msg, Event) and msg.name == "copy_hierarchy":
            self.copy_hierarchy(str(msg.params.get("to", "")))
        return False

    def copy_hierarchy(self, to: str) -> None:
        """Send every hierarchy chunk held here, for the ingest to pass to the restarted worker ``to``."""
        tag = b"C" + to.encode()
        n = 0
        hub = self.shards.hub
        for rid in hub.recording_ids():
            for batch in hub.store(rid).chunks():
                try:
                    hierarchy = is_hierarchy_chunk(parse_chunk(batch))
                except ChunkError:
                    continue
                if hierarchy:
                    self._sync.send_multipart([tag, *_wire.encode(ChunkMsg(rid, batch))], copy=False)
                    n += 1
        self._send(b"", Event(0, "copy_done", {"to": to, "chunks": n}))

    def _store(self, frames: list, ticket: int = 0) -> tuple[ChunkMsg, int]:
        """Decode a CHUNK and store it: (the message, rows stored); raises what refuses it."""
        msg = _wire.decode(frames)
        if not isinstance(msg, ChunkMsg):
            raise _wire.WireError(f"expected a CHUNK, got {msg.kind.name}")
        return msg, self.shards.insert(msg.recording_id, msg.batch, parse_chunk(msg.batch), ticket)

    def seed(self, frames: list) -> None:
        """Store a hierarchy chunk copied from another shard (no answer: no producer waits for it)."""
        try:
            msg, _ = self._store(frames)
        except (RejectedMessage, _wire.WireError, ValueError) as exc:
            log.warning("store worker %d: a copied hierarchy chunk was refused: %s", self.index, exc)
            return
        self.queries.on_chunk(msg.recording_id, msg.batch)

    def insert(self, ticket: int, frames: list) -> None:
        try:
            msg, rows = self._store(frames, ticket)
        except (RejectedMessage, _wire.WireError, ValueError) as exc:
            self._send(b"", Error("bad_schema", str(exc)[:1000], ticket))
            return
        self._send(b"", Ack(ticket, rows))
        self.queries.on_chunk(msg.recording_id, msg.batch)

    def query(self, identity: bytes, frames: list) -> None:
        try:
            msg = _wire.decode(frames)
            if not isinstance(msg, Query):
                raise _wire.WireError(f"expected a QUERY, got {msg.kind.name}")
            self.queries.handle(identity, msg)
        except (RejectedMessage, _wire.WireError) as exc:
            self._send(identity, Error("bad_query", str(exc)[:1000], getattr(exc, "seq", 0)))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s ingest-worker %(levelname)s %(message)s")
    endpoint, index, n, memory, parent = argv[0], int(argv[1]), int(argv[2]), int(argv[3]), int(argv[4])
    identity = argv[5].encode() if len(argv) > 5 else b""
    asyncio.run(Worker(endpoint, index, n, memory or None, parent, identity).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
