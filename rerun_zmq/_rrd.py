"""The .rrd file format: a header, then wire messages as length-prefixed records, then a footer.

Layout (little-endian):

- header: ``b"RZRRD\\0"``, ``u16`` format version, ``u16`` n, n bytes of writer version (UTF-8)
- records: ``b"RM"``, ``u16`` frame count k, k × ``u64`` frame lengths, then the k frames; the
  frames are exactly the ZeroMQ frames of the same message (see ``_wire``)
- footer (written on a clean close): ``b"RF"``, ``u64`` n, n bytes of a JSON index
  (``{"records": [[offset, kind, entity_or_null, rows], ...]}``), then the trailer
  ``u64`` length of the footer + ``b"RZEND\\0\\0\\0"``. Several processes may append to one file
  (forked children): each writes whole records and its own footer; the file is complete when it
  ends with a footer.

A file without a valid footer is *incomplete* (the writer was killed): the reader still yields every
complete record and reports the offset where it stopped.
"""

from __future__ import annotations

import functools
import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from . import _wire
from ._wire import ChunkMsg, Message, WireError

FILE_MAGIC = b"RZRRD\0"
FORMAT_VERSION = 1
#: format versions this reader understands (older ones are migrated in memory when they exist)
KNOWN_FORMAT_VERSIONS = (1,)
RECORD_MAGIC = b"RM"
FOOTER_MAGIC = b"RF"
TRAILER_MAGIC = b"RZEND\0\0\0"
COMPRESS_MAX_BYTES = 4 * 1024 * 1024
_FILE_HEAD = struct.Struct("<6sHH")
_REC_HEAD = struct.Struct("<2sH")
_U64 = struct.Struct("<Q")
_TRAILER = struct.Struct("<Q8s")
_IOV_MAX = 1024  # Linux's limit on the parts of one writev


class RrdError(ValueError):
    """A file that is not a readable .rrd; the message names what was expected."""


class RrdVersionError(RrdError):
    """A file written in a format version this build does not read."""


def writer_version() -> str:
    from . import __version__

    return f"rerun-zmq {__version__}"


def file_header(version: str | None = None) -> bytes:
    wv = (version or writer_version()).encode()
    return _FILE_HEAD.pack(FILE_MAGIC, FORMAT_VERSION, len(wv)) + wv


def record_bytes(frames: list) -> list:
    """The record for one message's frames: a header ``bytes`` followed by the frames."""
    head = _REC_HEAD.pack(RECORD_MAGIC, len(frames)) + b"".join(_U64.pack(len(memoryview(f))) for f in frames)
    return [head, *frames]


_LZ4 = None


