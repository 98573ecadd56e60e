"""``connect_recording``: the ``load_recording`` interface, answered live from a running ingest.

The returned ``LiveRecording`` keeps a local mirror of one recording: it fetches every chunk the
ingest holds (a ``tail`` query), then takes in each chunk stored afterwards before answering any
query, so ``latest_at``/``range``/``entity_paths`` always see what the ingest has acknowledged up to
that moment. If the stream ever has a gap (the ingest restarted, or a push was lost) the mirror is
rebuilt from scratch. Use it from one thread (it owns a socket).
"""

from __future__ import annotations

import time

from store import StoreError, TimelineStore

from ._wire import Bye, Error, Result
from .dataframe import Recording


class LiveRecording(Recording):
    """A ``Recording`` whose store follows the ingest's; ``refresh()`` happens on every query."""

    def __init__(self, client, recording_id: str | None, timeout: float) -> None:
        self._client = client
        self._wanted = recording_id
        self._timeout = timeout
        self._qid = 0
        self._seq = 0
        self._local = TimelineStore()
        self.refused = 0
        rid, app = self._sync()
        super().__init__(app, rid, self._local)

    # the parent class reads ``self.store`` in every query: take in new chunks first
    @property
    def store(self) -> TimelineStore:
        self.refresh()
        return self._local

    @store.setter
    def store(self, value: TimelineStore) -> None:
        self._local = value

    def _insert(self, batch) -> None:
        try:
            self._local.insert(batch)
        except StoreError:
            self.refused += 1

    def _sync(self) -> tuple[str, str]:
        """(Re)build the mirror: every chunk the ingest holds, up to its ``done`` marker."""
        if self._qid:
            self._client.cancel(self._qid)
        self._local = TimelineStore()
        self._qid = self._client._send(next(self._client._ids), "tail", {"recording_id": self._wanted})
        deadline = time.monotonic() + self._timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"connect_recording: no answer from {self._client.endpoint} in {self._timeout} s")
            msgs = self._client.poll(remaining)
            for i, msg in enumerate(msgs):
                if isinstance(msg, Error) and msg.seq == self._qid:
                    raise ValueError(f"connect_recording: the ingest refused: {msg.message}")
                if not isinstance(msg, Result) or msg.query_id != self._qid:
                    continue
                self._seq = msg.seq
                if msg.batch is not None:
                    self._insert(msg.batch)
                if msg.params.get("done"):
                    rid = msg.params.get("recording_id")
                    if rid is None:
                        raise ValueError(f"connect_recording: the ingest at {self._client.endpoint} holds no "
                                         "recording yet" + (f" with id {self._wanted!r}" if self._wanted else ""))
                    self._wanted = rid
                    # live pushes read along with the marker are the next ones ``refresh`` must see
                    self._client._backlog.extend(msgs[i + 1:])
                    return rid, msg.params.get("application_id", "")

    def refresh(self) -> int:
        """Take in every chunk the ingest pushed since the last call; returns how many."""
        n = 0
        for msg in self._client.poll(0.0):
            if isinstance(msg, Bye):
                continue
            if not isinstance(msg, Result) or msg.query_id != self._qid:
                continue
            if msg.seq != self._seq + 1:
                self._sync()
                return -1
            self._seq = msg.seq
            if msg.batch is not None:
                self._insert(msg.batch)
                n += 1
        return n

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> LiveRecording:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect_recording(addr: str | None = None, recording_id: str | None = None, *, timeout: float = 10.0,
                      client_key=None, server_key=None) -> LiveRecording:
    """The recording ``recording_id`` (default: the newest) of the ingest at ``addr``, kept up to date."""
    from ingest.client import IngestClient

    client = IngestClient(addr, client_key=client_key, server_key=server_key)
    try:
        return LiveRecording(client, recording_id, timeout)
    except BaseException:
        client.close()
        raise
