"""Loading .rrd files into stores fast: chunks grouped before they reach the store.

A file of many small chunks (busy many-entity logging) spends most of its load time on per-chunk
work: decoding one Arrow IPC stream per chunk, validating it and inserting it. ``_GroupedLoader``
inserts each entity's run of small chunks as one; ``load_file`` feeds it chunk bodies without
decoding them one by one where it can: a body is an IPC stream (schema message, one record-batch
message, end-of-stream marker), so bodies with identical schema bytes share one parsed schema and
only their record-batch messages are decoded. Anything unusual (another header form or codec, a body
that does not split that way, a group that fails to decode or validate) goes the per-chunk way
(``_wire.decode``, ``parse_chunk``), so only the bad chunk is refused, with its reason.
"""

from __future__ import annotations

import os
import re
import struct
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pyarrow as pa
import pyarrow.ipc as ipc

from store import MalformedChunkError, TimelineStore

from . import _wire
from ._chunk import ROW_ID, ChunkError, ChunkInfo, parse_chunk
from ._errors import strict_mode
from ._rrd import RrdReader

#: the header ``_wire.encode`` writes for a file chunk; other forms are decoded by ``_wire.decode``
_CHUNK_HEADER = re.compile(
    re.escape(_wire.MAGIC + bytes([_wire.PROTOCOL_VERSION, int(_wire.Kind.CHUNK)]))
    + rb'\{"recording_id":"([^"\\]*)",(?:"_codec":"(lz4|zstd)","_raw":(0|[1-9][0-9]{0,11}),)?'
    rb'"seq":(?:0|[1-9][0-9]*),"store_kind":"recording"\}',
    re.DOTALL,
)
#: a record's body as stored: (codec or None, raw size, bytes)
Source = tuple[str | None, int, pa.Buffer]
#: a chunk schema parsed and validated once: (schema, parse_chunk's description)
Parsed = tuple[pa.Schema, ChunkInfo]
_I32X2 = struct.Struct("<Ii")
_CONTINUATION = 0xFFFFFFFF
#: bodies are decompressed in batches of this many stored bytes (or _DECOMPRESS_BATCH records)
_DECOMPRESS_BYTES = 1 << 20
_DECOMPRESS_BATCH = 256
#: files from this size on decompress on a worker thread (with more than one CPU to run it)
THREAD_MIN_BYTES = 1 << 20


def _split_body(body: pa.Buffer) -> tuple[bytes, pa.Buffer] | None:
    """An IPC stream body -> (schema message bytes, the rest before the end-of-stream marker), or None."""
    size = body.size
    if size < 24:
        return None
    cont, meta = _I32X2.unpack_from(body, 0)
    end = 8 + meta
    if cont != _CONTINUATION or meta <= 0 or end + 8 >= size:
        return None
    if _I32X2.unpack_from(body, size - 8) != (_CONTINUATION, 0):  # the end-of-stream marker
        return None
    return body.slice(0, end).to_pybytes(), body.slice(end, size - 8 - end)


def _read_batch(part: pa.Buffer, schema: pa.Schema) -> pa.RecordBatch:
    """Exactly one record-batch message (metadata and body filling ``part``) -> the batch."""
    msg = ipc.read_message(part)
    if msg.type != "record batch" or 8 + msg.metadata.size + msg.body.size != part.size:
        raise _wire.WireError("chunk body is not one schema and one record batch")
    return ipc.read_record_batch(msg, schema)


