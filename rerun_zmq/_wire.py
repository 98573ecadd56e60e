"""The wire protocol: every message the SDK, ingest, viewer and .rrd files exchange.

A message is a list of frames (a ZeroMQ multipart; in files, length-prefixed records):

- frame 0, the header: ``b"RZ"`` + ``u8`` protocol version + ``u8`` message kind + a compact JSON
  object with the message's small fields;
- frames 1..n, the body where the kind carries Arrow data (CHUNK, RESULT): one frame of Arrow IPC
  stream bytes (one schema + one record batch), or, for big chunks sent to an ingest that accepts
  it, the "buffers" form (``_wire_buffers``: schema, packed small buffers, one frame per big
  buffer, described by the header's ``_layout``; no copy on either side).

Every message is a small frozen dataclass; ``encode``/``decode`` convert both ways. No pickle.
"""

from __future__ import annotations

import functools
import json
import struct
from dataclasses import dataclass, field, fields
from enum import IntEnum
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.ipc as ipc

from . import _wire_buffers

MAGIC = b"RZ"
PROTOCOL_VERSION = 1
_HEAD = struct.Struct("<2sBB")


class Kind(IntEnum):
    HELLO = 1
    CHUNK = 2
    FLUSH = 3
    ACK = 4
    CREDIT = 5
    QUERY = 6
    RESULT = 7
    EVENT = 8
    BYE = 9
    ERROR = 10
    DROPPED = 11


class WireError(ValueError):
    """Bytes that are not a valid message; the text says what was expected."""


class UnknownVersionError(WireError):
    """A message of a protocol version this build does not speak."""


@dataclass(frozen=True)
class Hello:
    """First message of a producer: which recording its data belongs to."""

    kind: ClassVar[Kind] = Kind.HELLO
    application_id: str
    recording_id: str
    #: unique per producer process (and per fork)
    producer_id: str
    #: wall-clock ns when the recording stream started
    started_ns: int = 0
    sdk_version: str = ""
    #: "recording" for data, "blueprint" for layout data
    store_kind: str = "recording"


@dataclass(frozen=True)
class ChunkMsg:
    """One chunk (see ``_chunk``) of a recording."""

    kind: ClassVar[Kind] = Kind.CHUNK
    recording_id: str
    batch: pa.RecordBatch
    #: per-producer sequence number, for acknowledgements (0 in files)
    seq: int = 0
    store_kind: str = "recording"


@dataclass(frozen=True)
class Flush:
    """Producer asks to be told once everything up to ``seq`` is stored."""

    kind: ClassVar[Kind] = Kind.FLUSH
    seq: int


@dataclass(frozen=True)
class Ack:
    """Ingest has stored every chunk of this producer up to ``seq`` inclusive."""

    kind: ClassVar[Kind] = Kind.ACK
    seq: int
    rows: int = 0
    bytes: int = 0


@dataclass(frozen=True)
class Credit:
    """Ingest grants the producer ``bytes`` more bytes that may be in flight."""

    kind: ClassVar[Kind] = Kind.CREDIT
    bytes: int


@dataclass(frozen=True)
class Query:
    """A standing query from a viewer or a dataframe client."""

    kind: ClassVar[Kind] = Kind.QUERY
    query_id: int
    op: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    """Answer to a query: small fields in ``params``, Arrow data in ``batch``."""

    kind: ClassVar[Kind] = Kind.RESULT
    query_id: int
    seq: int
    params: dict = field(default_factory=dict)
    batch: pa.RecordBatch | None = None


@dataclass(frozen=True)
class Event:
    """A store event pushed to subscribers (entity added, range extended, data dropped, stats)."""

    kind: ClassVar[Kind] = Kind.EVENT
    seq: int
    name: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Bye:
    kind: ClassVar[Kind] = Kind.BYE
    reason: str = ""


@dataclass(frozen=True)
class Error:
    """The peer refused something; ``code`` is machine-readable, ``message`` for humans."""

    kind: ClassVar[Kind] = Kind.ERROR
    code: str
    message: str
    seq: int = 0


@dataclass(frozen=True)
class Dropped:
    """The producer dropped rows by its back-pressure policy (or could not deliver them)."""

    kind: ClassVar[Kind] = Kind.DROPPED
    rows: int
    bytes: int
    reason: str


