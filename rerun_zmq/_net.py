"""Streaming to an ingest: ``connect`` (``rr.connect``), ``spawn`` (``rr.spawn``) and ``TeeSink``.

The sink itself is ``NetworkSink`` (``_net_sink``); addresses are parsed by ``_net_addr``.
"""

from __future__ import annotations

import os

from ._net_curve import _curve_keys as _curve_keys
from ._net_sink import NetStats as NetStats
from ._net_sink import NetworkSink as NetworkSink
from ._sinks import FileSink, Sink
from ._wire import Message


class TeeSink:
    """Sends every message to several sinks (e.g. an .rrd file and the network)."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks = list(sinks)

    def send(self, msg: Message) -> None:
        for s in self.sinks:
            s.send(msg)

    def end_of_pass(self) -> None:
        for s in self.sinks:
            s.end_of_pass()

    def flush(self, timeout: float | None = None) -> bool:
        return all([s.flush(timeout) for s in self.sinks])

    def close(self) -> None:
        for s in self.sinks:
            s.close()

    def after_fork_in_child(self) -> None:
        for s in self.sinks:
            s.after_fork_in_child()

    def inherit_spec(self) -> str | None:
        specs = [s.inherit_spec() for s in self.sinks if hasattr(s, "inherit_spec")]
        return next((sp for sp in specs if sp and sp.startswith("tcp:")), specs[0] if specs else None)


def connect(rec, addr: str | None = None, *, flush_timeout_sec: float | None = 2.0,
            save_path: str | os.PathLike | None = None, **kwargs) -> NetworkSink:
    """Stream ``rec`` (and everything it logged so far) to the ingest at ``addr``; ``save_path`` tees to a file."""
    sink = NetworkSink(addr, flush_timeout_sec=flush_timeout_sec, **kwargs)
    rec.set_sink(TeeSink(FileSink(save_path), sink) if save_path is not None else sink)
    return sink


def spawn(rec, *, port: int = 9876, connect: bool = True, memory_limit: str = "75%", **kwargs) -> None:
    """Start ``rerun-zmq`` (viewer + ingest, or headless ingest) unless something listens on ``port``."""
    from ._net_spawn import spawn as _spawn

    _spawn(rec, port=port, connect_=connect, memory_limit=memory_limit, **kwargs)
