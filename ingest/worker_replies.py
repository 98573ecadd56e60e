"""What the store workers send the ingest, and chunks' answers reaching their producers (``--shards N``).

``poll`` reads the ROUTER every worker connects to: acks and refusals of chunk tickets, store and
lifecycle events (``worker_ready``, ``copy_done``), hierarchy chunks one worker copies to a restarted
one (``b"C"``), and query answers (``b"Q"``, see ``worker_queries``). A message from a worker
process already replaced is dropped; one that cannot be handled is logged, counted
(``worker_errors``) and skipped, never fatal.

``_answer`` settles one shard's part of a chunk ticket, whether a worker answered it or supervision
refused it in the worker's place: the producer hears of a refusal once per chunk, and its ack waits
for every target shard. An answer to a ticket already refused (past its deadline) is counted
(``late_worker_replies``) and otherwise ignored.

``RepliesMixin`` is part of ``ingest.workers.WorkerShards`` and shares its state.
"""

from __future__ import annotations

import logging

import zmq

from rerun_zmq import _wire
from rerun_zmq._wire import Event

from .errors import RejectedMessage, SchemaError

log = logging.getLogger("ingest")
#: messages handled by one ``poll`` at most, so that one call cannot starve the event loop
_POLL_MAX = 10_000
#: late answers logged one by one (all are counted)
_LOGGED_LATE = 20


class RepliesMixin:
    """``WorkerShards``' handling of what its workers send, and of answers to chunk tickets."""

    def poll(self) -> int:
        """Handle what the workers sent (acks, refusals, events, query answers); returns messages."""
        if self._sync is None:
            return 0
        n = 0
        while n < _POLL_MAX:
            try:
                frames = self._sync.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                break
            n += 1
            k = self._by_ident.get(frames[0].bytes)
            if k is None or len(frames) < 2:
                continue  # the last words of a worker already replaced, or not a worker of ours
            try:
                self._from_worker(frames[1:], k)
            except Exception:  # noqa: BLE001 - one bad reply is skipped (logged, counted), not fatal
                self.server.health.worker_errors += 1
                log.exception("unexpected error handling a reply of store worker %d; skipped", k)
        return n

    def _from_worker(self, frames: list, k: int) -> None:
        """One message of worker ``k`` (``frames`` without its routing id), by its tag."""
        tag = frames[0].bytes
        if tag.startswith(b"Q"):
            self._relay(tag[1:], frames[1:], k)
            return
        if tag.startswith(b"C"):  # a hierarchy chunk copied to a restarted worker
            to = self._by_ident.get(tag[1:])
            if to is not None and self._shards[to].state == "ready" and not self._send(to, [b"C", *frames[1:]]):
                self._unreachable(to)
            return
        msg = _wire.decode([f.bytes for f in frames[1:]])
        if isinstance(msg, _wire.Ack):
            if not self._answer(msg.seq, k, None, msg.rows):
                self._late(msg.seq, k)
        elif isinstance(msg, _wire.Error):
            if not self._answer(msg.seq, k, SchemaError(msg.message)):
                self._late(msg.seq, k)
        elif isinstance(msg, Event):
            if msg.name == "worker_ready":
                self._on_ready(k)
            elif msg.name == "copy_done":
                log.info("store worker %d copied %s hierarchy chunks to a restarted worker", k,
                         msg.params.get("chunks"))
            elif msg.name == "timeline_extended" and isinstance(msg.params.get("recording_id"), str):
                # a worker tells its own range: viewers get the range over every shard
                p = msg.params
                kind, lo, hi = self.hub.store(p["recording_id"]).extend(k, p["timeline"], p["kind"], p["min"], p["max"])
                self.server.queries.on_remote_event(msg.name, {**p, "kind": kind, "min": lo, "max": hi})
            else:
                self.server.queries.on_remote_event(msg.name, msg.params)

    def _answer(self, ticket: int, k: int, error: RejectedMessage | None = None, rows: int | None = None) -> bool:
        """Shard ``k`` stored ``ticket`` (``error`` None) or it is refused; once per shard. The producer
        is told of a refusal once per chunk. False when that part was already answered."""
        t = self._tickets.get(ticket)
        if t is None or k not in t.waiting:
            return False
        t.waiting.discard(k)
        sh = self._shards[k]
        sh.held.pop(ticket, None)
        if error is None:
            sh.rows += t.batch.num_rows if rows is None else rows
            sh.chunks += 1
            sh.bytes += t.size
        p = self.server.registry.by_producer_id(t.producer_id)
        if error is not None and not t.failed:
            t.failed = True
            if p is not None:
                error.seq = t.seq
                self.server.reject(p, error)  # completes this part of t.seq
        elif p is not None:
            p.complete(t.seq)
        if not t.waiting:
            del self._tickets[ticket]
            if p is not None and not t.failed:
                self.server.chunk_stored(p, _wire.ChunkMsg(t.recording_id, t.batch, t.seq), t.batch.num_rows, t.size)
        return True

    def _late(self, ticket: int, k: int) -> None:
        """Worker ``k`` answered ``ticket`` after it was settled (refused past its deadline): counted, ignored."""
        self._count("late_worker_replies")
        self._late_logged += 1
        if self._late_logged <= _LOGGED_LATE:
            log.warning("store worker %d answered chunk ticket %d after it had been refused to its producer (not "
                        "confirmed within %g s); the answer is ignored (the worker may hold that chunk although its "
                        "producer counts it as refused)", k, ticket, self.chunk_deadline)
