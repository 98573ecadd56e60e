"""Live data from an ingest's query endpoint (see ``ingest.query``), off the render thread.

``LiveSource`` owns a DEALER socket on its own thread: it subscribes to store events, keeps one
standing ``latest_at`` query at the time cursor (re-sent when the cursor moves), and turns what
arrives into ``Update``s. ``RemoteStore`` is the store-shaped view the panels and scene read: the
summary from events, the cells from the latest results. A frame never waits on the network: it
reads whatever arrived so far.
"""

from __future__ import annotations

import queue
import threading
import time

import numpy as np
import pyarrow as pa

from rerun_zmq import _wire
from rerun_zmq._entity_path import parent_paths

from .data_client import Update

SUBSCRIBE_ID = 1
LATEST_AT_ID = 2
RESUBSCRIBE_S = 3.0


def endpoint(addr: str | None) -> str:
    try:
        from rerun_zmq._net_addr import parse_addr
    except ImportError:  # older build: accept tcp:// endpoints as given
        return addr or "tcp://127.0.0.1:9876"
    return parse_addr(addr)


class LiveSource:
    """A viewer's connection to one ingest."""

    def __init__(self, addr: str | None) -> None:
        self.endpoint = endpoint(addr)
        self.name = f"live {self.endpoint}"
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sent_key: tuple | None = None

    def start(self, out: queue.Queue) -> None:
        self._thread = threading.Thread(target=self._run, args=(out,), name="viewer-live", daemon=True)
        self._thread.start()

    def query_latest_at(self, recording_id: str | None, timeline: str | None, t: int) -> None:
        """Move the standing latest_at query (no-op when nothing changed); called by the render thread."""
        key = (recording_id, timeline, int(t))
        if key == self._sent_key:
            return
        self._sent_key = key
        params = {"recording_id": recording_id, "timeline": timeline, "time": int(t)}
        self._outbox.put(_wire.Query(LATEST_AT_ID, "latest_at", params))

    def _run(self, out: queue.Queue) -> None:
        import zmq

        ctx = zmq.Context()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        subscribe = _wire.Query(SUBSCRIBE_ID, "subscribe", {})
        latest: _wire.Query | None = None
        try:
            sock.connect(self.endpoint)
            self._send(sock, subscribe)
            last_rx = last_sub = time.monotonic()
            poller = zmq.Poller()
            poller.register(sock, zmq.POLLIN)
            while not self._stop.is_set():
                while True:
                    try:
                        latest = self._outbox.get_nowait()
                    except queue.Empty:
                        break
                    self._send(sock, latest)
                now = time.monotonic()
                if now - last_rx > RESUBSCRIBE_S and now - last_sub > RESUBSCRIBE_S:
                    # a subscribed client hears stats every second: silence means the ingest is
                    # not there yet or was restarted and forgot us
                    last_sub = now
                    self._send(sock, subscribe)
                    if latest is not None:
                        self._send(sock, latest)
                if not poller.poll(20):
                    continue
                last_rx = time.monotonic()
                while sock.poll(0):
                    update = self._decode(sock.recv_multipart(copy=False))
                    if update is not None:
                        self._put(out, update)
        except zmq.ZMQError as exc:
            self._put(out, Update("error", self.name, value=f"{self.name}: {exc}"))
        finally:
            sock.close(linger=0)
            ctx.term()

    @staticmethod
    def _send(sock, msg: _wire.Query) -> bool:
        """Never block the thread on a missing peer: a query that cannot go now is re-sent later."""
        import zmq

        try:
            sock.send_multipart(_wire.encode(msg), flags=zmq.NOBLOCK)
            return True
        except zmq.Again:
            return False

    def _decode(self, frames) -> Update | None:
        try:
            msg = _wire.decode([f.buffer for f in frames])
        except _wire.WireError as exc:
            return Update("error", self.name, value=f"{self.name}: bad message: {exc}")
        if isinstance(msg, _wire.Event):
            return Update("event", self.name, value=(msg.name, msg.params))
        if isinstance(msg, _wire.Result):
            return Update("result", self.name, batch=msg.batch, value=msg.params)
        if isinstance(msg, _wire.Error):
            return Update("error", self.name, value=f"{self.name}: {msg.code}: {msg.message}")
        return None

    def _put(self, out: queue.Queue, update: Update) -> None:
        while not self._stop.is_set():
            try:
                out.put(update, timeout=0.1)
                return
            except queue.Full:
                continue

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)


