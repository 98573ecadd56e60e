"""Client queries relayed to the store workers, and their answers relayed back (``--shards N``).

Standing queries (``latest_at``, ``range``, ``tail``) run inside the workers, each answering for
the entities it owns; ``range`` goes to the one shard owning its entity, every other query to all.
A query travels as ``b"Q" + client routing id`` followed by the wire message, and so does every
answer. The ingest re-numbers each relayed ``Result.seq`` per client query, so a client sees one
gap-free sequence, and merges the ``done`` markers of ``chunks``/``tail`` answers into one; a shard
that is down (or dies) counts as done and is named in ``lost_shards`` (what it held is gone).

A one-shot ``latest_at``/``range`` (``"once": true``) ends with one ``done`` marker once every
target shard answered. A shard whose worker died (or was restarting) before answering gets the query
again from its restarted worker (``restarted_shards`` in that marker); a shard given up counts as
answered with nothing (``lost_shards``). A restarted worker gets the standing queries again, and
the unanswered one-shot ones (``_resend_queries``).

``QueryRelayMixin`` is part of ``ingest.workers.WorkerShards`` and shares its state
(``_relays``, ``_shards``, ``shard_map``, ``hub``, ``server``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import zmq

from rerun_zmq import _wire
from rerun_zmq._wire import Kind, Query, Result

#: bytes before the JSON of a wire header (magic, version, kind)
_HEAD_SIZE = 4
#: ops a worker keeps answering (unless ``once``); re-sent to a restarted worker
STANDING = ("latest_at", "range", "tail")
#: ops whose per-shard ``done`` markers are merged into one
MERGED = ("chunks", "tail")


@dataclass
class Relay:
    """One client query relayed to the workers: its own ``seq`` and the merge of ``done`` markers."""

    op: str
    query: Query | None = None
    seq: int = 0
    #: shards that answer it (its entity's owner for ``range``, every shard otherwise)
    targets: set = field(default_factory=set)
    #: shards whose ``done`` marker arrived, or that cannot send one (dead or down)
    done_from: set = field(default_factory=set)
    lost: set = field(default_factory=set)
    #: shards whose part a restarted worker answers (a one-shot query re-sent to it)
    restarted: set = field(default_factory=set)
    chunks: int = 0
    last: dict | None = None
    finished: bool = False

    @property
    def once(self) -> bool:
        """A one-shot ``latest_at``/``range``: finished by one ``done`` marker once all targets answered."""
        return self.op in STANDING and self.op != "tail" and bool(self.query and self.query.params.get("once"))

    @property
    def merged(self) -> bool:
        """Its shards' ``done`` markers are merged into one (``chunks``, ``tail``, one-shot queries)."""
        return self.op in MERGED or self.once


class QueryRelayMixin:
    """``WorkerShards``' relaying of client queries to the workers and of their answers back."""

    def _query_targets(self, q: Query) -> list[int]:
        """The shards that answer ``q``: the owner of its entity for ``range``, every shard otherwise."""
        if q.op == "range":
            return [self.shard_map.shard_of(_canonical(q.params["entity"]))]
        return list(range(self.n))

    def forward_query(self, identity: bytes, q: Query) -> None:
        """Send client ``identity``'s query (or its ``cancel``) to the shards that answer it."""
        key = (identity, q.query_id)
        targets = self._query_targets(q)
        relay = None
        if q.op == "cancel":
            self._relays.pop(key, None)
        else:
            relay = self._relays[key] = Relay(q.op, q, targets=set(targets))
        frames = [b"Q" + identity, *_wire.encode(q)]
        for k in targets:
            sh = self._shards[k]
            if sh.state == "ready" and self._send(k, frames):
                continue
            if sh.state == "ready":
                self._unreachable(k)
            if relay is None:
                continue
            if relay.op in MERGED or (relay.once and sh.state == "failed"):
                relay.done_from.add(k)
                relay.lost.add(k)
            elif relay.once:  # its next worker gets it once ready
                relay.restarted.add(k)
        if relay is not None and relay.merged and relay.done_from >= relay.targets:
            self._finish_relay(key, relay)

    def _resend_queries(self, k: int) -> None:
        """Send shard ``k``'s restarted worker the clients' standing queries, and the one-shot ones that
        its dead predecessor had not answered."""
        for (identity, _), relay in list(self._relays.items()):
            q = relay.query
            if q is None or relay.finished or relay.op not in STANDING or k not in relay.targets:
                continue
            if relay.once:
                if k in relay.done_from:
                    continue
                relay.restarted.add(k)
            if relay.op == "tail" and not q.params.get("recording_id") and relay.last:
                q = Query(q.query_id, q.op, {**q.params, "recording_id": relay.last.get("recording_id")})
            if not self._send(k, [b"Q" + identity, *_wire.encode(q)]):
                self._unreachable(k)  # it dies (or is killed): its successor gets them again
                return

    def _relays_lost(self, k: int) -> None:
        """Shard ``k``'s worker is gone: pending ``chunks``/``tail`` answers finish without it; one-shot
        queries wait for its successor unless the shard was given up (then they finish without it)."""
        failed = self._shards[k].state == "failed"
        for key, relay in list(self._relays.items()):
            if relay.finished or k in relay.done_from or k not in relay.targets:
                continue
            if relay.op in MERGED or (relay.once and failed):
                relay.done_from.add(k)
                relay.lost.add(k)
                if relay.done_from >= relay.targets:
                    self._finish_relay(key, relay)

    def _finish_relay(self, key: tuple[bytes, int], relay: Relay) -> None:
        """Send the one ``done`` marker of a merged answer."""
        if relay.finished:
            return
        relay.finished = True
        q = relay.query
        qp = q.params if q is not None else {}
        params = dict(relay.last or {"recording_id": qp.get("recording_id")})
        if relay.op in MERGED:
            rid = params.get("recording_id")
            params.update(chunks=relay.chunks,
                          application_id=self.hub.application_ids.get(rid, params.get("application_id", "")))
        elif relay.op == "range":  # only when its one shard was given up: no rows
            params.update(entity=qp.get("entity"), timeline=qp.get("timeline"), rows=0)
        params["done"] = True
        if relay.lost:
            params["lost_shards"] = sorted(relay.lost)
        if relay.restarted:
            params["restarted_shards"] = sorted(relay.restarted)
        relay.seq += 1
        self._to_client(key[0], _wire.encode(Result(key[1], relay.seq, params)))
        if relay.op == "chunks" or relay.once:
            self._relays.pop(key, None)

    def _relay(self, identity: bytes, frames: list, k: int) -> None:
        """Worker ``k``'s answer to a client's query: re-numbered (or merged) and sent on to the client."""
        header = frames[0].bytes
        kind = _wire.peek_kind(header)
        small = json.loads(header[_HEAD_SIZE:])
        key = (identity, small.get("query_id", small.get("seq")))
        relay = self._relays.get(key)
        if kind == Kind.RESULT and relay is not None:
            params = small.get("params") or {}
            if relay.merged and params.get("done"):
                if relay.finished or k in relay.done_from:
                    return  # e.g. a restarted worker's answer to a re-sent tail: its chunks went through
                relay.done_from.add(k)
                if relay.op == "range":  # one shard: its ``done`` Result carries the rows
                    relay.finished = True
                    self._relays.pop(key, None)
                    if relay.restarted:
                        params["restarted_shards"] = sorted(relay.restarted)
                else:
                    relay.chunks += params.get("chunks") or 0
                    relay.last = params
                    if relay.done_from >= relay.targets:
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
