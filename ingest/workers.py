"""``--shards N`` (N >= 2): N store worker processes behind the ingest process.

The ingest validates each chunk, writes ``--save``, and forwards the producer's frames untouched
(zero copy) to the worker(s) its entity path maps to. Every worker's DEALER connects to one ROUTER
of the ingest and is addressed by a routing id that is new for each worker process, so a restarted
worker simply connects again; ROUTER_MANDATORY makes a send to a worker that is gone fail instead of
vanishing, and nothing is dropped at a high-water mark (queued bytes are bounded by the producers'
credit windows because acks wait for workers). A worker answers ``Ack(seq=ticket)`` or
``Error(seq=ticket)``; the producer's ACK covers a chunk once every target shard answered.

Frames between the ingest and a worker are ``[tag, *wire message]`` (after the routing id):
``b"T" + u64 ticket`` for a chunk, ``b"Q" + client routing id`` for a query (and for the answer,
relayed to that client), ``b"C" + routing id`` for a hierarchy chunk one worker copies to another,
and ``b""`` for messages between the processes themselves (ready, acks, store events, BYE).
Standing queries run inside the workers; the ingest re-numbers each relayed ``Result.seq`` per
client query so a client sees one gap-free sequence, and merges the ``done`` markers of one-shot
``chunks``/``tail`` answers into one.

Recovery (``supervise``, every ``TICK`` s):

- A worker process that exits (crash, SIGKILL, OOM) is replaced by a new one for its shard. What
  the dead one held in memory is gone: that is logged as an error with the rows and chunks it had
  confirmed, counted on ``Health`` (``worker_deaths``, ``worker_lost_rows``, ...), and told to
  viewers (``worker_lost``, plus ``data_dropped`` per entity it owned). The chunks it had not
  confirmed are refused to their producers (``store_unavailable``). Chunks that arrive while its
  successor starts are held and sent to it once it is ready (the chunk deadline bounds the wait).
- The successor gets the Transform3D/Pinhole/Clear/AnnotationContext chunks (broadcast to every
  shard) copied from a live shard, so its entities resolve the hierarchy as before, and the clients'
  standing queries (``latest_at``, ``range``, ``tail``) again. Pending ``chunks``/``tail`` answers
  finish without the dead shard (``lost_shards`` in their ``done`` marker).
- Restarts back off (0, then ``RESTART_BACKOFF`` doubling); after more than ``MAX_RESTARTS``
  deaths within ``RESTART_WINDOW`` s the shard is given up: its chunks are refused with that reason.
- A chunk not confirmed within ``CHUNK_DEADLINE`` s (a lost or unreadable worker reply) is refused
  to its producer (``store_timeout``), so its ``flush`` returns; a confirmation arriving later is
  counted (``late_worker_replies``) and otherwise ignored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import signal
import struct
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa
import zmq

from rerun_zmq import _wire
from rerun_zmq._chunk import ChunkInfo
from rerun_zmq._wire import Bye, Event, Kind, Query, Result

from .errors import ConfigError, RejectedMessage, SchemaError, StoreTimeoutError, StoreUnavailableError
from .routing import ShardMap

log = logging.getLogger("ingest")
_TICKET = struct.Struct("<Q")
_HEAD_SIZE = 4
#: seconds a worker process has to say it is ready
START_TIMEOUT = 30.0
#: seconds a chunk sent to (or held for) a worker may wait for its confirmation
CHUNK_DEADLINE = 30.0
#: restarts allowed within RESTART_WINDOW seconds; one more death gives the shard up
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0
#: delay before the 2nd restart within the window, doubled for each further one (the 1st is at once)
RESTART_BACKOFF = 0.5
RESTART_BACKOFF_MAX = 8.0
#: seconds between two ``supervise`` runs
TICK = 0.1
#: seconds a worker whose connection closed may take to exit before it is killed
UNREACHABLE_GRACE = 2.0
_POLL_MAX = 10_000
_LOGGED_LATE = 20
_STANDING = ("latest_at", "range", "tail")
_MERGED = ("chunks", "tail")

ShardState = Literal["starting", "ready", "unreachable", "waiting", "failed"]


@dataclass
class _Ticket:
    producer_id: str
    seq: int
    recording_id: str
    batch: pa.RecordBatch
    size: int
    #: monotonic time after which the chunk is refused if a shard has still not answered
    deadline: float
    #: shards that have not answered yet
    waiting: set = field(default_factory=set)
    #: refused by some shard (its producer was told once): not counted as stored
    failed: bool = False


@dataclass
class _Shard:
    """One store shard: its current worker process and what the ingest knows of it."""

    index: int
    proc: subprocess.Popen | None = None
    ident: bytes = b""
    #: worker processes started for this shard so far
    gen: int = 0
    #: starting (process started, not ready yet), ready, unreachable (its connection closed: it is
    #: exiting, or is killed after UNREACHABLE_GRACE), waiting (to be restarted at ``since``), failed
    state: ShardState = "starting"
    since: float = 0.0
    deaths: deque = field(default_factory=deque)
    #: ticket -> frames of chunks for a worker that is (re)starting, sent when it is ready
    held: dict = field(default_factory=dict)
    #: confirmed by the current process: what its death loses
    rows: int = 0
    chunks: int = 0
    bytes: int = 0
    reason: str = ""


@dataclass
class _Relay:
    op: str
    query: Query | None = None
    seq: int = 0
    #: shards whose ``done`` marker arrived, or that cannot send one (dead or down)
    done_from: set = field(default_factory=set)
    lost: set = field(default_factory=set)
    chunks: int = 0
    last: dict | None = None
    finished: bool = False


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


def _exit_text(proc: subprocess.Popen | None) -> str:
    if proc is None:
        return "could not be started"
    rc = proc.returncode
    if rc is None:
        return "is still running"
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = f"signal {-rc}"
        extra = " (by a user or by the kernel's out-of-memory killer)" if -rc == signal.SIGKILL else ""
        return f"exited: killed by {name}{extra}"
    return f"exited with code {rc}"


class WorkerShards:
    """The ingest's side of N worker processes: routing, acks, restarts and chunk deadlines."""

    asynchronous = True

    def __init__(self, server, num_shards: int, memory_limit: int | None) -> None:
        self.server = server
        self.n = num_shards
        self.memory_limit = memory_limit
        self.shard_map = ShardMap(num_shards)
        self.hub = Mirror()
        #: the ROUTER every worker connects to (the server's main loop polls it)
        self.socks: list = []
        self.endpoint = ""
        # tunables (tests lower them on the instance)
        self.chunk_deadline = CHUNK_DEADLINE
        self.start_timeout = START_TIMEOUT
        self.max_restarts = MAX_RESTARTS
        self.restart_window = RESTART_WINDOW
        self.restart_backoff = RESTART_BACKOFF
        self.restart_backoff_max = RESTART_BACKOFF_MAX
        self.tick = TICK
        self._shards = [_Shard(k) for k in range(num_shards)]
        self._by_ident: dict[bytes, int] = {}
        self._tickets: dict[int, _Ticket] = {}
        self._next_ticket = 0
        self._relays: dict[tuple[bytes, int], _Relay] = {}
        self._sync: zmq.Socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self._late_logged = 0
        self._token = secrets.token_hex(4)

    # -- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = loop = asyncio.get_running_loop()
        sock = self.server._ctx.socket(zmq.ROUTER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, 0)
        sock.setsockopt(zmq.RCVHWM, 0)
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        port = sock.bind_to_random_port("tcp://127.0.0.1")
        self.endpoint = f"tcp://127.0.0.1:{port}"
        self.socks = [sock]
        self._sync = zmq.Socket.shadow(sock.underlying)
        for k in range(self.n):
            if not self._spawn(k):
                raise ConfigError(f"store worker {k} could not be started")
        deadline = loop.time() + self.start_timeout
        while True:
            starting = [sh for sh in self._shards if sh.state != "ready"]
            if not starting:
                break
            for sh in starting:
                if sh.proc.poll() is not None:
                    raise ConfigError(f"store worker {sh.index} {_exit_text(sh.proc)} while starting")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ConfigError(f"store worker(s) {[sh.index for sh in starting]} did not start within "
                                  f"{self.start_timeout:g} s")
            if await sock.poll(int(min(remaining, 0.2) * 1000) + 1):
                self.poll()
        log.info("%d store worker processes ready (pids %s)", self.n, [p.pid for p in self.procs])
        self._timer = loop.call_later(self.tick, self._on_tick)

    def _command(self, k: int, ident: bytes) -> list[str]:
        limit = (self.memory_limit or 0) // self.n  # the limit is shared
        return [sys.executable, "-m", "ingest.worker", self.endpoint, str(k), str(self.n), str(limit),
                str(os.getpid()), ident.decode()]

    def _spawn(self, k: int) -> bool:
        """Start a worker process for shard ``k`` (state ``starting`` until it says it is ready)."""
        sh = self._shards[k]
        self._by_ident.pop(sh.ident, None)
        sh.gen += 1
        sh.ident = f"w{k}.{sh.gen}.{self._token}".encode()
        sh.rows = sh.chunks = sh.bytes = 0
        sh.since = time.monotonic()
        try:
            sh.proc = subprocess.Popen(self._command(k, sh.ident), stdin=subprocess.DEVNULL)
        except OSError as exc:
            log.error("could not start store worker %d: %s", k, exc)
            self._count("worker_deaths")
            self._after_death(k, f"could not be started ({exc})")
            return False
        sh.state = "starting"
        self._by_ident[sh.ident] = k
        if sh.gen > 1:
            self._count("worker_restarts")
        return True

    def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        bye = [b"", *_wire.encode(Bye("ingest shutting down"))]
        for sh in self._shards:
            if sh.proc is not None and sh.proc.poll() is None:
                if not (sh.state == "ready" and self._send(sh.index, bye)):
                    sh.proc.terminate()
        for sh in self._shards:
            if sh.proc is None:
                continue
            try:
                sh.proc.wait(5.0)
            except subprocess.TimeoutExpired:
                sh.proc.kill()
                sh.proc.wait()
        for sock in self.socks:
            sock.close(0)

    @property
    def procs(self) -> list[subprocess.Popen]:
        """The current (or last) worker process of each shard, in shard order."""
        return [sh.proc for sh in self._shards if sh.proc is not None]

    @property
    def pending(self) -> int:
        return len(self._tickets)

    def status(self) -> list[dict]:
        """Per shard: state, pid, processes started, recent deaths, and why it was given up."""
        return [{"shard": sh.index, "state": sh.state, "pid": sh.proc.pid if sh.proc else None,
                 "workers_started": sh.gen, "recent_deaths": len(sh.deaths), "reason": sh.reason}
                for sh in self._shards]

    def _count(self, name: str, n: int = 1) -> None:
        health = self.server.health
        setattr(health, name, getattr(health, name, 0) + n)

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
        self._tickets[ticket] = _Ticket(producer.producer_id, seq, recording_id, batch, size,
                                        time.monotonic() + self.chunk_deadline, set(targets))
        tag = b"T" + _TICKET.pack(ticket)
        for k in targets:
            sh = self._shards[k]
            if sh.state == "failed":
                self._answer(ticket, k, StoreUnavailableError(sh.reason))
            elif sh.state != "ready":
                sh.held[ticket] = frames  # its worker is (re)starting: sent to it once it is ready
            elif not self._send(k, [tag, *frames]):
                sh.held[ticket] = frames
                self._unreachable(k)
        return None

    def _send(self, k: int, frames: list) -> bool:
        """Send to worker ``k`` without ever blocking; False when its connection is gone."""
        try:
            self._sync.send_multipart([self._shards[k].ident, *frames], zmq.NOBLOCK, copy=False)
            return True
        except zmq.ZMQError:  # EHOSTUNREACH (ROUTER_MANDATORY): no such peer any more
            return False

    def _unreachable(self, k: int) -> None:
        """A send to worker ``k`` failed: its process is exiting (``supervise`` sees it exit, and tells
        how) or must be killed. Chunks for it are held meanwhile."""
        sh = self._shards[k]
        if sh.state == "ready":
            sh.state = "unreachable"
            sh.since = time.monotonic()

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
        self._count("late_worker_replies")
        self._late_logged += 1
        if self._late_logged <= _LOGGED_LATE:
            log.warning("store worker %d answered chunk ticket %d after it had been refused to its producer (not "
                        "confirmed within %g s); the answer is ignored (the worker may hold that chunk although its "
                        "producer counts it as refused)", k, ticket, self.chunk_deadline)

    # -- supervision --------------------------------------------------------------------------------
    def _on_tick(self) -> None:
        if self._closed:
            return
        try:
            self.supervise()
        except Exception:  # noqa: BLE001 - the process boundary: log and count, never crash
            self.server.health.worker_errors += 1
            log.exception("unexpected error supervising the store workers; the ingest keeps running")
        finally:
            if not self._closed:
                self._timer = self._loop.call_later(self.tick, self._on_tick)

    def check_workers(self) -> None:
        """The server's periodic probe; ``supervise`` already runs every ``tick`` seconds."""
        self.supervise()

    def supervise(self) -> None:
        """Replace workers that died, start those due, refuse chunks past their deadline."""
        now = time.monotonic()
        live = [sh for sh in self._shards if sh.state in ("starting", "ready", "unreachable")]
        gone = [sh.index for sh in live if sh.proc.poll() is not None]
        stuck = {sh.index: f"did not say it was ready within {self.start_timeout:g} s and was killed"
                 for sh in live if sh.state == "starting" and now - sh.since > self.start_timeout}
        stuck.update({sh.index: "became unreachable (its connection closed) and was killed"
                      for sh in live if sh.state == "unreachable" and now - sh.since > UNREACHABLE_GRACE})
        if gone:
            self.poll()  # what the dead workers sent before they died
        for k in gone:
            self._lost(k)
        for k, how in stuck.items():
            if k not in gone:
                self._lost(k, how)
        due = [sh.index for sh in self._shards if sh.state == "waiting" and now >= sh.since]
        for k in due:
            if self.server.should_exit:
                self._give_up(k, f"store worker {k} was not restarted: the ingest is shutting down")
            else:
                self._spawn(k)
        expired = self._expire(now)
        if gone or stuck or due or expired:
            self.server.send_acks()

    def _lost(self, k: int, how: str | None = None) -> None:
        """Worker ``k`` is gone (or unreachable, or stuck starting: then it is killed first): refuse
        what it had not confirmed, report what it held, and restart it or give the shard up."""
        sh = self._shards[k]
        if sh.state not in ("starting", "ready", "unreachable"):
            return
        proc = sh.proc
        if proc.poll() is None:
            proc.kill()
            try:
                proc.wait(5.0)
            except subprocess.TimeoutExpired:
                pass
        how = how or _exit_text(proc)
        was_ready = sh.state != "starting"
        self._by_ident.pop(sh.ident, None)
        self._count("worker_deaths")
        reason = (f"store worker {k} {how} before confirming this chunk: it is not stored "
                  "(--save has it if the ingest saves)")
        in_flight = [tk for tk, t in self._tickets.items() if k in t.waiting and tk not in sh.held]
        for tk in in_flight:
            self._answer(tk, k, StoreUnavailableError(reason))
        lost = {"rows": sh.rows, "chunks": sh.chunks, "bytes": sh.bytes}
        entities = self._drop_from_mirror(k) if was_ready else 0
        self._count("worker_lost_rows", sh.rows)
        self._count("worker_lost_chunks", sh.chunks)
        sh.rows = sh.chunks = sh.bytes = 0
        self._relays_lost(k)
        plan = self._after_death(k, how)
        if was_ready:
            log.error("store worker %d (pid %d) %s: the %d rows in %d chunks (%d bytes, %d entities) it had stored "
                      "are gone from the live store (--save has what arrived); %d chunks it had not confirmed were "
                      "refused to their producers; %s", k, proc.pid, how, lost["rows"], lost["chunks"],
                      lost["bytes"], entities, len(in_flight), plan)
        else:
            log.error("store worker %d (pid %d) %s before it was ready; %s", k, proc.pid, how, plan)
        self.server.queries.on_remote_event("worker_lost", {
            "shard": k, "pid": proc.pid, "how": how, **lost, "entities": entities, "refused_chunks": len(in_flight),
            "was_ready": was_ready, "plan": plan})

    def _after_death(self, k: int, how: str) -> str:
        """Schedule shard ``k``'s next worker, or give it up; returns what was decided, in words."""
        sh = self._shards[k]
        now = time.monotonic()
        sh.deaths.append(now)
        while now - sh.deaths[0] > self.restart_window:
            sh.deaths.popleft()
        if self._closed or self.server.should_exit:
            self._give_up(k, f"store worker {k} {how} while the ingest was shutting down")
            return "not restarting it (the ingest is shutting down)"
        deaths = len(sh.deaths)
        if deaths > self.max_restarts:
            self._give_up(k, f"store worker {k} died {deaths} times within {self.restart_window:g} s (last: {how}); "
                             "the ingest gave up restarting it, so chunks of its entities cannot be stored until the "
                             "ingest restarts (--save has them if the ingest saves)")
            return f"gave up on it after {deaths} deaths within {self.restart_window:g} s"
        delay = 0.0 if deaths == 1 else min(self.restart_backoff_max, self.restart_backoff * 2 ** (deaths - 2))
        sh.state = "waiting"
        sh.since = now + delay
        return f"restarting it in {delay:g} s (death {deaths} of the {self.max_restarts} tolerated within " \
               f"{self.restart_window:g} s)"

    def _give_up(self, k: int, reason: str) -> None:
        sh = self._shards[k]
        sh.state = "failed"
        sh.reason = reason
        for ticket in list(sh.held):
            self._answer(ticket, k, StoreUnavailableError(reason))
        self._count("workers_given_up")
        log.error("%s", reason)
        self.server.queries.on_remote_event("worker_failed", {"shard": k, "reason": reason})

    def _drop_from_mirror(self, k: int) -> int:
        """Tell viewers (and the summary) that the entities shard ``k`` owned lost their rows."""
        entities = 0
        for rid, st in list(self.hub.stores.items()):
            for ent, rows in list(st.rows.items()):
                if rows and self.shard_map.shard_of(ent) == k:
                    entities += 1
                    self.server.queries.on_remote_event("data_dropped", {
                        "recording_id": rid, "entity_path": ent, "rows": rows, "reason": "worker_lost", "shard": k})
        return entities

    def _on_ready(self, k: int) -> None:
        sh = self._shards[k]
        if sh.state != "starting":
            return
        sh.state = "ready"
        if sh.gen == 1:
            return
        held = len(sh.held)
        log.warning("store worker %d restarted (pid %d, worker %d of this shard); it stores that shard's chunks "
                    "again (%d held meanwhile are sent to it now)", k, sh.proc.pid, sh.gen, held)
        self.server.queries.on_remote_event("worker_restarted", {"shard": k, "pid": sh.proc.pid, "held": held})
        while sh.held:
            ticket = next(iter(sh.held))
            frames = sh.held.pop(ticket)
            if not self._send(k, [b"T" + _TICKET.pack(ticket), *frames]):
                sh.held[ticket] = frames
                self._unreachable(k)
                return
        donor = next((o.index for o in self._shards if o.index != k and o.state == "ready"), None)
        copy = [b"", *_wire.encode(Event(0, "copy_hierarchy", {"to": sh.ident.decode()}))]
        if donor is None:
            log.warning("no other store worker runs to copy Transform3D/Pinhole/Clear/AnnotationContext chunks from: "
                        "store worker %d knows only those logged from now on", k)
        elif not self._send(donor, copy):
            self._unreachable(donor)
        for (identity, _), relay in list(self._relays.items()):
            q = relay.query
            if q is None or relay.op not in _STANDING or q.params.get("once") or k not in self._query_targets(q):
                continue
            if relay.op == "tail" and not q.params.get("recording_id") and relay.last:
                q = Query(q.query_id, q.op, {**q.params, "recording_id": relay.last.get("recording_id")})
            if not self._send(k, [b"Q" + identity, *_wire.encode(q)]):
                self._unreachable(k)
                return

    def _expire(self, now: float) -> int:
        """Refuse every chunk whose deadline passed; returns how many."""
        expired = []
        for ticket, t in self._tickets.items():  # in arrival order, so deadlines ascend
            if t.deadline > now:
                break
            expired.append(ticket)
        for ticket in expired:
            t = self._tickets[ticket]
            shards = sorted(t.waiting)
            err = StoreTimeoutError(f"store worker(s) {shards} did not confirm this chunk within "
                                    f"{self.chunk_deadline:g} s; it is counted as not stored")
            for k in shards:
                self._answer(ticket, k, err)
        if expired:
            self._count("chunk_timeouts", len(expired))
            log.error("%d chunks were not confirmed by their store workers within %g s and were refused to their "
                      "producers", len(expired), self.chunk_deadline)
        return len(expired)

    # -- replies ------------------------------------------------------------------------------------
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
            else:
                self.server.queries.on_remote_event(msg.name, msg.params)

    # -- queries ------------------------------------------------------------------------------------
    def _query_targets(self, q: Query) -> list[int]:
        if q.op == "range":
            return [self.shard_map.shard_of(_canonical(q.params["entity"]))]
        return list(range(self.n))

    def forward_query(self, identity: bytes, q: Query) -> None:
        key = (identity, q.query_id)
        targets = self._query_targets(q)
        relay = None
        if q.op == "cancel":
            self._relays.pop(key, None)
        else:
            relay = self._relays[key] = _Relay(q.op, q)
        frames = [b"Q" + identity, *_wire.encode(q)]
        for k in targets:
            if self._shards[k].state != "ready":
                down = True  # a restarted worker gets the standing query once it is ready
            elif not self._send(k, frames):
                self._unreachable(k)
                down = True
            else:
                down = False
            if down and relay is not None and relay.op in _MERGED:
                relay.done_from.add(k)
                relay.lost.add(k)
        if relay is not None and relay.op in _MERGED and len(relay.done_from) >= self.n:
            self._finish_relay(key, relay)

    def _relays_lost(self, k: int) -> None:
        """Shard ``k`` will not answer: pending ``chunks``/``tail`` answers finish without it."""
        for key, relay in list(self._relays.items()):
            if relay.op in _MERGED and not relay.finished and k not in relay.done_from:
                relay.done_from.add(k)
                relay.lost.add(k)
                if len(relay.done_from) >= self.n:
                    self._finish_relay(key, relay)

    def _finish_relay(self, key: tuple[bytes, int], relay: _Relay) -> None:
        """Send the one ``done`` marker of a merged answer."""
        if relay.finished:
            return
        relay.finished = True
        params = dict(relay.last or {"recording_id": relay.query.params.get("recording_id") if relay.query else None})
        rid = params.get("recording_id")
        params.update(done=True, chunks=relay.chunks,
                      application_id=self.hub.application_ids.get(rid, params.get("application_id", "")))
        if relay.lost:
            params["lost_shards"] = sorted(relay.lost)
        relay.seq += 1
        self._to_client(key[0], _wire.encode(Result(key[1], relay.seq, params)))
        if relay.op == "chunks":
            self._relays.pop(key, None)

    def _relay(self, identity: bytes, frames: list, k: int) -> None:
        header = frames[0].bytes
        kind = _wire.peek_kind(header)
        small = json.loads(header[_HEAD_SIZE:])
        key = (identity, small.get("query_id", small.get("seq")))
        relay = self._relays.get(key)
        if kind == Kind.RESULT and relay is not None:
            params = small.get("params") or {}
            if relay.op in _MERGED and params.get("done"):
                if relay.finished or k in relay.done_from:
                    return  # e.g. a restarted worker's answer to a re-sent tail: its chunks went through
                relay.done_from.add(k)
                relay.chunks += params.get("chunks") or 0
                relay.last = params
                if len(relay.done_from) >= self.n:
                    self._finish_relay(key, relay)
                return
            relay.seq += 1
            small["seq"] = relay.seq
            header = header[:_HEAD_SIZE] + json.dumps(small, separators=(",", ":")).encode()
        self._to_client(identity, [header, *frames[1:]])

    def _to_client(self, identity: bytes, frames: list) -> None:
        try:
            self.server._sync.send_multipart([identity, *frames], zmq.NOBLOCK, copy=False)
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
        await poller.poll(max(1, int(min(deadline - loop.time(), shards.tick) * 1000)))
        shards.poll()
