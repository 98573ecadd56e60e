"""``--shards N`` (N >= 2): N store worker processes behind the ingest process.

The ingest validates each chunk, writes ``--save``, and forwards the producer's frames untouched
(zero copy) to the worker(s) its entity path maps to, over one PAIR socket per worker (PAIR never
drops; queued bytes are bounded by the producers' credit windows because acks wait for workers).
A worker answers ``Ack(seq=ticket)`` or ``Error(seq=ticket)``; the producer's ACK covers a chunk
once every target shard answered.

Frames between the ingest and a worker are ``[tag, *wire message]``: ``b"T" + u64 ticket`` for a
chunk, ``b"Q" + client routing id`` for a query (and for the answer, relayed to that client), and
``b""`` for messages between the two processes themselves (ready, acks, store events, BYE).
Standing queries run inside the workers; the ingest re-numbers each relayed ``Result.seq`` per
client query so a client sees one gap-free sequence, and merges the ``done`` markers of one-shot
``chunks``/``tail`` answers into one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import struct
import subprocess
import sys
from dataclasses import dataclass, field

import pyarrow as pa
import zmq

from rerun_zmq import _wire
from rerun_zmq._chunk import ChunkInfo
from rerun_zmq._wire import Bye, Kind, Query

from .errors import ConfigError, SchemaError

log = logging.getLogger("ingest")
_TICKET = struct.Struct("<Q")
_HEAD_SIZE = 4
START_TIMEOUT = 30.0


@dataclass
class _Ticket:
    producer_id: str
    seq: int
    recording_id: str
    batch: pa.RecordBatch
    size: int
    #: shards that have not answered yet
    waiting: set = field(default_factory=set)


@dataclass
class _Relay:
    op: str
    seq: int = 0
    dones: int = 0
    chunks: int = 0


class MirrorStore:
    """What the ingest knows of one recording held by workers: entities, row counts, time ranges."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.tl: dict[str, tuple[str, int, int]] = {}
        self.total_bytes = 0

    def entity_paths(self) -> list[str]:
        return sorted(self.rows)

    def row_counts(self) -> dict[str, int]:
        return dict(sorted(self.rows.items()))

    def timelines(self) -> dict[str, str]:
        return {name: kind for name, (kind, _, _) in self.tl.items()}

    def time_range(self, timeline: str) -> tuple[int, int] | None:
        got = self.tl.get(timeline)
        return None if got is None else (got[1], got[2])


@dataclass
class Mirror:
    """Recording id -> ``MirrorStore``, kept from the workers' store events (``hub`` of worker mode)."""

    stores: dict[str, MirrorStore] = field(default_factory=dict)
    application_ids: dict[str, str] = field(default_factory=dict)

    def recording_ids(self) -> list[str]:
        return list(self.stores)

    def store(self, recording_id: str, *, create: bool = False) -> MirrorStore:
        st = self.stores.get(recording_id)
        if st is None:
            st = self.stores[recording_id] = MirrorStore()
        return st

    def apply(self, name: str, params: dict) -> None:
        rid = params.get("recording_id")
        if not isinstance(rid, str):
            return
        st = self.store(rid)
        if name == "entity_added":
            st.rows.setdefault(params["entity_path"], 0)
        elif name == "rows_added":
            for ent, n in params["rows"].items():
                st.rows[ent] = st.rows.get(ent, 0) + n
        elif name == "data_dropped":
            ent = params["entity_path"]
            st.rows[ent] = max(0, st.rows.get(ent, 0) - params["rows"])
        elif name == "timeline_extended":
            old = st.tl.get(params["timeline"])
            lo, hi = params["min"], params["max"]
            if old is not None:
                lo, hi = min(lo, old[1]), max(hi, old[2])
            st.tl[params["timeline"]] = (params["kind"], lo, hi)


