"""Turning one received multipart into store inserts and replies; every refusal is a typed error.

``Handler.handle`` never raises for bad input: it returns normally after storing, or raises a
``RejectedMessage`` subclass that the server counts, logs and reports back to the sender.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import pyarrow as pa

from rerun_zmq import _net_shm, _wire, _wire_buffers
from rerun_zmq._chunk import ChunkError, ChunkInfo, parse_chunk
from rerun_zmq._wire import ChunkMsg, Hello, Kind, WireError

from .errors import (
    BadArrowError,
    BadHeaderError,
    OversizeError,
    ProtocolViolation,
    SchemaError,
    UnknownProducerError,
    UnknownVersionError,
)
from .producers import Producer
from .shm import open_frames

if TYPE_CHECKING:
    import zmq

log = logging.getLogger("ingest")
_HEAD_SIZE = 4  # b"RZ" + u8 version + u8 kind (see rerun_zmq._wire)
_MAX_ID = 256


def header_fields(header: bytes) -> tuple[Kind, dict]:
    """Validate the fixed prefix and the JSON map of a header frame."""
    try:
        kind = _wire.peek_kind(header)
    except _wire.UnknownVersionError as exc:
        raise UnknownVersionError(str(exc)) from None
    except WireError as exc:
        raise BadHeaderError(str(exc)) from None
    try:
        small = json.loads(header[_HEAD_SIZE:])
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadHeaderError(f"header metadata is not valid JSON: {exc}") from None
    if not isinstance(small, dict):
        raise BadHeaderError("header metadata must be a JSON object")
    return kind, small


def _str_field(small: dict, name: str, *, required: bool = True, default: str = "") -> str:
    value = small.get(name, None if required else default)
    if not isinstance(value, str) or (required and not value) or len(value) > _MAX_ID:
        raise ProtocolViolation(f"field {name!r} must be a non-empty string of at most {_MAX_ID} chars, "
                                f"got {value!r:.80}")
    return value


def _int_field(small: dict, name: str, *, minimum: int = 0, default: int | None = None) -> int:
    value = small.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum or value >= 2**63:
        raise ProtocolViolation(f"field {name!r} must be an integer >= {minimum}, got {value!r:.80}")
    return value


def parse_hello(small: dict) -> Hello:
    return Hello(
        application_id=_str_field(small, "application_id"),
        recording_id=_str_field(small, "recording_id"),
        producer_id=_str_field(small, "producer_id"),
        started_ns=_int_field(small, "started_ns", default=0),
        sdk_version=_str_field(small, "sdk_version", required=False),
        store_kind=_str_field(small, "store_kind", required=False, default="recording"),
    )


def parse_chunk_msg(p: Producer, small: dict, frames: list, shm_limit: int = 0) -> tuple[ChunkMsg, ChunkInfo]:
    """A CHUNK's header fields and Arrow body, validated against the chunk layout.

    Shared-memory frames (``"_shm"``, at most ``shm_limit`` bytes in all) are first replaced in
    ``frames`` by read-only mappings of the producer's memfds (``ingest.shm``)."""
    seq = _int_field(small, "seq", minimum=1)
    if not p.hello:
        raise UnknownProducerError("CHUNK before HELLO on this connection; say HELLO and resend", seq)
    recording_id = _str_field(small, "recording_id")
    store_kind = _str_field(small, "store_kind", required=False, default="recording")
    layout = small.get(_wire_buffers.LAYOUT)
    refs = small.get(_net_shm.KEY)
    if refs is not None:
        if layout is None:
            raise ProtocolViolation("shared-memory frames need the buffers body form", seq)
        open_frames(p.shm, refs, frames, shm_limit, seq)
    if layout is None and len(frames) != 2:
        raise ProtocolViolation(f"CHUNK takes exactly one body frame, got {len(frames) - 1}", seq)
    try:
        if layout is not None:  # the "buffers" form: rebuilt over the frames and fully validated
            batch = _wire.batch_from_frames(layout, frames[1:])
        else:
            batch = _wire.batch_from_bytes(frames[1])
            batch.validate(full=True)
    except WireError as exc:
        raise BadArrowError(str(exc), seq) from None
    except (pa.ArrowInvalid, pa.ArrowException, ValueError) as exc:
        raise BadArrowError(f"record batch failed validation: {exc}", seq) from None
    try:
        info = parse_chunk(batch)
    except ChunkError as exc:
        raise SchemaError(str(exc), seq) from None
    return ChunkMsg(recording_id, batch, seq, store_kind), info


def check_size(frames: list, limit: int) -> int:
    size = sum(len(f) for f in frames)
    if size > limit:
        raise OversizeError(f"message of {size} bytes is over --max-message-bytes {limit}")
    return size


def frame_bytes(frame: zmq.Frame | bytes) -> bytes:
    return frame if isinstance(frame, bytes) else frame.bytes
