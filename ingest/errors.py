"""Typed errors of the ingest: raised internally, turned into a logged, counted rejection at the boundary.

Every rejection has a short machine-readable ``code`` (sent back to the producer in an ``Error``
message and used as the counter name) and a human-readable reason.
"""

from __future__ import annotations


class IngestError(Exception):
    """Base class of every error the ingest raises on purpose."""

    code = "ingest_error"


class ConfigError(IngestError, ValueError):
    """A command-line option or ``Config`` field has a value the ingest cannot use."""

    code = "bad_config"


class RejectedMessage(IngestError):
    """A message was refused; the sender gets an ``Error(code, message)`` and the refusal is counted."""

    code = "rejected"

    def __init__(self, message: str, seq: int = 0) -> None:
        super().__init__(message)
        self.seq = seq


class BadHeaderError(RejectedMessage):
    """Frames that are not a message of the wire protocol (garbage, bad magic, bad JSON)."""

    code = "bad_header"


class UnknownVersionError(RejectedMessage):
    """A message of a protocol version this ingest does not speak."""

    code = "unknown_version"


class OversizeError(RejectedMessage):
    """A message larger than ``--max-message-bytes``."""

    code = "oversize"


class BadArrowError(RejectedMessage):
    """A CHUNK body that is not a valid Arrow IPC stream of one record batch."""

    code = "bad_arrow"


class SchemaError(RejectedMessage):
    """A chunk that breaks the chunk layout or conflicts with what the store already holds."""

    code = "bad_schema"


class ProtocolViolation(RejectedMessage):
    """A well-formed message that is not allowed here (wrong kind, wrong field types, no HELLO first)."""

    code = "protocol"


class UnknownProducerError(RejectedMessage):
    """A CHUNK or FLUSH from a connection that has not said HELLO (e.g. after an ingest restart)."""

    code = "unknown_producer"


class BadQueryError(RejectedMessage):
    """A QUERY the ingest cannot answer (unknown op, bad parameters, unknown recording or entity)."""

    code = "bad_query"


class StoreUnavailableError(RejectedMessage):
    """The chunk's store worker died before confirming it, or its shard was given up."""

    code = "store_unavailable"


class StoreTimeoutError(RejectedMessage):
    """The chunk's store worker did not confirm it within the chunk deadline."""

    code = "store_timeout"


class ShmUnavailableError(RejectedMessage):
    """A shared-memory frame of a CHUNK could not be opened or failed its checks (``ingest.shm``).

    Not a loss: the producer sends that CHUNK and every later one again over TCP, and the ingest
    takes none of the later ones until it has (``Producer.resend_from``)."""

    code = "shm_unavailable"
