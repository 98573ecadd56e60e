"""Supervision of the store worker processes (``--shards N``): deaths, restarts, chunk deadlines.

``supervise`` runs every ``TICK`` s (and on the server's periodic probe):

- A worker process that exits (crash, SIGKILL, OOM) is replaced by a new one for its shard. What
  the dead one held in memory is gone: that is logged as an error with the rows and chunks it had
  confirmed, counted on ``Health`` (``worker_deaths``, ``worker_lost_rows``, ...), and told to
  viewers (``worker_lost``, plus ``data_dropped`` per entity it owned); the summary's time ranges
  become those the live workers hold. The chunks it had not
  confirmed are refused to their producers (``store_unavailable``). Chunks that arrive while its
  successor starts are held and sent to it once it is ready (the chunk deadline bounds the wait).
  A worker that does not say it is ready within ``START_TIMEOUT`` s, or whose connection closed
  and that has not exited ``UNREACHABLE_GRACE`` s later, is killed and handled the same way.
- The successor gets the Transform3D/Pinhole/Clear/AnnotationContext chunks (broadcast to every
  shard) copied from a live shard, so its entities resolve the hierarchy as before, and the clients'
  standing queries (``latest_at``, ``range``, ``tail``) again, and the one-shot ones the dead worker
  had not answered. Pending ``chunks``/``tail`` answers finish without the dead shard (``lost_shards``
  in their ``done`` marker), and so do one-shot queries once the shard is given up.
- Restarts back off (0, then ``RESTART_BACKOFF`` doubling); after more than ``MAX_RESTARTS``
  deaths within ``RESTART_WINDOW`` s the shard is given up: its chunks are refused with that reason.
- At shutdown (``close``) a worker that died since the last run, or that does not exit cleanly
  when told BYE, is reported the same way and not restarted (``_report_unclean_exits``).
- A chunk not confirmed within ``CHUNK_DEADLINE`` s (a lost or unreadable worker reply) is refused
  to its producer (``store_timeout``), so its ``flush`` returns; a confirmation arriving later is
  counted (``late_worker_replies``) and otherwise ignored.

``SupervisionMixin`` is part of ``ingest.workers.WorkerShards`` and shares its state; the constants
are the defaults of its tunables (tests lower them on the instance).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time

from rerun_zmq import _wire
from rerun_zmq._wire import Event

from .errors import StoreTimeoutError, StoreUnavailableError
from .worker_state import LIVE, TICKET, exit_text

log = logging.getLogger("ingest")
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


class SupervisionMixin:
    """``WorkerShards``' detection of dead or stuck workers, their restarts, and chunk deadlines."""

    def _on_tick(self) -> None:
        """Run ``supervise`` every ``tick`` s on the event loop until ``close``."""
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
        live = [sh for sh in self._shards if sh.state in LIVE]
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
        if sh.state not in LIVE:
            return
        proc = sh.proc
        if proc.poll() is None:
            proc.kill()
            try:
                proc.wait(5.0)
            except subprocess.TimeoutExpired:
                pass
        how = how or exit_text(proc)
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
        """Shard ``k`` gets no more workers: the chunks held for it, and all that follow, are refused."""
        sh = self._shards[k]
        sh.state = "failed"
        sh.reason = reason
        for ticket in list(sh.held):
            self._answer(ticket, k, StoreUnavailableError(reason))
        self._relays_lost(k)  # its unanswered one-shot queries finish without it
        self._count("workers_given_up")
        log.error("%s", reason)
        self.server.queries.on_remote_event("worker_failed", {"shard": k, "reason": reason})

    def _report_unclean_exits(self, termed: set[int], killed: set[int]) -> None:
        """At shutdown, after BYE: a worker that exited other than cleanly (code 0, or SIGTERM for one
        sent SIGTERM) or had to be killed (``killed``) is reported like a death; none is restarted."""
        unclean = {}
        for sh in self._shards:
            rc = sh.proc.returncode if sh.proc is not None else 0
            if sh.state not in LIVE or rc == 0 or (rc == -signal.SIGTERM and sh.index in termed):
                continue
            unclean[sh.index] = ("did not exit within 5 s of being told to stop and was killed"
                                 if sh.index in killed else None)
        if unclean:
            self.poll()  # what they confirmed before they went
        for k, how in unclean.items():
            self._lost(k, how)

    def _drop_from_mirror(self, k: int) -> int:
        """Tell viewers (and the summary) that the entities shard ``k`` owned lost their rows, and that
        the time ranges are now those the live shards hold (``timeline_extended`` with the narrower
        range). Returns the entities."""
        entities = 0
        for rid, st in list(self.hub.stores.items()):
            for ent, rows in list(st.rows.items()):
                if rows and self.shard_map.shard_of(ent) == k:
                    entities += 1
                    self.server.queries.on_remote_event("data_dropped", {
                        "recording_id": rid, "entity_path": ent, "rows": rows, "reason": "worker_lost", "shard": k})
        for rid, name, rng in self.hub.drop_shard(k):
            if rng is not None:
                self.server.queries.on_remote_event("timeline_extended", {
                    "recording_id": rid, "timeline": name, "kind": rng[0], "min": rng[1], "max": rng[2]})
        return entities

    def _on_ready(self, k: int) -> None:
        """Worker ``k`` said it is ready; a restarted one gets the held chunks, the hierarchy chunks of a live
        shard and the standing queries."""
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
            if not self._send(k, [b"T" + TICKET.pack(ticket), *frames]):
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
        self._resend_queries(k)

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
