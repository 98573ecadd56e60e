"""The ingest process: producers' chunks over ZeroMQ, validated, acknowledged and sharded into the store.

Run it with ``rerun-zmq serve`` (``ingest.server.main``); embed it with ``Server(Config(...)).serve()``.
Viewers and dataframe clients query it with ``ingest.client.IngestClient``.
"""

from __future__ import annotations

from .config import Config as Config
from .errors import IngestError as IngestError

__all__ = ["Config", "IngestError"]
