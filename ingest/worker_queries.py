"""Client queries relayed to the store workers, and their answers relayed back (``--shards N``).

Standing queries (``latest_at``, ``range``, ``tail``) run inside the workers, each answering for
the entities it owns; ``range`` goes to the one shard owning its entity, every other query to all.
A query travels as ``b"Q" + client routing id`` followed by the wire message, and so does every
answer. The ingest re-numbers each relayed ``Result.seq`` per client query, so a client sees one
gap-free sequence, and merges the ``done`` markers of one-shot ``chunks``/``tail`` answers into one;
a shard that is down (or dies) counts as done and is named in ``lost_shards``. A restarted worker
gets the standing queries again (``_resend_standing``).

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
    #: shards whose ``done`` marker arrived, or that cannot send one (dead or down)
    done_from: set = field(default_factory=set)
    lost: set = field(default_factory=set)
    chunks: int = 0
    last: dict | None = None
    finished: bool = False


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
            relay = self._relays[key] = Relay(q.op, q)
        frames = [b"Q" + identity, *_wire.encode(q)]
        for k in targets:
            if self._shards[k].state != "ready":
                down = True  # a restarted worker gets the standing query once it is ready
            elif not self._send(k, frames):
                self._unreachable(k)
                down = True
            else:
                down = False
            if down and relay is not None and relay.op in MERGED:
                relay.done_from.add(k)
                relay.lost.add(k)
        if relay is not None and relay.op in MERGED and len(relay.done_from) >= self.n:
            self._finish_relay(key, relay)

    def _resend_standing(self, k: int) -> None:
        """Send the clients' standing queries that concern shard ``k`` to its restarted worker."""
        for (identity, _), relay in list(self._relays.items()):
            q = relay.query
            if q is None or relay.op not in STANDING or q.params.get("once") or k not in self._query_targets(q):
                continue
            if relay.op == "tail" and not q.params.get("recording_id") and relay.last:
                q = Query(q.query_id, q.op, {**q.params, "recording_id": relay.last.get("recording_id")})
            if not self._send(k, [b"Q" + identity, *_wire.encode(q)]):
                self._unreachable(k)
                return

    def _relays_lost(self, k: int) -> None:
        """Shard ``k`` will not answer: pending ``chunks``/``tail`` answers finish without it."""
        for key, relay in list(self._relays.items()):
            if relay.op in MERGED and not relay.finished and k not in relay.done_from:
                relay.done_from.add(k)
                relay.lost.add(k)
                if len(relay.done_from) >= self.n:
                    self._finish_relay(key, relay)

    def _finish_relay(self, key: tuple[bytes, int], relay: Relay) -> None:
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
        """Worker ``k``'s answer to a client's query: re-numbered (or merged) and sent on to the client."""
        header = frames[0].bytes
        kind = _wire.peek_kind(header)
        small = json.loads(header[_HEAD_SIZE:])
        key = (identity, small.get("query_id", small.get("seq")))
        relay = self._relays.get(key)
        if kind == Kind.RESULT and relay is not None:
            params = small.get("params") or {}
            if relay.op in MERGED and params.get("done"):
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