class _GroupedLoader:
    """Inserts a file's chunks into stores, merging runs of small chunks of one entity first.

    A file of many small chunks (busy many-entity logging) loads several times faster when each
    entity's small chunks go into the store as one: every chunk is still validated (a merged group
    that fails is retried chunk by chunk, so only the bad one is refused, with its reason). Which of
    two conflicting chunks (timeline kind, component type) is refused must not depend on the
    grouping: a chunk disagreeing with one seen before flushes every pending group first, so the
    store sees them in file order.

    ``add`` takes decoded chunks; ``add_body`` takes a chunk's IPC stream body undecoded.
    """

    GROUP_BYTES = 1 << 20
    SMALL_BYTES = 256 << 10

    def __init__(self) -> None:
        self.stores: dict[str, TimelineStore] = {}
        self.refused: list[str] = []
        self.source = ""
        #: key -> pending chunks: (batch, info) decoded, or (batch or None, source, part, where) undecoded
        self._groups: dict[tuple, list] = {}
        self._sizes: dict[tuple, int] = {}
        #: first timeline kind / component value type seen, per recording (and entity)
        self._kinds: dict[tuple[str, str], str] = {}
        self._types: dict[tuple[str, str, str], pa.DataType] = {}
        #: schema message bytes -> (schema, info), or None when they do not make a valid chunk schema
        self._schemas: dict[bytes, Parsed | None] = {}
        #: (recording, schema bytes) already found to agree with what was seen first
        self._agreed: set[tuple[str, bytes]] = set()

    def _store(self, recording_id: str) -> TimelineStore:
        st = self.stores.get(recording_id)
        if st is None:
            st = self.stores[recording_id] = TimelineStore()
        return st

    def _refuse(self, exc: Exception) -> None:
        if strict_mode():
            raise exc
        self.refused.append(f"{self.source}: {exc}")

    def refuse_body(self, where: int, exc: Exception) -> None:
        """A chunk whose body (the record at byte ``where``) does not decode: refused alone."""
        self._refuse(MalformedChunkError(f"undecodable chunk at byte {where}: {exc}"))

    # -- decoded chunks --------------------------------------------------------------------------
    def add(self, recording_id: str, batch: pa.RecordBatch) -> None:
        try:
            info = parse_chunk(batch)
        except (ChunkError, ValueError, TypeError) as exc:  # undecodable metadata raises the latter two
            self._refuse(MalformedChunkError(str(exc) or type(exc).__name__))
            return
        if self._disagrees(recording_id, batch.schema, info):
            self.finish()  # the chunks before it reach the store first, as in file order
            self._insert(recording_id, [(batch, info)])
            return
        size = batch.get_total_buffer_size()
        if size >= self.SMALL_BYTES:
            self._insert(recording_id, [(batch, info)])
            return
        key = (recording_id, info.entity_path, tuple(batch.schema.names), tuple(batch.schema.types),
               batch.schema.metadata.get(b"rz.timelines"), info.is_static)
        self._pend(key, (batch, info), size)

    def _pend(self, key: tuple, item: tuple, size: int) -> None:
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = []
            self._sizes[key] = 0
        group.append(item)
        self._sizes[key] += size
        if self._sizes[key] >= self.GROUP_BYTES:
            self._flush(key)

    def _disagrees(self, recording_id: str, schema: pa.Schema, info: ChunkInfo) -> bool:
        """Whether a chunk has a timeline kind or component type other than the first one seen."""
        out = False
        for name, kind in info.timelines.items():
            out |= self._kinds.setdefault((recording_id, name), kind) != kind
        for key in info.components:
            typ = schema.field(key).type.value_type
            out |= self._types.setdefault((recording_id, info.entity_path, key), typ) != typ
        return out

    # -- undecoded chunk bodies ------------------------------------------------------------------
    def add_body(self, recording_id: str, body: pa.Buffer, source: Source, where: int) -> None:
        """A chunk's decompressed IPC stream body, decoded with others of the same schema later.

        ``source``: the record's body as stored (codec, raw size, bytes), which the per-chunk way
        decodes on its own, independently of how ``body`` was decompressed.
        """
        split = _split_body(body)
        parsed = first = None
        if split is not None:
            schema_bytes, part = split
            parsed = self._schemas.get(schema_bytes, False)
            if parsed is False:
                try:
                    parsed, first = _parse_schema(schema_bytes, part)
                    self._schemas[schema_bytes] = parsed
                except _BadBatch:  # the schema is not judged on a chunk that does not decode
                    parsed = None
        if parsed is None:  # not the usual layout: decoded and validated alone
            self._add_decoded(recording_id, source, where)
            return
        schema, info = parsed
        agreed = (recording_id, schema_bytes)
        if agreed not in self._agreed:
            if self._disagrees(recording_id, schema, info):
                self.finish()
                self._add_decoded(recording_id, source, where)
                return
            self._agreed.add(agreed)  # what is seen first never changes: it agrees from now on
        if part.size >= self.SMALL_BYTES:
            self._flush_raw(recording_id, schema, info, [(first, source, part, where)])
            return
        self._pend(("raw", recording_id, schema_bytes), (first, source, part, where), part.size)

    def _add_decoded(self, recording_id: str, source: Source, where: int) -> None:
        try:
            batch = _wire.batch_from_bytes(_decompress(*source))
        except _wire.WireError as exc:
            self.refuse_body(where, exc)
            return
        self.add(recording_id, batch)

    def _flush_raw(self, recording_id: str, schema: pa.Schema, info: ChunkInfo, group: list) -> None:
        """Decode a group of same-schema bodies as one chunk; on any failure, chunk by chunk."""
        try:
            batches = [item[0] or _read_batch(item[2], schema) for item in group]
            merged = batches[0] if len(batches) == 1 else pa.concat_batches(batches)
            _check_rows(merged)
            self._store(recording_id).insert(merged, info)
            return
        except (_wire.WireError, ChunkError, MalformedChunkError, pa.ArrowException, OSError, ValueError,
                TypeError, MemoryError):
            pass  # find the bad one below
        for _, source, _, where in group:
            try:
                batch = _wire.batch_from_bytes(_decompress(*source))
            except _wire.WireError as exc:
                self.refuse_body(where, exc)
                continue
            try:
                info = parse_chunk(batch)
            except (ChunkError, ValueError, TypeError) as exc:
                self._refuse(MalformedChunkError(str(exc) or type(exc).__name__))
                continue
            self._insert(recording_id, [(batch, info)])

    # -- flushing --------------------------------------------------------------------------------
    def _flush(self, key: tuple) -> None:
        group = self._groups.pop(key)
        self._sizes.pop(key, None)
        if key[0] == "raw":  # only bodies with a parsed schema are pending
            self._flush_raw(key[1], *self._schemas[key[2]], group)
            return
        self._insert(key[0], group)

    def _insert(self, recording_id: str, group: list) -> None:
        st = self._store(recording_id)
        if len(group) > 1:
            try:
                merged = pa.concat_batches([b for b, _ in group])
                st.insert(merged, group[0][1])
                return
            except (MalformedChunkError, pa.ArrowInvalid):
                pass  # find the bad one below
        for batch, info in group:
            try:
                st.insert(batch, info)
            except MalformedChunkError as exc:
                self._refuse(exc)

    def finish(self) -> None:
        for key in list(self._groups):
            self._flush(key)