class WorkerShards:
    """The ingest's side of N worker processes."""

    asynchronous = True

    def __init__(self, server, num_shards: int, memory_limit: int | None) -> None:
        self.server = server
        self.n = num_shards
        self.memory_limit = memory_limit
        self.hub = Mirror()
        self.socks: list[zmq.Socket] = []
        self.procs: list[subprocess.Popen] = []
        self._tickets: dict[int, _Ticket] = {}
        self._next_ticket = 0
        self._relays: dict[tuple[bytes, int], _Relay] = {}
        #: shard -> exit code of a worker process that died (or "unreachable")
        self.dead: dict[int, int | str] = {}

    # -- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        ctx = self.server._ctx
        for k in range(self.n):
            sock = ctx.socket(zmq.PAIR)
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.SNDHWM, 0)
            sock.setsockopt(zmq.RCVHWM, 0)
            port = sock.bind_to_random_port("tcp://127.0.0.1")
            self.socks.append(sock)
            cmd = [sys.executable, "-m", "ingest.worker", f"tcp://127.0.0.1:{port}", str(k), str(self.n),
                   str((self.memory_limit or 0) // self.n), str(os.getpid())]  # the limit is shared
            self.procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL))
        for k, sock in enumerate(self.socks):
            if not await sock.poll(START_TIMEOUT * 1000):
                raise ConfigError(f"store worker {k} did not start within {START_TIMEOUT} s")
            await sock.recv_multipart()  # its ready message
        self.sync_socks = [zmq.Socket.shadow(s.underlying) for s in self.socks]
        log.info("%d store worker processes ready (pids %s)", self.n, [p.pid for p in self.procs])

    def close(self) -> None:
        for sock in getattr(self, "sync_socks", []):
            try:
                sock.send_multipart([b"", *_wire.encode(Bye("ingest shutting down"))], zmq.NOBLOCK)
            except zmq.ZMQError:
                pass
        for proc in self.procs:
            try:
                proc.wait(5.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for sock in self.socks:
            sock.close(0)

    @property
    def pending(self) -> int:
        return len(self._tickets)

    # -- chunks -------------------------------------------------------------------------------------
    def store(self, recording_id: str, application_id: str = "") -> None:
        if recording_id not in self.hub.stores:
            self.hub.store(recording_id)
            self.hub.application_ids[recording_id] = application_id
            self.server.queries.on_store_event(recording_id, "recording_added")
        elif application_id and not self.hub.application_ids.get(recording_id):
            self.hub.application_ids[recording_id] = application_id

    def insert(self, recording_id: str, batch: pa.RecordBatch, info: ChunkInfo, seq: int = 0, *, targets,
               producer, size: int, frames: list) -> None:
        self.store(recording_id)
        self._next_ticket += 1
        ticket = self._next_ticket
        self._tickets[ticket] = _Ticket(producer.producer_id, seq, recording_id, batch, size, set(targets))
        tag = b"T" + _TICKET.pack(ticket)
        for k in targets:
            if k in self.dead:
                self._finish(ticket, SchemaError(self._dead_reason(k)), k)
            elif not self._send(k, [tag, *frames]):
                self._mark_dead(k)  # refuses every ticket still waiting on k, this one included
        return None

    def _send(self, k: int, frames: list) -> bool:
        """Send to worker ``k`` without ever blocking (a PAIR socket blocks when its peer is gone)."""
        try:
            self.sync_socks[k].send_multipart(frames, zmq.NOBLOCK, copy=False)
            return True
        except zmq.Again:
            return False

    def _mark_dead(self, k: int) -> None:
        proc = self.procs[k]
        self.dead[k] = proc.poll() if proc.poll() is not None else "unreachable"
        log.error("%s", self._dead_reason(k))
        for ticket, t in list(self._tickets.items()):
            if k in t.waiting:
                self._finish(ticket, SchemaError(self._dead_reason(k)), k)

    def _dead_reason(self, k: int) -> str:
        return (f"store worker {k} exited (code {self.dead[k]}): chunks of its entities cannot be stored "
                "until the ingest restarts (--save still has every chunk that arrived)")

    def check_workers(self) -> None:
        """A worker that died must not leave producers waiting forever for acks: refuse its tickets."""
        for k, proc in enumerate(self.procs):
            if k not in self.dead and proc.poll() is not None:
                self._mark_dead(k)

    def poll(self) -> int:
        """Handle what the workers sent (acks, refusals, events, query answers); returns messages."""
        n = 0
        for k, sock in enumerate(self.sync_socks):
            while True:
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK, copy=False)
                except zmq.Again:
                    break
                n += 1
                try:
                    self._from_worker(frames, k)
                except Exception:  # noqa: BLE001 - one bad reply is skipped (logged, counted), not fatal
                    self.server.health.worker_errors += 1
                    log.exception("unexpected error handling a reply of store worker %d; skipped", k)
        return n

    def _from_worker(self, frames: list, k: int) -> None:
        tag = frames[0].bytes
        if tag.startswith(b"Q"):
            self._relay(tag[1:], frames[1:])
            return
        msg = _wire.decode([f.bytes for f in frames[1:]])
        if isinstance(msg, _wire.Ack):
            self._finish(msg.seq, None, k)
        elif isinstance(msg, _wire.Error):
            self._finish(msg.seq, SchemaError(msg.message), k)
        elif isinstance(msg, _wire.Event):
            self.server.queries.on_remote_event(msg.name, msg.params)

    def _finish(self, ticket: int, error: SchemaError | None, k: int) -> None:
        """Shard ``k`` answered ``ticket`` (stored it, or refused it with ``error``); once per shard."""
        t = self._tickets.get(ticket)
        if t is None or k not in t.waiting:
            return
        t.waiting.discard(k)
        p = self.server.registry.by_producer_id(t.producer_id)
        if error is not None and p is not None:
            error.seq = t.seq
            self.server.reject(p, error)  # completes this part of t.seq
        elif p is not None:
            p.complete(t.seq)
        if not t.waiting:
            del self._tickets[ticket]
            if p is not None and error is None:
                self.server.chunk_stored(p, _wire.ChunkMsg(t.recording_id, t.batch, t.seq), t.batch.num_rows, t.size)

    # -- queries ------------------------------------------------------------------------------------
    def forward_query(self, identity: bytes, q: Query) -> None:
        frames = [b"Q" + identity, *_wire.encode(q)]
        if q.op == "range":
            from .routing import ShardMap

            targets = [ShardMap(self.n).shard_of(_canonical(q.params["entity"]))]
        else:
            targets = list(range(self.n))
        if q.op == "cancel":
            self._relays.pop((identity, q.query_id), None)
        else:
            self._relays[(identity, q.query_id)] = _Relay(q.op)
        for k in targets:
            if k not in self.dead and not self._send(k, frames):
                self._mark_dead(k)

    def _relay(self, identity: bytes, frames: list) -> None:
        header = frames[0].bytes
        kind = _wire.peek_kind(header)
        small = json.loads(header[_HEAD_SIZE:])
        relay = self._relays.get((identity, small.get("query_id", small.get("seq"))))
        if kind == Kind.RESULT and relay is not None:
            params = small.get("params") or {}
            if relay.op in ("chunks", "tail") and params.get("done") and relay.dones < self.n:
                relay.dones += 1
                relay.chunks += params.get("chunks", 0)
                if relay.dones < self.n:
                    return  # one done for the whole answer, after the last shard's
                rid = params.get("recording_id")
                params = {**params, "chunks": relay.chunks,
                          "application_id": self.hub.application_ids.get(rid, params.get("application_id", ""))}
            relay.seq += 1
            small["seq"] = relay.seq
            small["params"] = params
            header = header[:_HEAD_SIZE] + json.dumps(small, separators=(",", ":")).encode()
        try:
            self.server._sync.send_multipart([identity, header, *frames[1:]], zmq.NOBLOCK, copy=False)
        except zmq.ZMQError:  # the client is gone (or its queue is full: it sees the seq gap)
            self.server.health.send_failures += 1


def _canonical(path: str) -> str:
    from rerun_zmq._entity_path import canonical_path

    return canonical_path(path)


async def wait_idle(shards: WorkerShards, timeout: float) -> None:
    """Shutdown helper: let outstanding chunks finish so their acks go out (bounded)."""
    import zmq.asyncio

    poller = zmq.asyncio.Poller()
    for sock in shards.socks:
        poller.register(sock, zmq.POLLIN)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while shards.pending and loop.time() < deadline:
        await poller.poll(max(1, int((deadline - loop.time()) * 1000)))
        shards.poll()
