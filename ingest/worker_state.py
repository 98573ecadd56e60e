"""What the ingest keeps per store shard and per chunk in flight (``--shards N``).

``Shard`` is one shard's current worker process and its state; ``Ticket`` is one forwarded chunk,
waiting for every target shard to answer. Shared by ``ingest.workers`` and the modules it is made of
(``worker_supervision``, ``worker_replies``, ``worker_queries``).
"""

from __future__ import annotations

import signal
import struct
import subprocess
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

#: ``b"T" + TICKET.pack(ticket)`` tags a chunk sent to a worker
TICKET = struct.Struct("<Q")

ShardState = Literal["starting", "ready", "unreachable", "waiting", "failed"]
#: states of a shard whose worker process runs (or ran until supervision notices it exited)
LIVE = ("starting", "ready", "unreachable")


@dataclass
class Ticket:
    """One chunk forwarded to its target shards: acknowledged to its producer once all answered."""

    producer_id: str
    seq: int
    recording_id: str
    batch: pa.RecordBatch
    size: int
    #: monotonic time after which the chunk is refused if a shard has still not answered
    deadline: float
    #: shards that have not answered yet
    waiting: set = field(default_factory=set)
    #: refused by some shard (its producer was told once): not counted as stored
    failed: bool = False


@dataclass
class Shard:
    """One store shard: its current worker process and what the ingest knows of it."""

    index: int
    proc: subprocess.Popen | None = None
    ident: bytes = b""
    #: worker processes started for this shard so far
    gen: int = 0
    #: starting (process started, not ready yet), ready, unreachable (its connection closed: it is
    #: exiting, or is killed after UNREACHABLE_GRACE), waiting (to be restarted at ``since``), failed
    state: ShardState = "starting"
    since: float = 0.0
    deaths: deque = field(default_factory=deque)
    #: ticket -> frames of chunks for a worker that is (re)starting, sent when it is ready
    held: dict = field(default_factory=dict)
    #: confirmed by the current process: what its death loses
    rows: int = 0
    chunks: int = 0
    bytes: int = 0
    reason: str = ""


def exit_text(proc: subprocess.Popen | None) -> str:
    """How a worker process ended, in words for a log line (``proc`` None: it never started)."""
    if proc is None:
        return "could not be started"
    rc = proc.returncode
    if rc is None:
        return "is still running"
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = f"signal {-rc}"
        extra = " (by a user or by the kernel's out-of-memory killer)" if -rc == signal.SIGKILL else ""
        return f"exited: killed by {name}{extra}"
    return f"exited with code {rc}"