class _BadBatch(Exception):
    """The record-batch message a schema was to be judged on does not decode."""


def _parse_schema(schema_bytes: bytes, part: pa.Buffer) -> tuple[Parsed | None, pa.RecordBatch | None]:
    """A schema message -> ((schema, chunk info), the batch in ``part``), or (None, None) when it is not
    a plain chunk schema: validated as ``parse_chunk`` does, less the per-row checks (on a zero-row
    slice of the batch)."""
    try:
        msg = ipc.read_message(pa.py_buffer(schema_bytes))
        if msg.type != "schema" or msg.body.size:
            return None, None
        schema = ipc.read_schema(msg)
    except (pa.ArrowException, OSError, ValueError, TypeError, MemoryError):
        return None, None
    try:  # (a dictionary-encoded field needs a dictionary message before the batch: refused here)
        batch = _read_batch(part, schema)
    except (_wire.WireError, pa.ArrowException, OSError, ValueError, TypeError, MemoryError) as exc:
        raise _BadBatch(str(exc)) from None
    try:
        return (schema, parse_chunk(batch.slice(0, 0))), batch
    except (ChunkError, ValueError, TypeError):
        return None, None


def _check_rows(batch: pa.RecordBatch) -> None:
    """``parse_chunk``'s per-row checks, for a merged group whose schema passed ``_parse_schema``."""
    if batch.column(0).null_count:
        raise ChunkError(f"{ROW_ID!r} must not contain nulls")


def _decompress(codec: str | None, raw: int, body: pa.Buffer) -> pa.Buffer:
    """One record's body, decompressed on its own (``WireError`` when it does not)."""
    if codec is None:
        return body
    try:
        out = pa.decompress(body, decompressed_size=raw, codec=codec)
    except (pa.ArrowException, OSError, ValueError, MemoryError) as exc:
        raise _wire.WireError(f"body does not decompress with {codec}: {exc}") from None
    return out


