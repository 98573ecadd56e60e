"""Health counters of the ingest: totals, per-producer rejections, and rates for the periodic log line."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Health:
    """Process-wide counters; ``snapshot()`` is what the log line and the viewer's ``stats`` event show."""

    started: float = field(default_factory=time.monotonic)
    messages: int = 0
    rows: int = 0
    bytes: int = 0
    chunks: int = 0
    duplicates: int = 0
    send_failures: int = 0
    rejected: Counter = field(default_factory=Counter)
    dropped_rows: int = 0
    dropped_bytes: int = 0
    connections: int = 0
    disconnects: int = 0
    queue_depth: int = 0
    #: worker replies (or worker checks) that raised in the ingest: logged, skipped, counted
    worker_errors: int = 0
    #: big frames received into prefaulted memory (``ingest.prefault``)
    prefaulted_frames: int = 0
    #: big frames taken from producers' shared memory instead of the socket (``ingest.shm``)
    shm_frames: int = 0
    #: chunks set aside because an earlier one of their producer is to be resent (``shm_unavailable``)
    awaiting_resend: int = 0
    #: store workers (``--shards N``): deaths, restarts, shards given up, and what the dead ones held
    worker_deaths: int = 0
    worker_restarts: int = 0
    workers_given_up: int = 0
    worker_lost_rows: int = 0
    worker_lost_chunks: int = 0
    #: chunks a worker did not confirm within the chunk deadline (refused), and replies that came later
    chunk_timeouts: int = 0
    late_worker_replies: int = 0
    _last: tuple[float, int, int] = (0.0, 0, 0)
    _rates: tuple[float, float] = (0.0, 0.0)

    def reject(self, code: str) -> None:
        self.rejected[code] += 1

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def rates(self) -> tuple[float, float]:
        """(rows/s, bytes/s), sampled over windows of at least a second."""
        now = time.monotonic()
        t0, r0, b0 = self._last
        if t0 == 0.0:
            t0 = self.started
        if now - t0 >= 1.0:
            self._rates = ((self.rows - r0) / (now - t0), (self.bytes - b0) / (now - t0))
            self._last = (now, self.rows, self.bytes)
        return self._rates

    def snapshot(self, producers: int) -> dict:
        rows_s, bytes_s = self.rates()
        return {
            "producers": producers, "connections": self.connections, "rows": self.rows, "bytes": self.bytes,
            "chunks": self.chunks, "rows_per_s": round(rows_s, 1), "bytes_per_s": round(bytes_s, 1),
            "queue_depth": self.queue_depth, "rejected": self.rejected_total,
            "rejected_by_code": dict(self.rejected), "dropped_rows": self.dropped_rows,
            "dropped_bytes": self.dropped_bytes, "duplicates": self.duplicates,
            "send_failures": self.send_failures, "disconnects": self.disconnects,
            "worker_errors": self.worker_errors, "prefaulted_frames": self.prefaulted_frames,
            "shm_frames": self.shm_frames, "awaiting_resend": self.awaiting_resend,
            "worker_deaths": self.worker_deaths, "worker_restarts": self.worker_restarts,
            "workers_given_up": self.workers_given_up, "worker_lost_rows": self.worker_lost_rows,
            "worker_lost_chunks": self.worker_lost_chunks, "chunk_timeouts": self.chunk_timeouts,
            "late_worker_replies": self.late_worker_replies,
            "uptime_s": round(time.monotonic() - self.started, 3),
        }
