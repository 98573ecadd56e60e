"""Per-connection producer state: what it said in HELLO, what was received, stored, refused, dropped."""

from __future__ import annotations

import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field


@dataclass
class Producer:
    """One producer connection (keyed by its ZeroMQ routing id)."""

    identity: bytes
    producer_id: str = ""
    application_id: str = ""
    recording_id: str = ""
    store_kind: str = "recording"
    #: highest CHUNK seq accepted for processing (duplicates at or below are ignored)
    received_seq: int = 0
    #: every CHUNK up to this seq is stored or refused (what ACK reports)
    done_seq: int = 0
    acked_seq: int = -1
    rows: int = 0
    bytes: int = 0
    chunks: int = 0
    rejected: Counter = field(default_factory=Counter)
    dropped_rows: int = 0
    dropped_bytes: int = 0
    last_seen: float = field(default_factory=time.monotonic)
    #: seq -> store shards still working on it, in seq order (shared with later connections)
    outstanding: OrderedDict = field(default_factory=OrderedDict)
    #: ``ingest.shm.ShmPeer`` when this connection's HELLO probe checked out (big frames by shared memory)
    shm: object = None
    #: a CHUNK whose shared memory could not be used: the producer sends it again over TCP, and the
    #: chunks after it, in order; until it does, later ones are not taken (so none is taken twice
    #: or out of turn, and the refused one is not lost)
    resend_from: int = 0

    def begin(self, seq: int, parts: int) -> None:
        """``seq`` was accepted and needs ``parts`` completions (0: already refused) before it is done."""
        self.received_seq = max(self.received_seq, seq)
        self.outstanding[seq] = parts
        self._advance()

    def complete(self, seq: int) -> None:
        """One part of ``seq`` is stored or refused; ``done_seq`` moves over every finished prefix."""
        if seq in self.outstanding:
            self.outstanding[seq] = max(0, self.outstanding[seq] - 1)
            self._advance()

    def finish(self, seq: int) -> None:
        """``seq`` is over whatever parts are still pending (refused after an internal error)."""
        if seq in self.outstanding:
            self.outstanding[seq] = 0
            self._advance()

    def _advance(self) -> None:
        while self.outstanding:
            seq, remaining = next(iter(self.outstanding.items()))
            if remaining:
                return
            self.outstanding.popitem(last=False)
            self.done_seq = max(self.done_seq, seq)

    @property
    def hello(self) -> bool:
        return bool(self.producer_id)

    def summary(self) -> dict:
        return {"producer_id": self.producer_id, "application_id": self.application_id,
                "recording_id": self.recording_id, "rows": self.rows, "bytes": self.bytes, "chunks": self.chunks,
                "done_seq": self.done_seq, "rejected": dict(self.rejected),
                "dropped_rows": self.dropped_rows, "dropped_bytes": self.dropped_bytes}


class Registry:
    """Connections by routing id, plus the last stored seq of recently seen producer ids.

    A producer that reconnects (new routing id, same producer id) says HELLO again and is told the
    seq it can resume after, so resent chunks are stored exactly once while this ingest lives.
    """

    def __init__(self, remember: int = 4096) -> None:
        self.by_identity: dict[bytes, Producer] = {}
        self._resume: OrderedDict[str, Producer] = OrderedDict()
        self._remember = remember

    def get(self, identity: bytes) -> Producer:
        p = self.by_identity.get(identity)
        if p is None:
            p = self.by_identity[identity] = Producer(identity)
        p.last_seen = time.monotonic()
        return p

    def hello(self, identity: bytes, producer_id: str) -> Producer:
        """Bind ``identity`` to ``producer_id``, carrying over state from an earlier connection of it."""
        old = self._resume.get(producer_id)
        cur = self.get(identity)
        if old is not None and old is not cur:
            for name in ("received_seq", "done_seq", "rows", "bytes", "chunks", "dropped_rows", "dropped_bytes"):
                setattr(cur, name, getattr(old, name))
            cur.rejected = old.rejected
            cur.outstanding = old.outstanding
            if old.identity in self.by_identity and old.identity != identity:
                del self.by_identity[old.identity]
        cur.producer_id = producer_id
        self._resume[producer_id] = cur
        self._resume.move_to_end(producer_id)
        while len(self._resume) > self._remember:
            self._resume.popitem(last=False)
        return cur

    def by_producer_id(self, producer_id: str) -> Producer | None:
        return self._resume.get(producer_id)

    def bye(self, identity: bytes) -> None:
        self.by_identity.pop(identity, None)

    def connected(self) -> int:
        return sum(1 for p in self.by_identity.values() if p.hello)

    def producers(self) -> list[Producer]:
        """Every recently seen producer, connected or gone."""
        return list(self._resume.values())