def _compressible(batch, sample: int = 1 << 16, ratio: float = 0.75) -> bool:
    """Whether a big chunk is worth compressing, judged on a 64 KiB sample of each column buffer.

    Point clouds and images (noisy floats, pixels) do not shrink and go out raw at disk speed;
    columns of sequential times and RowIds shrink several-fold and cost less to write compressed.
    """
    global _LZ4
    if _LZ4 is None:
        _LZ4 = pa.Codec("lz4")
    raw = packed = 0
    for column in batch.columns:
        for buf in column.buffers():
            if buf is None or buf.size < sample:
                continue
            piece = buf.slice((buf.size - sample) // 2, sample)
            raw += sample
            packed += _LZ4.compress(piece, asbytes=False).size
    return raw > 0 and packed < ratio * raw


def footer_bytes(records: list) -> bytes:
    """The footer (index of ``[offset, kind, entity, rows]`` records) plus its trailer."""
    index = json.dumps({"records": records}, separators=(",", ":")).encode()
    footer = FOOTER_MAGIC + _U64.pack(len(index)) + index
    return footer + _TRAILER.pack(len(footer), TRAILER_MAGIC)


class RrdWriter:
    """Appends messages to an .rrd file; ``close()`` writes the footer index.

    The file is opened with ``O_APPEND`` and every group of records goes out in one ``writev``,
    so forked children (``reopen_after_fork``) can append whole records to the same file safely.
    Records are buffered up to ``buffer_bytes`` and written by ``flush()``.
    """

    def __init__(
        self, path: str | os.PathLike, compression: str | None = "auto", buffer_bytes: int = 1 << 20,
        append: bool = False,
    ) -> None:
        """``append=True`` joins an existing file written by another process (no header, no truncation)."""
        self.path = Path(path)
        if not self.path.parent.exists():
            raise FileNotFoundError(f"cannot save to {self.path}: folder {self.path.parent} does not exist")
        joining = append and self.path.exists() and self.path.stat().st_size > 0
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (0 if joining else os.O_TRUNC)
        self._fd: int | None = os.open(self.path, flags, 0o644)
        if not joining:
            self._write_all([file_header()])
        self._pending: list = []
        self._pending_index: list[list] = []
        self._pending_bytes = 0
        self._index: list[list] = []
        self.compression = compression
        self.buffer_bytes = buffer_bytes

    def reopen_after_fork(self) -> None:
        """In a forked child: own file description, no inherited buffer, no header."""
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self._pending, self._pending_index, self._pending_bytes, self._index = [], [], 0, []

    def _compression_for(self, msg: Message) -> str | None:
        if self.compression != "auto":
            return self.compression
        # Whole-body compression, chosen by size: lz4 for small chunks (zstd's per-call setup costs
        # ~30 µs to decompress, which dominated loading files of many small chunks); zstd level 3
        # below 256 KiB (~30% tighter than level 1); level 1 below 4 MiB; big frames (point clouds,
        # images) uncompressed so they stream at disk speed.
        if isinstance(msg, ChunkMsg):
            size = msg.batch.nbytes
            if size < (32 << 10):
                return "lz4"
            if size < (256 << 10):
                return "zstd:3"
            if size < COMPRESS_MAX_BYTES:
                return "zstd:1"
            if _compressible(msg.batch):
                return "lz4"  # e.g. send_columns: RowIds and times shrink 2-4x, at ~1-2 GB/s
        return None

    def write(self, msg: Message) -> None:
        self.write_frames(_wire.encode(msg, self._compression_for(msg)), msg)

    def write_frames(self, frames: list, msg: Message | None = None) -> None:
        if self._fd is None:
            raise ValueError(f"{self.path} is closed")
        parts = record_bytes(frames)
        size = sum(len(memoryview(p)) for p in parts)
        entity, rows = None, 0
        if isinstance(msg, ChunkMsg):
            meta = msg.batch.schema.metadata or {}
            entity = meta.get(b"rz.entity_path", b"").decode() or None
            rows = msg.batch.num_rows
        kind = int(msg.kind) if msg is not None else int(_wire.peek_kind(bytes(frames[0][:4])))
        self._pending_index.append([self._pending_bytes, kind, entity, rows])
        self._pending.extend(parts)
        self._pending_bytes += size
        # one writev takes at most _IOV_MAX parts: a bigger group would go out in several writes,
        # which another process appending to the same file could interleave with (torn records)
        if self._pending_bytes >= self.buffer_bytes or len(self._pending) > _IOV_MAX - 8:
            self.flush()

    def pending_rows(self) -> int:
        """Rows in records buffered or being written, not yet known to be in the file. Reads without
        a lock on purpose: the thread that would hold it may be stuck in that very write."""
        return sum(entry[3] for entry in list(self._pending_index))

    def _write_all(self, parts: list) -> int:
        fd = self._fd
        if fd is None:
            raise ValueError(f"{self.path} is closed")
        views = [memoryview(p).cast("B") for p in parts]
        total = sum(len(v) for v in views)
        written = 0
        while views:
            n = os.writev(fd, views[:_IOV_MAX])
            written += n
            while views and n >= len(views[0]):
                n -= len(views[0])
                views.pop(0)
            if views and n:
                views[0] = views[0][n:]
        return total

    def flush(self) -> None:
        if self._fd is None or not self._pending:
            return
        total = self._write_all(self._pending)
        start = os.lseek(self._fd, 0, os.SEEK_CUR) - total
        for entry in self._pending_index:
            entry[0] += start
            self._index.append(entry)
        self._pending, self._pending_index, self._pending_bytes = [], [], 0

    def close(self) -> None:
        """Write what is buffered and the footer, then close; the file is closed even when a write
        fails (disk full), and that ``OSError`` is raised after."""
        if self._fd is None:
            return
        try:
            self.flush()
            self._write_all([footer_bytes(self._index)])
        finally:
            fd, self._fd = self._fd, None
            self._pending, self._pending_index, self._pending_bytes = [], [], 0
            os.close(fd)


@functools.lru_cache(maxsize=64)
def _lengths_struct(nframes: int) -> struct.Struct:
    return struct.Struct(f"<{nframes}Q")


class RrdReader:
    """Iterates the messages of an .rrd file (memory-mapped, zero-copy Arrow bodies).

    After iteration: ``complete`` (a valid footer was found), ``stopped_at`` (offset of the first
    byte not read when incomplete), ``error`` (why it stopped early), ``position`` (bytes read).
    """

    def __init__(self, source: str | os.PathLike | bytes) -> None:
        if isinstance(source, (bytes, bytearray, memoryview)):
            self.path = None
            self._buf = pa.py_buffer(bytes(source))
        else:
            self.path = Path(source)
            if not self.path.exists():
                raise FileNotFoundError(f"no such .rrd file: {self.path}")
            self._buf = pa.memory_map(str(self.path), "r").read_buffer()
        self.size = self._buf.size
        self.complete = False
        self.stopped_at: int | None = None
        self.error: str | None = None
        self.index: dict | None = None
        self.record_start = 0
        self.format_version, self.writer_version, self.position = self._read_header()

    def _read_header(self) -> tuple[int, str, int]:
        where = f" in {self.path}" if self.path else ""
        if self.size < _FILE_HEAD.size:
            raise RrdError(f"not an .rrd file{where}: {self.size} bytes is shorter than the header")
        magic, version, n = _FILE_HEAD.unpack_from(self._buf, 0)
        if magic != FILE_MAGIC:
            raise RrdError(f"not an .rrd file{where}: bad magic {magic!r}, expected {FILE_MAGIC!r}")
        if version > FORMAT_VERSION:
            raise RrdVersionError(
                f"file{where} has format version {version}, newer than this build reads "
                f"(format version {FORMAT_VERSION}); upgrade rerun-zmq to open it"
            )
        if version not in KNOWN_FORMAT_VERSIONS:
            raise RrdVersionError(f"file{where} has unknown format version {version} (known: {KNOWN_FORMAT_VERSIONS})")
        end = _FILE_HEAD.size + n
        if end > self.size:
            raise RrdError(f"truncated header{where}")
        writer = self._buf.slice(_FILE_HEAD.size, n).to_pybytes().decode("utf-8", "replace")
        return version, writer, end

    def _stop(self, offset: int, why: str) -> None:
        self.stopped_at = offset
        self.error = why

    def iter_frames(self) -> Iterator[list[pa.Buffer]]:
        """Yield each record's frames; stops (without raising) at a truncated or damaged record.

        ``record_start`` is the offset of the record just yielded.
        """
        buf, size = self._buf, self.size
        pos = self.position
        head, unpack_lengths = _REC_HEAD.unpack_from, _lengths_struct
        while pos < size:
            if size - pos < 2:
                return self._stop(pos, f"truncated record at byte {pos}")
            if size - pos < _REC_HEAD.size:
                if buf.slice(pos, 2).to_pybytes() == FOOTER_MAGIC:
                    self._read_footer(pos)  # too short for a footer: reports it damaged
                    return None
                return self._stop(pos, f"damaged or truncated record at byte {pos}")
            magic, nframes = head(buf, pos)
            if magic == FOOTER_MAGIC:
                after = self._read_footer(pos)
                if after is None:
                    return None
                pos = self.position = after
                continue
            if magic != RECORD_MAGIC:
                return self._stop(pos, f"damaged or truncated record at byte {pos}")
            if nframes == 0:  # every message has a header frame
                return self._stop(pos, f"damaged record at byte {pos}: no frames")
            lens_end = pos + _REC_HEAD.size + 8 * nframes
            if lens_end > size:
                return self._stop(pos, f"truncated record at byte {pos}")
            lengths = unpack_lengths(nframes).unpack_from(buf, pos + _REC_HEAD.size)
            if lens_end + sum(lengths) > size:
                return self._stop(pos, f"truncated record at byte {pos} (needs {sum(lengths)} body bytes)")
            frames, at = [], lens_end
            for n in lengths:
                frames.append(buf.slice(at, n))
                at += n
            self._record_start = self.record_start = pos
            pos = self.position = at
            self.complete = False
            yield frames
        if not self.complete:
            self._stop(pos, f"file ends at byte {pos} without a footer (the writer did not close it)")

    def _read_footer(self, pos: int) -> int | None:
        """Parse a footer at ``pos``; return the offset after it, or None if damaged.

        A footer in the middle of a file was written by one of several processes sharing it;
        the file is complete only when it ends with a valid footer.
        """
        try:
            (n,) = _U64.unpack_from(self._buf, pos + 2)
            if n > self.size - pos - 10 - _TRAILER.size:
                raise RrdError(f"index of {n} bytes runs past the end of the file")
            body = self._buf.slice(pos + 10, n).to_pybytes()
            length, magic = _TRAILER.unpack_from(self._buf, pos + 10 + n)
            if magic != TRAILER_MAGIC or length != 10 + n:
                raise RrdError("bad trailer")
            records = json.loads(body)["records"]
            if not isinstance(records, list):
                raise RrdError(f"index records must be a list, got {type(records).__name__}")
        except (struct.error, ValueError, KeyError, TypeError, RecursionError, RrdError) as exc:
            self._stop(pos, f"damaged footer at byte {pos}: {exc}")
            return None
        self.index = {"records": (self.index or {"records": []})["records"] + records}
        end = pos + 10 + n + _TRAILER.size
        self.complete = end == self.size
        return end

    def __iter__(self) -> Iterator[Message]:
        """Yield decoded messages; a record that does not decode stops the read with ``error`` set."""
        for frames in self.iter_frames():
            start = self._record_start
            try:
                yield _wire.decode([frames[0].to_pybytes(), *frames[1:]])
            except WireError as exc:
                self.complete = False
                self._stop(start, f"undecodable record at byte {start}: {exc}")
                return


def read_messages(source: str | os.PathLike | bytes) -> list[Message]:
    return list(RrdReader(source))