Message = Hello | ChunkMsg | Flush | Ack | Credit | Query | Result | Event | Bye | Error | Dropped
_BY_KIND: dict[int, type] = {
    cls.kind: cls for cls in (Hello, ChunkMsg, Flush, Ack, Credit, Query, Result, Event, Bye, Error, Dropped)
}
_ARROW_FIELD = "batch"
_CODEC, _RAW = "_codec", "_raw"
_CODECS = ("zstd", "lz4")


def batch_to_bytes(batch: pa.RecordBatch, compression: str | None = None) -> pa.Buffer:
    """Serialize one record batch as an Arrow IPC stream (schema + batch)."""
    sink = pa.BufferOutputStream()
    options = ipc.IpcWriteOptions(compression=compression) if compression else None
    with ipc.new_stream(sink, batch.schema, options=options) as writer:
        writer.write_batch(batch)
    return sink.getvalue()


def batch_from_bytes(data) -> pa.RecordBatch:
    try:
        reader = ipc.open_stream(pa.py_buffer(data) if not isinstance(data, pa.Buffer) else data)
        batches = list(reader)
    except (pa.ArrowException, OSError, ValueError, MemoryError) as exc:  # e.g. ArrowKeyError, ArrowNotImplementedError
        raise WireError(f"body is not a valid Arrow IPC stream: {exc}") from None
    if len(batches) != 1:
        raise WireError(f"expected exactly one record batch in the body, got {len(batches)}")
    return batches[0]


def batch_from_frames(layout: object, frames: list) -> pa.RecordBatch:
    """A batch in the "buffers" body form (the header's ``_layout`` and the body frames), rebuilt
    without copying and fully validated; ``WireError`` names what was wrong."""
    return _wire_buffers.join(layout, frames, WireError)


def encode(msg: Message, compression: str | None = None, *, buffers: bool = False) -> list:
    """Message -> frames (``bytes`` header, Arrow buffers for the body).

    ``compression`` (``"zstd"``, ``"zstd:3"`` with a level, or ``"lz4"``) compresses the whole body frame
    in one call; the header then names the codec and the raw size. (Arrow's per-buffer IPC compression
    costs ~0.2 ms per chunk whatever its size; one call on the whole body costs ~20 µs for small ones.)
    ``buffers=True`` (only towards a peer that accepts it; not with compression) sends a big batch in
    the "buffers" form: its Arrow buffers as frames, not copied (see ``_wire_buffers``).
    """
    small: dict[str, Any] = {}
    body: list = []
    for f in fields(msg):
        value = getattr(msg, f.name)
        if f.name == _ARROW_FIELD:
            split = _wire_buffers.split(value) if value is not None and buffers and not compression else None
            if split is not None:
                small[_wire_buffers.LAYOUT], frames = split
                body.extend(frames)
            elif value is not None:
                raw = batch_to_bytes(value)
                if compression:
                    codec = _codec(compression)
                    small[_CODEC], small[_RAW] = codec.name, raw.size
                    # (slice: a ResizableBuffer exposes its capacity, not its size, to memoryview)
                    packed = codec.compress(raw, asbytes=False)
                    raw = packed.slice(0, packed.size)
                body.append(raw)
        else:
            small[f.name] = value
    head = _HEAD.pack(MAGIC, PROTOCOL_VERSION, int(msg.kind))
    return [head + json.dumps(small, separators=(",", ":")).encode(), *body]


def peek_kind(header: bytes) -> Kind:
    """Validate the fixed prefix of a header and return its kind."""
    if len(header) < _HEAD.size:
        raise WireError(f"header too short: {len(header)} bytes, expected at least {_HEAD.size}")
    magic, version, kind = _HEAD.unpack_from(header)
    if magic != MAGIC:
        raise WireError(f"bad magic {magic!r}, expected {MAGIC!r}")
    if version != PROTOCOL_VERSION:
        raise UnknownVersionError(
            f"protocol version {version} is not supported (this build speaks version {PROTOCOL_VERSION})"
        )
    if kind not in _BY_KIND:
        raise WireError(f"unknown message kind {kind}")
    return Kind(kind)