class RemoteStore:
    """Store-shaped view of one recording held by an ingest (the subset the viewer reads)."""

    def __init__(self, recording_id: str) -> None:
        self.recording_id = recording_id
        self._timelines: dict[str, str] = {}
        self._ranges: dict[str, tuple[int, int]] = {}
        self._rows: dict[str, int] = {}
        self._cells: dict[str, dict] = {}
        #: entity -> timeline -> [(time, rows)]: rows that arrived live, placed at the timeline's
        #: newest time when they arrived (events carry counts, not times); feeds the density marks
        self._marks: dict[str, dict[str, list[tuple[int, int]]]] = {}

    # -- fed by the data client ----------------------------------------------------------------------
    def on_summary(self, rec: dict) -> None:
        self._rows.update(rec.get("entities", {}))
        for name, tl in rec.get("timelines", {}).items():
            self.on_timeline(name, tl["kind"], tl.get("min"), tl.get("max"))

    def on_timeline(self, name: str, kind: str, lo: int | None, hi: int | None) -> None:
        self._timelines[name] = kind
        if lo is not None and hi is not None:
            self._ranges[name] = (int(lo), int(hi))

    def on_rows(self, counts: dict[str, int]) -> dict[str, int]:
        """Count new rows; returns timeline -> the time they are marked at."""
        at = {name: rng[1] for name, rng in self._ranges.items()}
        for path, n in counts.items():
            self._rows[path] = self._rows.get(path, 0) + int(n)
            if n > 0:
                marks = self._marks.setdefault(path, {})
                for name, t in at.items():
                    marks.setdefault(name, []).append((t, int(n)))
        return at

    def on_result(self, params: dict, batch: pa.RecordBatch | None) -> None:
        from store import Cell

        path = params["entity"]
        times = params.get("times", {})
        cells = {}
        if batch is not None:
            for key in batch.schema.names:
                cells[key] = Cell(batch.column(key).flatten(), times.get(key), (0, 0))
        self._cells[path] = cells
        self._rows.setdefault(path, 0)

    # -- read by panels and the scene ----------------------------------------------------------------
    def entity_paths(self) -> list[str]:
        return sorted(self._rows)

    def timelines(self) -> dict[str, str]:
        return dict(self._timelines)

    def time_range(self, timeline: str) -> tuple[int, int] | None:
        return self._ranges.get(timeline)

    def row_counts(self) -> dict[str, int]:
        return dict(sorted(self._rows.items()))

    def latest_at(self, entity_path: str, timeline: str | None, t: int, components=None) -> dict:
        cells = self._cells.get(entity_path, {})
        return cells if components is None else {k: v for k, v in cells.items() if k in components}

    def world_transform(self, entity_path: str, timeline: str | None, t: int) -> np.ndarray:
        from store._transforms import TRANSFORM_KEYS, transform_from_cells

        world = np.eye(4)
        for p in [*parent_paths(entity_path), entity_path]:
            cells = {k: c for k, c in self._cells.get(p, {}).items() if k in TRANSFORM_KEYS}
            if cells:
                world = world @ transform_from_cells(cells)
        return world

    def density(self, entity_path: str, timeline: str, bins: int = 100, t0=None, t1=None):
        rng = self._ranges.get(timeline) or (0, 0)
        lo, hi = rng[0] if t0 is None else int(t0), rng[1] if t1 is None else int(t1)
        marks = self._marks.get(entity_path, {}).get(timeline, [])
        times = np.array([m[0] for m in marks], dtype=np.int64)
        weights = np.array([m[1] for m in marks], dtype=np.int64)
        return np.histogram(times, bins=bins, range=(lo, max(hi, lo + 1)), weights=weights)


def apply_live(client, update: Update) -> None:
    """Apply one live event or result to ``client``'s stores (render thread)."""
    s = client.state
    if update.kind == "result":
        params = update.value or {}
        rid = params.get("recording_id")
        if "entity" in params and rid in client.stores:
            client.stores[rid].on_result(params, update.batch)
            s.generation += 1
        return
    name, params = update.value
    if name == "snapshot":
        for rec in params.get("recordings", []):
            st = _remote(client, rec["recording_id"], rec.get("application_id", ""))
            st.on_summary(rec)
        if params.get("recordings"):
            client._activate(params["recordings"][-1]["recording_id"])
    elif name == "recording_added":
        _remote(client, params["recording_id"], params.get("application_id", ""))
        client._activate(params["recording_id"])  # a new run becomes the active recording
    elif name == "timeline_extended":
        st = _remote(client, params["recording_id"])
        st.on_timeline(params["timeline"], params["kind"], params.get("min"), params.get("max"))
    elif name == "entity_added":
        _remote(client, params["recording_id"]).on_rows({params["entity_path"]: 0})
    elif name == "rows_added":
        rid = params["recording_id"]
        at = _remote(client, rid).on_rows(params.get("rows", {}))
        pending = client._pending_times.setdefault(rid, {})
        for timeline, t in at.items():  # steppable times, as for files
            pending.setdefault(timeline, []).append(np.array([t], dtype=np.int64))
    else:
        return
    s.generation += 1


def _remote(client, recording_id: str, application_id: str = "") -> RemoteStore:
    st = client.stores.get(recording_id)
    if st is None:
        st = client.stores[recording_id] = RemoteStore(recording_id)
        client.state.recordings[recording_id] = application_id
    elif application_id:
        client.state.recordings[recording_id] = application_id
    return st