def _decompress_all(pending: list) -> list:
    """[(recording, source, where)] -> [(recording, decompressed body or the error, source, where)].

    Runs of one codec decompress in one call (concatenated frames; pyarrow holds no GIL meanwhile,
    so this runs on a worker thread beside the decoding) and are cut at the declared raw sizes. A
    run that does not come out at exactly their sum is done record by record.
    """
    out: list = []
    i = 0
    while i < len(pending):
        codec = pending[i][1][0]
        j = i + 1
        while j < len(pending) and pending[j][1][0] == codec:
            j += 1
        run, i = pending[i:j], j
        if codec is None:
            out.extend((rid, src[2], src, where) for rid, src, where in run)
            continue
        total = sum(src[1] for _, src, _ in run)
        try:
            joined = pa.py_buffer(b"".join(src[2] for _, src, _ in run))
            stream = pa.CompressedInputStream(pa.BufferReader(joined), codec)
            data = stream.read_buffer(total)
            whole = data.size == total and not stream.read(1)
        except (pa.ArrowException, OSError, ValueError, MemoryError):
            whole = False
        if whole:
            at = 0
            for rid, src, where in run:
                out.append((rid, data.slice(at, src[1]), src, where))
                at += src[1]
            continue
        for rid, src, where in run:
            try:
                out.append((rid, _decompress(*src), src, where))
            except _wire.WireError as exc:
                out.append((rid, exc, src, where))
    return out


def load_file(loader: _GroupedLoader, reader: RrdReader, app_ids: dict[str, str],
              progress: Callable[[int], None]) -> None:
    """Feed every chunk of ``reader``'s file to ``loader`` (file order kept where it matters).

    Stops, like ``RrdReader``, at a truncated or damaged record, or at another message that does
    not decode; a chunk whose body does not decode is refused alone and the read goes on. Bodies
    are decompressed in batches on one worker thread (files over ``THREAD_MIN_BYTES``) while the
    main thread decodes and inserts the batch before.
    """
    pending: list[tuple[str, Source, int]] = []
    inflight: deque[Future] = deque()
    threaded = reader.size >= THREAD_MIN_BYTES and _cpus() > 1
    pool = ThreadPoolExecutor(1, thread_name_prefix="rrd-load") if threaded else None

    def consume(results: list) -> None:
        for recording_id, data, source, where in results:
            if isinstance(data, Exception):
                loader.refuse_body(where, data)
            else:
                loader.add_body(recording_id, data, source, where)
        progress(reader.position)

    def submit(wait: int) -> None:
        if pending:
            batch = pending[:]
            pending.clear()
            if pool is None:
                consume(_decompress_all(batch))
            else:
                inflight.append(pool.submit(_decompress_all, batch))
        while len(inflight) > wait:
            consume(inflight.popleft().result())

    try:
        _read_records(loader, reader, app_ids, pending, submit)
        submit(0)
    finally:
        if pool is not None:
            for fut in inflight:
                fut.cancel()
            pool.shutdown(wait=True)


def _read_records(loader, reader, app_ids, pending, submit) -> None:
    match = _CHUNK_HEADER.fullmatch
    held = 0  # stored bytes of the pending bodies
    for frames in reader.iter_frames():
        head = frames[0].to_pybytes()
        m = match(head) if len(frames) == 2 else None
        if m is not None:
            codec, raw = m.group(2), m.group(3)
            source = (codec.decode() if codec else None, int(raw) if raw else 0, frames[1])
            pending.append((m.group(1).decode(), source, reader.record_start))
            held += source[2].size
            if held >= _DECOMPRESS_BYTES or len(pending) >= _DECOMPRESS_BATCH:
                submit(2)
                held = 0
            continue
        submit(0)  # what came before reaches the loader first
        held = 0
        start = reader.record_start
        try:
            msg = _wire.decode([head, *frames[1:]])
        except _wire.WireError as exc:
            if _is_chunk(head):
                loader.refuse_body(start, exc)
                continue
            reader.complete = False
            reader._stop(start, f"undecodable record at byte {start}: {exc}")
            return
        if isinstance(msg, _wire.Hello):
            app_ids.setdefault(msg.recording_id, msg.application_id)
        elif isinstance(msg, _wire.ChunkMsg) and msg.store_kind == "recording":
            loader.add(msg.recording_id, msg.batch)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _is_chunk(head: bytes) -> bool:
    try:
        return _wire.peek_kind(head) == _wire.Kind.CHUNK
    except _wire.WireError:
        return False