@functools.lru_cache(maxsize=16)
def _codec(spec: str) -> pa.Codec:
    """``"zstd"``, ``"zstd:3"`` (codec and level) or ``"lz4"`` -> a reusable ``pyarrow.Codec``."""
    name, _, level = spec.partition(":")
    if name not in _CODECS:
        raise ValueError(f"compression must be one of {_CODECS} (optionally ':level'), got {spec!r}")
    return pa.Codec(name, int(level) if level else None)


def _decompress(body, codec, raw_size) -> pa.Buffer:
    if codec not in _CODECS or not isinstance(raw_size, int) or raw_size < 0:
        raise WireError(f"body codec must be one of {_CODECS} with a raw size, got {codec!r}, {raw_size!r}")
    try:
        buf = body if isinstance(body, pa.Buffer) else pa.py_buffer(body)
        return pa.decompress(buf, decompressed_size=raw_size, codec=codec)
    except (pa.ArrowException, OSError, ValueError, MemoryError) as exc:
        raise WireError(f"body does not decompress with {codec}: {exc}") from None


#: JSON-carried header fields and the type each must have (a hostile peer's ``"seq": "x"`` is a
#: WireError here, not a TypeError deep in whoever handles the message)
_FIELD_TYPES: dict[tuple[Kind, str], type] = {
    (cls.kind, f.name): {"str": str, "int": int, "dict": dict}[f.type]
    for cls in _BY_KIND.values() for f in fields(cls) if f.type in ("str", "int", "dict")
}


def decode(frames: list) -> Message:
    """Frames -> message; raises ``WireError`` naming what was wrong."""
    if not frames:
        raise WireError("empty message")
    header = bytes(frames[0]) if not isinstance(frames[0], bytes) else frames[0]
    kind = peek_kind(header)
    cls = _BY_KIND[kind]
    try:
        small = json.loads(header[_HEAD.size :])
    except (ValueError, RecursionError) as exc:
        raise WireError(f"header metadata is not valid JSON: {exc}") from None
    if not isinstance(small, dict):
        raise WireError("header metadata must be a JSON object")
    names = {f.name for f in fields(cls)}
    has_batch = _ARROW_FIELD in names
    codec, raw_size = small.pop(_CODEC, None), small.pop(_RAW, None)
    layout = small.pop(_wire_buffers.LAYOUT, None)
    if has_batch and layout is not None:
        if codec is not None:
            raise WireError(f"a {_wire_buffers.FORM} body is never compressed, got codec {codec!r}")
        small[_ARROW_FIELD] = batch_from_frames(layout, frames[1:])
    elif has_batch:
        if len(frames) > 2:
            raise WireError(f"{kind.name} takes at most one body frame, got {len(frames) - 1}")
        if len(frames) == 2:
            body = frames[1]
            if codec is not None:
                body = _decompress(body, codec, raw_size)
            small[_ARROW_FIELD] = batch_from_bytes(body)
        elif kind == Kind.CHUNK:
            raise WireError("CHUNK message has no body frame")
    elif len(frames) > 1:
        raise WireError(f"{kind.name} takes no body frames, got {len(frames) - 1}")
    unknown = set(small) - names
    for key in unknown:  # tolerate fields added by newer minor writers
        small.pop(key)
    for key, value in small.items():
        want = _FIELD_TYPES.get((kind, key))
        if want is not None and (not isinstance(value, want) or (want is int and isinstance(value, bool))):
            raise WireError(f"{kind.name} field {key!r} must be {want.__name__}, got {type(value).__name__}")
    try:
        return cls(**small)
    except TypeError as exc:
        raise WireError(f"{kind.name} header has missing or wrong fields: {exc}") from None


def to_json_dict(msg: Message) -> dict:
    """A printable form (the body summarized), for ``rrd print`` and logs."""
    out: dict[str, Any] = {"kind": msg.kind.name}
    for f in fields(msg):
        key, value = f.name, getattr(msg, f.name)
        if isinstance(value, pa.RecordBatch):
            out[key] = {"rows": value.num_rows, "columns": value.schema.names}
        else:
            out[key] = value
    return out
