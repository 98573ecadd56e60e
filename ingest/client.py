"""``IngestClient``: the viewer's (and dataframe's) side of the query endpoint.

The client owns one DEALER socket and must be used from the thread that created it (a GUI loop
calls ``poll()`` once per frame). Typical viewer use::

    client = IngestClient("127.0.0.1:9876")
    client.subscribe()                                     # store events: snapshot, entity_added, ...
    qid = client.latest_at(timeline="frame", time=42)      # standing: pushed again whenever it changes
    ...
    for msg in client.poll():                              # Event or Result messages, non-blocking
        ...
    client.update(qid, timeline="frame", time=43)          # move the cursor (same query id)
    client.close()

``Event.seq`` increases by one per event; ``client.gap`` turns True when one was missed (the
client then asks for a fresh ``snapshot`` by itself).
"""

from __future__ import annotations

import itertools
import time

import zmq

from rerun_zmq import _wire
from rerun_zmq._net import _curve_keys
from rerun_zmq._net_addr import parse_addr
from rerun_zmq._wire import Credit, Error, Event, Message, Query, Result


class QueryFailed(RuntimeError):
    """The ingest refused a query (``Error`` with code ``bad_query``) or did not answer in time."""


class IngestClient:
    """Queries and subscriptions against one ingest; not thread-safe (one owner thread)."""

    def __init__(self, addr: str | None = None, *, client_key=None, server_key=None) -> None:
        self.endpoint = parse_addr(addr)
        self._ids = itertools.count(1)
        self._sock = zmq.Context.instance().socket(zmq.DEALER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.setsockopt(zmq.RCVHWM, 0)
        curve = _curve_keys(client_key, server_key)
        if curve is not None:
            self._sock.curve_secretkey, self._sock.curve_publickey, self._sock.curve_serverkey = curve
        self._sock.connect(self.endpoint)
        self._event_seq = 0
        self.gap = False
        self._standing: dict[int, tuple[str, dict]] = {}
        self._backlog: list[Message] = []

    def close(self) -> None:
        if not self._sock.closed:
            self._sock.close(0)

    def __enter__(self) -> IngestClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- sending -------------------------------------------------------------------------------------
    def _send(self, query_id: int, op: str, params: dict) -> int:
        self._sock.send_multipart(_wire.encode(Query(query_id, op, params)))
        return query_id

    def subscribe(self, recording_id: str | None = None) -> int:
        """Store events from now on, starting with an ``Event("snapshot")``."""
        return self._send(next(self._ids), "subscribe", {"recording_id": recording_id})

    def latest_at(self, *, timeline: str | None, time: int = 0, entities: list[str] | None = None,
                  components: list[str] | None = None, recording_id: str | None = None, once: bool = False) -> int:
        params = {"timeline": timeline, "time": int(time), "entities": entities, "components": components,
                  "recording_id": recording_id, "once": once}
        qid = next(self._ids)
        self._standing[qid] = ("latest_at", params)
        return self._send(qid, "latest_at", params)

    def range(self, entity: str, *, timeline: str, t0: int, t1: int, components: list[str] | None = None,
              recording_id: str | None = None, once: bool = False) -> int:
        params = {"entity": entity, "timeline": timeline, "t0": int(t0), "t1": int(t1),
                  "components": components, "recording_id": recording_id, "once": once}
        qid = next(self._ids)
        self._standing[qid] = ("range", params)
        return self._send(qid, "range", params)

    def update(self, query_id: int, **params) -> None:
        """Change a standing query's parameters (e.g. ``time=``); the answer is pushed afresh."""
        op, old = self._standing[query_id]
        new = {**old, **params}
        self._standing[query_id] = (op, new)
        self._send(query_id, op, new)

    def cancel(self, query_id: int) -> None:
        self._standing.pop(query_id, None)
        self._send(query_id, "cancel", {})

    # -- receiving -----------------------------------------------------------------------------------
    def poll(self, timeout: float = 0.0) -> list[Message]:
        """Every message that arrived (waiting up to ``timeout`` seconds for the first)."""
        out, self._backlog = self._backlog, []
        return out + self._recv(0.0 if out else timeout)

    def _recv(self, timeout: float) -> list[Message]:
        out: list[Message] = []
        if timeout > 0 and not self._sock.poll(int(timeout * 1000), zmq.POLLIN):
            return out
        while True:
            try:
                frames = self._sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return out
            msg = _wire.decode(frames)
            if isinstance(msg, Credit):  # a liveness probe of the ingest; nothing to do
                continue
            if isinstance(msg, Event):
                if msg.seq != self._event_seq + 1 and msg.name != "ingest_info":
                    self.gap = True
                    self._send(next(self._ids), "snapshot", {})
                self._event_seq = msg.seq
            out.append(msg)

    def request(self, op: str, params: dict | None = None, timeout: float = 10.0) -> list[Result]:
        """A one-shot query: every ``Result`` up to the one whose ``params.done`` is true."""
        qid = self._send(next(self._ids), op, dict(params or {}, once=True))
        results: list[Result] = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise QueryFailed(f"no complete answer to {op!r} from {self.endpoint} within {timeout} s")
            msgs = self._recv(remaining)
            for i, msg in enumerate(msgs):
                if isinstance(msg, Result) and msg.query_id == qid:
                    results.append(msg)
                    if msg.params.get("done"):
                        self._backlog.extend(msgs[i + 1:])
                        return results
                elif isinstance(msg, Error) and msg.seq == qid:
                    self._backlog.extend(msgs[i + 1:])
                    raise QueryFailed(f"{op}: {msg.code}: {msg.message}")
                else:
                    self._backlog.append(msg)

    def stats(self, timeout: float = 10.0) -> dict:
        return self.request("stats", timeout=timeout)[-1].params["stats"]

    def recordings(self, timeout: float = 10.0) -> list[dict]:
        return self.request("recordings", timeout=timeout)[-1].params["recordings"]

    def chunks(self, recording_id: str | None = None, timeout: float = 30.0) -> tuple[dict, list]:
        """Every chunk of a recording (default: the newest): (final params, record batches)."""
        results = self.request("chunks", {"recording_id": recording_id}, timeout=timeout)
        return results[-1].params, [r.batch for r in results if r.batch is not None]
