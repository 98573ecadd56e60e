"""The ingest process: ``Server`` (ROUTER socket, flow control, acks, shutdown) and ``main(argv)``.

Startup binds the ROUTER and reports the endpoint on stdout; the main loop drains whatever is
queued (up to a bound), validates and stores it, writes ``--save``, then acknowledges each producer
once per drain; shutdown (first SIGINT/SIGTERM) drains what already arrived, says BYE, writes the
file's footer and frees the port within ``--shutdown-timeout``; a second signal skips the drain.

Flow control: after HELLO a producer is granted a window of ``--credit-bytes``; it may have at
most that many bytes sent but not acknowledged. ACKs are cumulative (every chunk up to ``seq`` is
stored or refused), so a lost ACK is repaired by the next one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections import Counter

import pyarrow as pa
import zmq
import zmq.asyncio

from rerun_zmq import _net_shm, _wire, _wire_buffers
from rerun_zmq._rrd import RrdWriter
from rerun_zmq._wire import Ack, Bye, ChunkMsg, Credit, Dropped, Error, Event, Kind, Message

from . import handler, shm
from .config import Config, config_from_args
from .errors import ConfigError, IngestError, ProtocolViolation, RejectedMessage
from .health import Health
from .prefault import FramePool, keep_receive_buffers_warm
from .producers import Producer, Registry
from .query import QueryService
from .routing import ShardMap
from .shards import LocalShards

log = logging.getLogger("ingest")
DRAIN_MESSAGES = 512
PROBE_EVERY = 5.0
DRAIN_BYTES = 256 << 20
_LOGGED_PER_CODE = 20
#: CHUNK body forms this ingest reads (``ingest_info``): one IPC stream frame, or Arrow buffers as frames
BODY_FORMS = ["ipc", _wire_buffers.FORM]


class Server:
    """One ingest process; ``serve()`` runs it until a signal (or ``should_exit``) stops it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.health = Health()
        self.registry = Registry()
        self.shard_map = ShardMap(config.shards)
        self.should_exit = False
        self.force_exit = False
        self.endpoint = ""
        self.port = 0
        self._wake: asyncio.Event | None = None
        self._ctx: zmq.asyncio.Context | None = None
        self._sock: zmq.asyncio.Socket | None = None
        self._sync: zmq.Socket | None = None
        self._monitor: zmq.asyncio.Socket | None = None
        self._saver: RrdWriter | None = None
        self._saved_hellos: set[tuple[str, str]] = set()
        self._touched: dict[bytes, Producer] = {}
        self._logged: Counter = Counter()
        self._auth = None
        self.shards = None
        self.queries: QueryService | None = None
        self._pool: FramePool | None = None
        #: big frames of producers on this machine through shared memory (``ingest.shm``)
        self._shm = False

    # -- lifecycle ---------------------------------------------------------------------------------
    async def serve(self) -> None:
        self._install_signal_handlers()
        try:
            await self.startup()
            await self.main_loop()
        finally:
            await self.shutdown()

    async def startup(self) -> None:
        cfg = self.config
        self._wake = asyncio.Event()
        self._ctx = zmq.asyncio.Context()
        self.queries = QueryService(self)
        self.shards = self._make_shards()
        if cfg.prefault and isinstance(self.shards, LocalShards) and FramePool.supported():
            # the in-process store keeps what it receives; worker shards forward it and free it
            self._pool = FramePool(max_bytes=cfg.max_message_bytes)
            keep_receive_buffers_warm()
        # the in-process store keeps the producers' memfds mapped; worker shards would copy them anyway
        self._shm = cfg.shm and isinstance(self.shards, LocalShards) and _net_shm.supported()
        if hasattr(self.shards, "start"):
            await self.shards.start()
        sock = self._ctx.socket(zmq.ROUTER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        sock.setsockopt(zmq.MAXMSGSIZE, cfg.max_message_bytes)
        sock.setsockopt(zmq.RCVHWM, 10_000)
        sock.setsockopt(zmq.SNDHWM, 100_000)
        if cfg.auth_keys is not None:
            try:
                await self._setup_curve(sock)
            except BaseException:
                sock.close(0)  # else the context's term() in shutdown waits for it forever
                raise
        try:
            sock.bind(cfg.endpoint)
        except zmq.ZMQError as exc:
            sock.close(0)
            raise ConfigError(f"cannot bind {cfg.endpoint}: {exc}") from None
        self._sock = sock
        self._sync = zmq.Socket.shadow(sock.underlying)
        self._monitor = sock.get_monitor_socket(
            zmq.EVENT_ACCEPTED | zmq.EVENT_DISCONNECTED | zmq.EVENT_HANDSHAKE_FAILED_AUTH)
        self.endpoint = sock.getsockopt(zmq.LAST_ENDPOINT).decode()
        self.port = int(self.endpoint.rsplit(":", 1)[1])
        if cfg.save is not None:
            self._saver = RrdWriter(cfg.save, compression=None)
        host = "127.0.0.1" if cfg.bind in ("0.0.0.0", "*", "") else cfg.bind
        print(f"rerun-zmq serve: listening on tcp://{host}:{self.port}", flush=True)
        log.info("ingest ready on %s (shards=%d, save=%s, auth=%s)", self.endpoint, cfg.shards, cfg.save,
                 "curve" if cfg.auth_keys else "none")

    def _make_shards(self):
        if self.config.shards == 1:
            return LocalShards(self.config.memory_limit, self.queries.on_store_event)
        from .workers import WorkerShards

        return WorkerShards(self, self.config.shards, self.config.memory_limit)

    async def _setup_curve(self, sock: zmq.asyncio.Socket) -> None:
        from .auth import start_authenticator

        self._auth, secret = start_authenticator(self._ctx, self.config.auth_keys, self.config.server_key)
        sock.curve_server = True
        sock.curve_secretkey = secret

    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.handle_exit, sig)
            except (NotImplementedError, RuntimeError):  # not the main thread (tests embed the server)
                pass

    def handle_exit(self, sig: int | None = None) -> None:
        if self.should_exit:
            self.force_exit = True
            log.warning("second signal: forcing exit without draining")
        self.should_exit = True
        if self._wake is not None:
            self._wake.set()

    async def main_loop(self) -> None:
        poller = zmq.asyncio.Poller()
        poller.register(self._sock, zmq.POLLIN)
        poller.register(self._monitor, zmq.POLLIN)
        worker_socks = getattr(self.shards, "socks", [])
        for ws in worker_socks:
            poller.register(ws, zmq.POLLIN)
        next_stats = time.monotonic() + self.config.stats_interval
        next_probe = time.monotonic() + PROBE_EVERY
        push_task = asyncio.ensure_future(self.queries.run())
        try:
            while not self.should_exit:
                # a signal sets should_exit; waking 4 times a second to notice costs ~0 CPU
                timeout = max(0.0, min(next_stats - time.monotonic(), next_probe - time.monotonic(), 0.25))
                events = dict(await poller.poll(timeout * 1000))
                if self._monitor in events:
                    self._drain_monitor()
                if self._sock in events:
                    self.drain()
                    await asyncio.sleep(0)
                if any(ws in events for ws in worker_socks):
                    self._guarded(self.shards.poll, "a store worker's reply")
                    self.send_acks()
                if time.monotonic() >= next_probe:
                    next_probe = time.monotonic() + PROBE_EVERY
                    self.probe_idle()
                    check = getattr(self.shards, "check_workers", None)
                    if check is not None:
                        self._guarded(check, "checking the store workers")
                        self.send_acks()
                if time.monotonic() >= next_stats:
                    next_stats = time.monotonic() + self.config.stats_interval
                    self.log_stats()
        finally:
            push_task.cancel()
            # bounded: shutdown (acks, --save, the port) must not wait on the push loop
            await asyncio.wait((push_task,), timeout=2.0)
            if not push_task.done():
                log.warning("the query push loop did not stop when cancelled; shutting down without it")

    def _guarded(self, step, what: str) -> None:
        """Run one step of the worker side: a bug or a bad worker reply is logged and counted, and the
        ingest keeps serving (the workers are trusted code, but one bad reply must not stop it)."""
        try:
            step()
        except Exception:  # noqa: BLE001 - the process boundary: log and count, never crash
            self.health.worker_errors += 1
            log.exception("unexpected error in %s; the ingest keeps running", what)

    async def shutdown(self) -> None:
        deadline = time.monotonic() + self.config.shutdown_timeout
        if not self.force_exit and self._sync is not None:
            while time.monotonic() < deadline and not self.force_exit and self.drain():
                await asyncio.sleep(0)
            if getattr(self.shards, "pending", 0):
                from .workers import wait_idle

                await wait_idle(self.shards, max(0.0, deadline - time.monotonic()))
                self.send_acks()
            for ident in list(self.registry.by_identity):
                self._send(ident, Bye("ingest shutting down"))
        if self.shards is not None:
            self.shards.close()
        if self._pool is not None:
            self._pool.close()
        if self._saver is not None:
            self._saver.close()
            log.info("saved %s", self.config.save)
        self.log_stats()
        if self._monitor is not None:
            self._sock.disable_monitor()
            self._monitor.close(0)
        if self._sock is not None:
            self._sock.close(0 if self.force_exit else 100)
        if self._auth is not None:
            self._auth.stop()
        if self._ctx is not None:
            self._ctx.term()
        log.info("ingest stopped; port %d freed", self.port)

    # -- receiving ------------------------------------------------------------------------------------
    def _drain_monitor(self) -> None:
        from zmq.utils.monitor import recv_monitor_message

        mon = zmq.Socket.shadow(self._monitor.underlying)
        while True:
            try:
                ev = recv_monitor_message(mon, zmq.NOBLOCK)
            except zmq.Again:
                return
            if ev["event"] == zmq.EVENT_ACCEPTED:
                self.health.connections += 1
            elif ev["event"] == zmq.EVENT_DISCONNECTED:
                self.health.connections = max(0, self.health.connections - 1)
                self.health.disconnects += 1
            elif ev["event"] == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                self.health.reject("auth")
                self._logged["auth"] += 1
                if self._logged["auth"] <= _LOGGED_PER_CODE:
                    log.warning("refused a connection: its CURVE key is not in %s", self.config.auth_keys)

    def drain(self) -> int:
        """Handle what is queued now (bounded), then acknowledge; returns messages handled."""
        n = nbytes = 0
        sync = self._sync
        while n < DRAIN_MESSAGES and nbytes < DRAIN_BYTES:
            try:
                frames = self._recv_message(sync)
            except zmq.Again:
                break
            n += 1
            nbytes += sum(len(f) for f in frames)
            self.handle(frames)
        self.health.queue_depth = n
        if n:
            if self._saver is not None:
                self._saver.flush()
            self.shards_poll()
            self.send_acks()
        return n

    def _recv_message(self, sync: zmq.Socket) -> list:
        """One multipart message (identity, then the body frames); raises ``zmq.Again`` when none is
        queued. With a frame pool, the big frames of a "buffers"-form CHUNK are received into
        prefaulted memory (``ingest.prefault``)."""
        pool = self._pool
        if pool is None:
            return sync.recv_multipart(zmq.NOBLOCK, copy=False)
        first = sync.recv(zmq.NOBLOCK, copy=False)
        frames: list = [first]
        if not first.more:
            return frames
        head = sync.recv(copy=False)  # a message's parts arrive together: these never wait
        frames.append(head)
        plan = pool.plan(head) if head.more else None
        more = head.more
        while more:
            want = plan.get(len(frames) - 1) if plan else None
            view = pool.take(want) if want else None
            if view is None:
                frame = sync.recv(copy=False)
                frames.append(frame)
                more = frame.more
                if want:
                    pool.observe(len(frame))
            else:
                got = sync.recv_into(view, nbytes=want)  # a longer frame is cut to what the layout references
                frames.append(pa.py_buffer(view[:got] if got < want else view))
                more = sync.rcvmore
                self.health.prefaulted_frames += 1
                pool.observe(got)
        return frames

    def shards_poll(self) -> None:
        poll = getattr(self.shards, "poll", None)
        if poll is not None:
            poll()

    def handle(self, frames: list) -> None:
        identity = frames[0].bytes
        body = frames[1:]
        p = self.registry.get(identity)
        self.health.messages += 1
        try:
            self._handle(p, body)
        except RejectedMessage as exc:
            self.reject(p, exc)
        except Exception as exc:  # noqa: BLE001 - a bug on odd input must not stop the ingest
            log.exception("unexpected error handling a message from %s", p.producer_id or identity.hex())
            self.reject(p, RejectedMessage(f"internal error: {exc!r}"))

    def _handle(self, p: Producer, body: list) -> None:
        if not body:
            raise handler.BadHeaderError("empty message")
        size = handler.check_size(body, self.config.max_message_bytes)
        kind, small = handler.header_fields(handler.frame_bytes(body[0]))
        if kind == Kind.CHUNK:
            self.handle_chunk(p, small, body, size)
            return
        if len(body) > 1 and kind not in (Kind.QUERY,):
            raise ProtocolViolation(f"{kind.name} takes no body frames, got {len(body) - 1}")
        if kind == Kind.HELLO:
            self.handle_hello(p, handler.parse_hello(small), small.get(_net_shm.PROBE))
        elif kind == Kind.FLUSH:
            seq = handler._int_field(small, "seq")
            if not p.hello:
                raise handler.UnknownProducerError("FLUSH before HELLO on this connection", seq)
            p.acked_seq = -1  # answer even if nothing changed
            self._touched[p.identity] = p
        elif kind == Kind.DROPPED:
            msg = Dropped(handler._int_field(small, "rows"), handler._int_field(small, "bytes"),
                          str(small.get("reason", ""))[:200])
            p.dropped_rows += msg.rows
            p.dropped_bytes += msg.bytes
            self.health.dropped_rows += msg.rows
            self.health.dropped_bytes += msg.bytes
            log.warning("producer %s dropped %d rows (%d bytes): %s", p.producer_id or p.identity.hex(),
                        msg.rows, msg.bytes, msg.reason)
            self.queries.on_producer_event("producer_dropped", {**p.summary(), "reason": msg.reason})
        elif kind == Kind.BYE:
            self.registry.bye(p.identity)
            self.queries.forget(p.identity)
        elif kind == Kind.QUERY:
            try:
                msg = _wire.decode(body)
            except _wire.WireError as exc:
                raise handler.BadHeaderError(str(exc)) from None
            self.queries.handle(p.identity, msg)  # type: ignore[arg-type]
        else:
            raise ProtocolViolation(f"a producer or viewer may not send {kind.name}")

    def handle_hello(self, p: Producer, hello, shm_probe: object = None) -> None:
        p = self.registry.hello(p.identity, hello.producer_id)
        p.shm = shm.check_probe(shm_probe) if self._shm and shm_probe is not None else None
        p.resend_from = 0  # after a HELLO the producer resends everything unacknowledged anyway
        first = not p.application_id
        p.application_id, p.recording_id, p.store_kind = hello.application_id, hello.recording_id, hello.store_kind
        self.shards.store(hello.recording_id, hello.application_id)
        key = (hello.recording_id, hello.producer_id)
        if self._saver is not None and key not in self._saved_hellos:
            self._saved_hellos.add(key)
            self._saver.write(hello)
        if first:
            log.info("producer %s connected (application %s, recording %s)", hello.producer_id,
                     hello.application_id, hello.recording_id)
        info = {"max_message_bytes": self.config.max_message_bytes, "credit_bytes": self.config.credit_bytes,
                "resume_seq": p.done_seq, "body_forms": BODY_FORMS, "shm": p.shm is not None}
        self._send(p.identity, Event(0, "ingest_info", info))
        self._send(p.identity, Ack(p.done_seq, p.rows, p.bytes))
        self._send(p.identity, Credit(self.config.credit_bytes))
        p.acked_seq = p.done_seq

    def handle_chunk(self, p: Producer, small: dict, body: list, size: int) -> None:
        seq = small.get("seq")
        # duplicates (resends of what was taken) go before anything is parsed or shared memory opened;
        # past this point parse_chunk_msg has made sure seq is an int >= 1 and the producer said HELLO
        if p.hello and type(seq) is int and 0 < seq <= p.received_seq:
            self.health.duplicates += 1
            self._touched[p.identity] = p
            return
        if p.resend_from and type(seq) is int:
            if seq > p.resend_from:  # sent before the producer heard of the refusal; it sends it again
                self.health.awaiting_resend += 1
                return
            p.resend_from = 0
        msg, info = handler.parse_chunk_msg(p, small, body, self.config.max_message_bytes - size)
        if _net_shm.KEY in small:
            size = sum(len(f) for f in body)
            self.health.shm_frames += len(small[_net_shm.KEY])
        self._touched[p.identity] = p
        targets = self.shard_map.targets(info)
        p.begin(msg.seq, len(targets))
        try:
            rows = self.shards.insert(msg.recording_id, msg.batch, info, msg.seq, targets=targets,
                                      producer=p, size=size, frames=body)
            if self._saver is not None:
                if len(body) == 2:
                    self._saver.write_frames(body, msg)
                else:  # files keep the one-frame IPC body: the "buffers" form is re-encoded (one copy)
                    self._saver.write(msg)
        except RejectedMessage:
            raise
        except Exception as exc:  # noqa: BLE001 - a store/--save bug: refuse this seq, keep acking the rest
            log.exception("unexpected error storing chunk %d of %s", msg.seq, p.producer_id)
            p.finish(msg.seq)
            raise RejectedMessage(f"internal error storing this chunk: {exc!r}", msg.seq) from None
        if rows is not None:  # stored now (in-process store); worker shards call chunk_stored later
            p.complete(msg.seq)
            self.chunk_stored(p, msg, rows, size)

    def chunk_stored(self, p: Producer, msg: ChunkMsg, rows: int, size: int) -> None:
        self._touched[p.identity] = p
        p.rows += rows
        p.bytes += size
        p.chunks += 1
        self.queries.on_chunk(msg.recording_id, msg.batch)
        self.health.rows += rows
        self.health.bytes += size
        self.health.chunks += 1

    def reject(self, p: Producer, exc: RejectedMessage) -> None:
        code = exc.code
        p.rejected[code] += 1
        self.health.reject(code)
        if code == "shm_unavailable" and exc.seq and p.hello:  # not lost: resent over TCP (``resend_from``)
            p.resend_from = exc.seq
        elif exc.seq and p.hello and code != "unknown_producer":
            if exc.seq in p.outstanding:
                p.complete(exc.seq)
            elif exc.seq > p.received_seq:
                p.begin(exc.seq, 0)
            self._touched[p.identity] = p
        who = p.producer_id or p.identity.hex()
        self._logged[code] += 1
        if self._logged[code] <= _LOGGED_PER_CODE:
            log.warning("refused a message from %s (%s): %s", who, code, exc)
            if self._logged[code] == _LOGGED_PER_CODE:
                log.warning("further %r refusals are counted but not logged one by one", code)
        self._send(p.identity, Error(code, str(exc)[:1000], exc.seq))

    # -- sending --------------------------------------------------------------------------------------
    def _send(self, identity: bytes, msg: Message) -> bool:
        try:
            self._sync.send_multipart([identity, *_wire.encode(msg)], zmq.NOBLOCK, copy=False)
            return True
        except zmq.Again:
            self.health.send_failures += 1
        except zmq.ZMQError:  # EHOSTUNREACH: the peer went away
            self.registry.bye(identity)
            self.queries.forget(identity)
        return False

    def send_acks(self) -> None:
        touched, self._touched = self._touched, {}
        for p in touched.values():
            if p.done_seq != p.acked_seq and p.identity in self.registry.by_identity:
                if self._send(p.identity, Ack(p.done_seq, p.rows, p.bytes)):
                    p.acked_seq = p.done_seq

    def probe_idle(self) -> None:
        """Forget connections that went away silently (SIGKILLed producers, closed viewers).

        A ROUTER_MANDATORY send to a peer that is gone fails at once; ``Credit(0)`` changes nothing
        for a live producer.
        """
        now = time.monotonic()
        for p in list(self.registry.by_identity.values()):
            if now - p.last_seen > PROBE_EVERY:
                if self._send(p.identity, Credit(0)):
                    p.last_seen = now

    def log_stats(self) -> None:
        snap = self.health.snapshot(self.registry.connected())
        if not self.config.quiet:
            log.info("health: %d producers, %d rows (%.0f rows/s, %.1f MB/s), queue depth %d, %d rejected %s, "
                     "%d rows dropped by producers", snap["producers"], snap["rows"], snap["rows_per_s"],
                     snap["bytes_per_s"] / 1e6, snap["queue_depth"], snap["rejected"],
                     snap["rejected_by_code"] or "", snap["dropped_rows"])

    def stats(self) -> dict:
        return {**self.health.snapshot(self.registry.connected()), "pid": os.getpid(),
                "workers": [p.pid for p in getattr(self.shards, "procs", [])],
                "per_producer": [p.summary() for p in self.registry.producers()]}


def main(argv: list[str] | None = None) -> int:
    """``rerun-zmq serve``: run the ingest until SIGINT/SIGTERM."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        config = config_from_args(argv)
    except IngestError as exc:
        print(f"rerun-zmq serve: error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING if config.quiet else logging.INFO,
                        format="%(asctime)s ingest %(levelname)s %(message)s", stream=sys.stderr)
    server = Server(config)
    try:
        asyncio.run(server.serve())
    except ConfigError as exc:
        print(f"rerun-zmq serve: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
