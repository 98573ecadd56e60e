"""The query endpoint: standing queries and store events pushed to viewers (and dataframe clients).

Viewers talk to the same ROUTER as producers. A client sends ``Query(query_id, op, params)``:

- ``subscribe``: store events from now on. First an ``Event("snapshot")`` with the whole summary,
  then ``recording_added``, ``entity_added``, ``timeline_extended``, ``rows_added`` (coalesced per
  push), ``data_dropped``, ``producer_dropped`` and ``stats`` (every second). ``Event.seq`` counts
  per client without gaps: a client that sees a gap sends ``snapshot`` to resync.
- ``snapshot``: one ``Event("snapshot")`` now.
- ``latest_at`` (standing): ``{recording_id?, timeline (None: static only), time, entities?, components?}``.
  Answers one ``Result`` per entity whose answer changed, ``params = {entity, recording_id,
  timeline, time, times: {component: time|None}}`` and a one-row batch of ``list<T>`` columns, then a
  ``Result`` with ``params.done = True``. Sending the same ``query_id`` again replaces the query (move
  the time cursor that way); every entity is answered afresh.
- ``range`` (standing): ``{recording_id?, entity, timeline, t0, t1, components?}``: the rows as a batch.
- ``chunks`` (one-shot): every chunk of a recording, one ``Result`` each, then ``done``.
- ``tail``: like ``chunks``, then every chunk stored afterwards as it arrives (``Result.seq`` counts
  without gaps; on a gap, cancel and tail again). ``rr.dataframe.connect_recording`` uses it.
- ``recordings``, ``stats`` (one-shot): small answers in ``Result.params``.
- ``cancel``: stop the standing query ``query_id``.

Standing queries are re-evaluated at most every ``--push-interval`` (coalesced), and only for
recordings/entities that changed. Add ``"once": true`` to a latest_at/range to get one answer only
(at once: just a ``done`` marker when the recording is not there).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from rerun_zmq._wire import Error, Event, Query, Result
from store import DataDropped, EntityAdded, RowsAdded, StoreError, TimelineExtended

from .errors import BadQueryError

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("ingest")
STATS_EVERY = 1.0


@dataclass
class Standing:
    identity: bytes
    query_id: int
    op: str
    params: dict
    once: bool = False
    fresh: bool = True
    dirty: set = field(default_factory=set)
    sent: dict = field(default_factory=dict)
    seq: int = 0


@dataclass
class Client:
    identity: bytes
    event_seq: int = 0
    subscribed: bool = False
    recording_filter: str | None = None
    queries: dict[int, Standing] = field(default_factory=dict)


def _one_row(cells: dict) -> pa.RecordBatch:
    names, cols = [], []
    for key, cell in cells.items():
        vals = cell.values
        offsets = pa.array(np.array([0, len(vals)], dtype=np.int32))
        names.append(key)
        cols.append(pa.ListArray.from_arrays(offsets, vals))
    if not cols:
        return pa.RecordBatch.from_arrays([], schema=pa.schema([]))
    return pa.RecordBatch.from_arrays(cols, names=names)


def _table_batch(table: pa.Table) -> pa.RecordBatch:
    table = table.combine_chunks()
    batches = table.to_batches()
    return batches[0] if batches else pa.RecordBatch.from_pylist([], schema=table.schema)


class QueryService:
    """Clients by routing id; store events collected between pushes."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.clients: dict[bytes, Client] = {}
        self._events: list[tuple[str, dict]] = []
        self._rows: dict[tuple[str, str], int] = {}
        self._changed: dict[str, set[str]] = {}
        self._cleared: set[str] = set()
        self._wake = asyncio.Event()
        self._next_stats = 0.0
        #: recording id -> {(client identity, query id): last Result seq} of ``tail`` queries
        self.tails: dict[str, dict[tuple[bytes, int], int]] = {}
        #: in a shard worker: answer only for the entities this shard owns (broadcast ones live in all)
        self.owns = None
        #: in a shard worker: store events go to the ingest process (``to=b""``), not to clients
        self.forward_events = False

    # -- store side -------------------------------------------------------------------------------------
    @property
    def hub(self):
        return self.server.shards.hub

    def on_store_event(self, recording_id: str, ev: Any) -> None:
        """Called synchronously by the store for each event; only records what changed."""
        try:
            if ev == "recording_added":
                app = self.hub.application_ids.get(recording_id, "")
                self._events.append(("recording_added", {"recording_id": recording_id, "application_id": app}))
            elif isinstance(ev, RowsAdded):
                key = (recording_id, ev.entity_path)
                self._rows[key] = self._rows.get(key, 0) + ev.num_rows
                self._changed.setdefault(recording_id, set()).add(ev.entity_path)
                if any(c.startswith("Clear:") for c in ev.components):
                    self._cleared.add(recording_id)  # may hide data of descendants: re-answer all
            elif isinstance(ev, EntityAdded):
                self._events.append(("entity_added", {"recording_id": recording_id, "entity_path": ev.entity_path}))
            elif isinstance(ev, TimelineExtended):
                self._events.append(("timeline_extended", {"recording_id": recording_id, "timeline": ev.timeline,
                                                           "kind": ev.kind, "min": ev.min, "max": ev.max}))
            elif isinstance(ev, DataDropped):
                self._events.append(("data_dropped", {
                    "recording_id": recording_id, "entity_path": ev.entity_path, "rows": ev.num_rows,
                    "chunks": ev.num_chunks, "bytes": ev.num_bytes,
                    "time_ranges": {k: list(v) for k, v in ev.time_ranges.items()}}))
                self._changed.setdefault(recording_id, set()).add(ev.entity_path)
        except Exception:  # noqa: BLE001 - a store subscriber must never raise into the store
            log.exception("query service: could not record a store event")
        if self.clients:
            self._wake.set()

    def on_remote_event(self, name: str, params: dict) -> None:
        """A store event from a shard worker (already filtered to the shard's own entities)."""
        apply = getattr(self.hub, "apply", None)
        if apply is not None:
            apply(name, params)
        if name != "recording_added":
            self._events.append((name, params))
            self._wake.set()

    def on_producer_event(self, name: str, params: dict) -> None:
        self._events.append((name, params))
        self._wake.set()

    # -- client side ------------------------------------------------------------------------------------
    def forget(self, identity: bytes) -> None:
        self.clients.pop(identity, None)
        for subs in self.tails.values():
            for key in [k for k in subs if k[0] == identity]:
                del subs[key]

    def _owned(self, entity_path: str) -> bool:
        return self.owns is None or self.owns(entity_path)

    def on_chunk(self, recording_id: str, batch: pa.RecordBatch) -> None:
        """A chunk was stored: push it to the recording's ``tail`` subscribers (not coalesced)."""
        subs = self.tails.get(recording_id)
        if not subs or not self._owned(batch.schema.metadata[b"rz.entity_path"].decode()):
            return
        for (identity, qid), seq in list(subs.items()):
            subs[(identity, qid)] = seq + 1
            self._result(identity, qid, seq + 1, {"recording_id": recording_id}, batch)

    def handle(self, identity: bytes, q: Query) -> None:
        if not isinstance(q.query_id, int) or not isinstance(q.op, str) or not isinstance(q.params, dict):
            raise BadQueryError("QUERY needs an integer query_id, a string op and a params object")
        client = self.clients.get(identity)
        if client is None:
            client = self.clients[identity] = Client(identity)
        op, params = q.op, q.params
        remote = getattr(self.server.shards, "forward_query", None)
        if remote is not None and op in ("latest_at", "range", "chunks", "tail", "cancel"):
            if op in ("latest_at", "range"):
                self._check_params(op, params)
            remote(identity, q)
            return
        if op == "subscribe":
            client.subscribed = True
            client.recording_filter = params.get("recording_id")
            self._send_event(client, "snapshot", self.snapshot(client.recording_filter))
        elif op == "snapshot":
            self._send_event(client, "snapshot", self.snapshot(params.get("recording_id")))
        elif op == "unsubscribe":
            client.subscribed = False
        elif op in ("latest_at", "range"):
            self._check_params(op, params)
            client.queries[q.query_id] = Standing(identity, q.query_id, op, dict(params), once=bool(params.get("once")))
            self._wake.set()
        elif op == "cancel":
            client.queries.pop(q.query_id, None)
            for subs in self.tails.values():
                subs.pop((identity, q.query_id), None)
        elif op == "recordings":
            self._result(identity, q.query_id, 1, {"recordings": self.recordings(), "done": True})
        elif op == "stats":
            self._result(identity, q.query_id, 1, {"stats": self.server.stats(), "done": True})
        elif op == "chunks":
            self._send_chunks(identity, q.query_id, params)
        elif op == "tail":
            seq = self._send_chunks(identity, q.query_id, params)
            rid = params.get("recording_id") or self._recording(params)
            if isinstance(rid, str):
                self.tails.setdefault(rid, {})[(identity, q.query_id)] = seq
        else:
            raise BadQueryError(f"unknown query op {op!r}; expected subscribe, snapshot, latest_at, range, "
                                "chunks, recordings, stats or cancel", q.query_id)

    def _check_params(self, op: str, params: dict) -> None:
        if op == "latest_at":
            if params.get("timeline") is not None and not isinstance(params.get("time"), int):
                raise BadQueryError("latest_at needs an integer 'time' when 'timeline' is given")
            ents = params.get("entities")
            if ents is not None and not (isinstance(ents, list) and all(isinstance(e, str) for e in ents)):
                raise BadQueryError("latest_at 'entities' must be a list of entity paths or null")
        else:
            for name in ("t0", "t1"):
                if not isinstance(params.get(name), int):
                    raise BadQueryError(f"range needs integer {name!r}")
            if not isinstance(params.get("entity"), str) or not isinstance(params.get("timeline"), str):
                raise BadQueryError("range needs 'entity' and 'timeline' strings")

    def _recording(self, params: dict) -> str | None:
        rid = params.get("recording_id")
        if rid is not None:
            return rid if rid in self.hub.recording_ids() else None
        ids = self.hub.recording_ids()
        return ids[-1] if ids else None

    # -- answers ----------------------------------------------------------------------------------------
    def recordings(self) -> list[dict]:
        out = []
        for rid in self.hub.recording_ids():
            st = self.hub.store(rid)
            out.append({"recording_id": rid, "application_id": self.hub.application_ids.get(rid, ""),
                        "entities": len(st.entity_paths()), "bytes": st.total_bytes})
        return out

    def snapshot(self, recording_filter: str | None = None) -> dict:
        recs = []
        for rid in self.hub.recording_ids():
            if recording_filter is not None and rid != recording_filter:
                continue
            st = self.hub.store(rid)
            tls = {}
            for name, kind in st.timelines().items():
                rng = st.time_range(name)
                tls[name] = {"kind": kind, "min": rng[0] if rng else None, "max": rng[1] if rng else None}
            recs.append({"recording_id": rid, "application_id": self.hub.application_ids.get(rid, ""),
                         "entities": st.row_counts(), "timelines": tls, "bytes": st.total_bytes})
        return {"recordings": recs, "stats": self.server.stats()}

    def _latest_at(self, sq: Standing, rid: str, entities: list[str] | None) -> int:
        st = self.hub.store(rid)
        p = sq.params
        timeline, t, comps = p.get("timeline"), p.get("time", 0), p.get("components")
        wanted = p.get("entities")
        paths = entities if entities is not None else st.entity_paths()
        if wanted is not None:
            paths = [e for e in paths if e in set(wanted)] if entities is not None else list(wanted)
        sent = 0
        for path in paths:
            if not self._owned(path):
                continue
            try:
                cells = st.latest_at(path, timeline, t, comps)
            except StoreError:
                cells = {}
            sig = tuple((k, c.index) for k, c in sorted(cells.items()))
            if sq.sent.get(path, ()) == sig:  # unchanged (or still empty): nothing to push
                continue
            sq.seq += 1
            params = {"entity": path, "recording_id": rid, "timeline": timeline, "time": t,
                      "times": {k: c.time for k, c in cells.items()}}
            if self._result(sq.identity, sq.query_id, sq.seq, params, _one_row(cells)):
                sq.sent[path] = sig  # a push that did not go out is retried when anything changes
                sent += 1
        return sent

    def _range(self, sq: Standing, rid: str) -> None:
        p = sq.params
        st = self.hub.store(rid)
        try:
            table = st.range(p["entity"], p["timeline"], p["t0"], p["t1"], p.get("components"))
        except StoreError:
            table = None
        sq.seq += 1
        params = {"entity": p["entity"], "recording_id": rid, "timeline": p["timeline"], "done": True,
                  "rows": 0 if table is None else table.num_rows}
        self._result(sq.identity, sq.query_id, sq.seq, params, None if table is None else _table_batch(table))

    def _send_chunks(self, identity: bytes, query_id: int, params: dict) -> int:
        """Every chunk of the recording, then a ``done`` Result; returns the last seq used."""
        rid = self._recording(params)
        if rid is None:
            self._result(identity, query_id, 1, {"done": True, "chunks": 0, "recording_id": None})
            return 1
        seq = 0
        for batch in self.hub.store(rid).chunks():
            if not self._owned(batch.schema.metadata[b"rz.entity_path"].decode()):
                continue
            seq += 1
            self._result(identity, query_id, seq, {"recording_id": rid}, batch)
        self._result(identity, query_id, seq + 1, {"done": True, "chunks": seq, "recording_id": rid,
                                                  "application_id": self.hub.application_ids.get(rid, "")})
        return seq + 1

    # -- pushing ----------------------------------------------------------------------------------------
    async def run(self) -> None:
        interval = self.server.config.push_interval
        while True:
            # (not asyncio.wait_for: on Python 3.11 a cancel that meets its timeout or the wake-up can
            # be lost, and the ingest's shutdown then waited for this task forever)
            waiter = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait((waiter,), timeout=STATS_EVERY)
            finally:
                waiter.cancel()
            self._wake.clear()
            try:
                self.push()
            except Exception:  # noqa: BLE001 - one bad push must not end pushes to every viewer
                log.exception("query service: a push failed")
            await asyncio.sleep(interval)

    def push(self) -> None:
        events, self._events = self._events, []
        rows, self._rows = self._rows, {}
        changed, self._changed = self._changed, {}
        cleared, self._cleared = self._cleared, set()
        now = time.monotonic()
        stats = None
        if now >= self._next_stats and any(c.subscribed for c in self.clients.values()):
            self._next_stats = now + STATS_EVERY
            stats = self.server.stats()
        if rows:
            per_rec: dict[str, dict[str, int]] = {}
            for (rid, ent), n in rows.items():
                if self._owned(ent):
                    per_rec.setdefault(rid, {})[ent] = n
            events += [("rows_added", {"recording_id": rid, "rows": counts}) for rid, counts in per_rec.items()]
        if self.forward_events:
            for name, params in events:
                ent = params.get("entity_path")
                if name != "recording_added" and (ent is None or self._owned(ent)):
                    self.server._send(b"", Event(0, name, params))
            events, stats = [], None
        for client in list(self.clients.values()):
            if client.subscribed:
                for name, params in events:
                    rid = params.get("recording_id")
                    if client.recording_filter is None or rid is None or rid == client.recording_filter:
                        self._send_event(client, name, params)
                if stats is not None:
                    self._send_event(client, "stats", stats)
            for sq in list(client.queries.values()):
                self._evaluate(client, sq, changed, cleared)

    def _evaluate(self, client: Client, sq: Standing, changed: dict[str, set[str]], cleared: set[str]) -> None:
        rid = self._recording(sq.params)
        if rid is None:
            if sq.once:  # a one-shot answers now: nothing here (e.g. a restarted shard worker holds none of it)
                sq.seq += 1
                p = sq.params
                params = {"done": True, "recording_id": p.get("recording_id")}
                if sq.op == "range":
                    params.update(entity=p["entity"], timeline=p["timeline"], rows=0)
                self._result(client.identity, sq.query_id, sq.seq, params)
                client.queries.pop(sq.query_id, None)
            return
        if not sq.fresh and rid not in changed:
            return
        try:
            if sq.op == "latest_at":
                ents = None if sq.fresh or rid in cleared else sorted(changed.get(rid, ()))
                self._latest_at(sq, rid, ents)
                sq.seq += 1
                self._result(client.identity, sq.query_id, sq.seq, {"done": True, "recording_id": rid})
            else:
                if sq.fresh or sq.params["entity"] in changed.get(rid, ()):
                    self._range(sq, rid)
        except (StoreError, ValueError, TypeError, KeyError) as exc:
            self.server._send(client.identity, Error("bad_query", str(exc)[:1000], sq.query_id))
            client.queries.pop(sq.query_id, None)
            return
        sq.fresh = False
        if sq.once:
            client.queries.pop(sq.query_id, None)

    def _send_event(self, client: Client, name: str, params: dict) -> None:
        client.event_seq += 1
        self.server._send(client.identity, Event(client.event_seq, name, params))

    def _result(self, identity: bytes, query_id: int, seq: int, params: dict, batch=None) -> bool:
        return self.server._send(identity, Result(query_id, seq, params, batch))
