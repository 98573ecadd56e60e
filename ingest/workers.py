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

``WorkerShards`` (here: starting and stopping the workers, forwarding chunks) is made of:

- ``worker_supervision``: dead or stuck workers, restarts with backoff, giving a shard up, chunk
  deadlines;
- ``worker_replies``: what the workers send, and each chunk's answers reaching its producer;
- ``worker_queries``: client queries relayed to the workers and their answers back;
- ``worker_state`` (per shard and per chunk) and ``worker_mirror`` (the recordings' summary).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import subprocess
import sys
import time

import pyarrow as pa
import zmq

from rerun_zmq import _wire
from rerun_zmq._chunk import ChunkInfo
from rerun_zmq._wire import Bye

from .errors import ConfigError, StoreUnavailableError
from .routing import ShardMap
from .worker_mirror import Mirror
from .worker_queries import QueryRelayMixin, Relay
from .worker_replies import RepliesMixin
from .worker_state import LIVE, TICKET, Shard, Ticket, exit_text
from .worker_supervision import (
    CHUNK_DEADLINE,
    MAX_RESTARTS,
    RESTART_BACKOFF,
    RESTART_BACKOFF_MAX,
    RESTART_WINDOW,
    START_TIMEOUT,
    TICK,
    SupervisionMixin,
)

__all__ = ["WorkerShards", "wait_idle"]

log = logging.getLogger("ingest")


class WorkerShards(SupervisionMixin, RepliesMixin, QueryRelayMixin):
    """The ingest's side of N worker processes: routing, acks, restarts and chunk deadlines.

    All the state lives here (``__init__``); the mixins hold the methods for supervision, replies
    and query relays."""

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
        self._shards = [Shard(k) for k in range(num_shards)]
        self._by_ident: dict[bytes, int] = {}
        self._tickets: dict[int, Ticket] = {}
        self._next_ticket = 0
        self._relays: dict[tuple[bytes, int], Relay] = {}
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
                    raise ConfigError(f"store worker {sh.index} {exit_text(sh.proc)} while starting")
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
        """Stop every worker: BYE (SIGTERM to one not ready), killed after 5 s. A worker that died since
        the last ``supervise``, or that does not exit cleanly now, is reported like any death (not
        restarted): what it had not confirmed is refused, what it held is logged and counted."""
        started = self._timer is not None  # else ``start`` failed, and said why
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        if started:
            self.poll()  # what they sent before they died
            for sh in self._shards:
                if sh.state in LIVE and sh.proc.poll() is not None:
                    self._lost(sh.index)
        bye = [b"", *_wire.encode(Bye("ingest shutting down"))]
        termed = set()
        for sh in self._shards:
            if sh.proc is not None and sh.proc.poll() is None:
                if not (sh.state == "ready" and self._send(sh.index, bye)):
                    sh.proc.terminate()
                    termed.add(sh.index)
        killed = set()
        for sh in self._shards:
            if sh.proc is None:
                continue
            try:
                sh.proc.wait(5.0)
            except subprocess.TimeoutExpired:
                sh.proc.kill()
                sh.proc.wait()
                killed.add(sh.index)
        if started:
            self._report_unclean_exits(termed, killed)
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
        self._tickets[ticket] = Ticket(producer.producer_id, seq, recording_id, batch, size,
                                       time.monotonic() + self.chunk_deadline, set(targets))
        tag = b"T" + TICKET.pack(ticket)
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
