"""The "buffers" body form: a big record batch sent as its own Arrow buffers, without a copy.

An Arrow IPC stream body copies every buffer of the batch once more into one frame (~1 ms per
12 MB, plus growing its output). For big chunks the network sink sends instead:

- body frame 0: the schema, as an Arrow IPC schema message (small);
- body frame 1: the batch's small buffers packed together, each at an 8-byte aligned offset;
- body frames 2..: each big buffer as a frame of its own (sent zero-copy by ZeroMQ);

and the header's ``_layout`` says which bytes back which array node: ``{"rows": n, "cols": [node,
...]}`` with ``node = [length, [ref | null per buffer of the type], [child node, ...]]`` and
``ref = [body frame, start, size]``. The receiver rebuilds the arrays over the received frames
without copying and validates them fully (producers are untrusted): anything inconsistent is a
``WireError`` naming what was expected.

Only used towards an ingest that lists ``"buffers"`` in its ``ingest_info.body_forms``; files keep
the one-frame IPC body.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.ipc as ipc

LAYOUT = "_layout"
FORM = "buffers"
#: chunks smaller than this travel as one IPC frame (a few frames cost more than a small copy)
MIN_BYTES = 1 << 20
#: buffers at least this big get a frame of their own; smaller ones are packed (copied) together
OWN_FRAME = 64 << 10
MAX_FRAMES = 4096
_ALIGN = 8
_MAX_DEPTH = 64
_MAX_LENGTH = 1 << 40
_PAD = bytes(_ALIGN)
_FLAT_TYPES = (pa.string(), pa.binary(), pa.large_string(), pa.large_binary())


class _Unsuitable(Exception):
    """The batch holds something this form does not carry; it goes as an IPC stream."""


def supported(t: pa.DataType) -> bool:
    """Types whose buffers ``Array.from_buffers`` rebuilds exactly (no dictionaries, unions, views)."""
    t_ = pa.types
    if (t_.is_integer(t) or t_.is_floating(t) or t_.is_boolean(t) or t_.is_null(t) or t_.is_temporal(t)
            or t_.is_fixed_size_binary(t) or t_.is_decimal(t) or t in _FLAT_TYPES):
        return True
    if t_.is_list(t) or t_.is_large_list(t) or t_.is_fixed_size_list(t) or t_.is_struct(t) or t_.is_map(t):
        return all(supported(t.field(i).type) for i in range(t.num_fields))
    return False


def _children(arr: pa.Array) -> list[pa.Array]:
    t = arr.type
    if pa.types.is_struct(t):
        return [arr.field(i) for i in range(t.num_fields)]
    if t.num_fields:
        return [arr.values]  # list, large list, fixed-size list, map: the unsliced child
    return []


def split(batch: pa.RecordBatch) -> tuple[dict, list] | None:
    """``(layout, body frames)`` for ``batch``, or None when it should travel as an IPC stream
    (small, sliced, or holding a type this form does not carry)."""
    if batch.nbytes < MIN_BYTES:
        return None
    s = _Splitter()
    try:
        cols = [s.node(col, 0) for col in batch.columns]
    except _Unsuitable:
        return None
    sent = len(s.packed) + sum(b.size for b in s.big)
    if sent > 2 * batch.nbytes + OWN_FRAME or len(s.big) + 2 > MAX_FRAMES:
        return None  # buffers much bigger than the data they hold: the IPC writer trims them
    return {"rows": batch.num_rows, "cols": cols}, [batch.schema.serialize(), bytes(s.packed), *s.big]


class _Splitter:
    """The layout walk of ``split``. A class, not nested functions: a recursive closure is a reference
    cycle, and one holding the sent buffers kept every big frame alive until the garbage collector ran
    (a producer logging 12 MB frames grew by 12 MB a frame)."""

    def __init__(self) -> None:
        self.packed = bytearray()
        self.big: list[pa.Buffer] = []

    def ref(self, buf: pa.Buffer | None) -> list | None:
        if buf is None:
            return None
        if buf.size >= OWN_FRAME:
            self.big.append(buf)
            return [len(self.big) + 1, 0, buf.size]
        packed = self.packed
        start = len(packed)
        packed.extend(memoryview(buf))
        packed.extend(_PAD[: -len(packed) % _ALIGN])
        return [1, start, buf.size]

    def node(self, arr: pa.Array, depth: int) -> list:
        t = arr.type
        if arr.offset != 0 or depth > _MAX_DEPTH or not supported(t):
            raise _Unsuitable
        own = arr.buffers()[: t.num_buffers]
        return [len(arr), [self.ref(b) for b in own], [self.node(c, depth + 1) for c in _children(arr)]]


def join(layout: object, frames: list, error: type[Exception]) -> pa.RecordBatch:
    """Rebuild the record batch from ``_layout`` and the body frames; raises ``error`` naming what was
    wrong. The arrays are views of ``frames`` (no copy) and are fully validated."""
    if not isinstance(layout, dict) or not isinstance(layout.get("cols"), list):
        raise error(f'{LAYOUT} must be an object {{"rows": n, "cols": [...]}}, got {type(layout).__name__}')
    rows = layout.get("rows")
    if not _count(rows):
        raise error(f"{LAYOUT}.rows must be an integer in 0..2^40, got {rows!r:.40}")
    if len(frames) < 2 or len(frames) > MAX_FRAMES:
        raise error(f"a {FORM} body takes 2..{MAX_FRAMES} frames (schema, packed buffers, big buffers), "
                    f"got {len(frames)}")
    bufs = [b if isinstance(b, pa.Buffer) else pa.py_buffer(b) for b in frames]
    try:
        schema = ipc.read_schema(bufs[0])
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise error(f"{FORM} body frame 0 is not an Arrow IPC schema message: {exc}") from None
    cols = layout["cols"]
    if len(cols) != len(schema):
        raise error(f"{LAYOUT} describes {len(cols)} columns, the schema has {len(schema)}")
    j = _Joiner(bufs, error)
    arrays = [j.build(f.type, nd, 0) for f, nd in zip(schema, cols, strict=True)]
    if len(j.used) != len(bufs):
        raise error(f"{FORM} body frames {sorted(set(range(len(bufs))) - j.used)} are not referenced by {LAYOUT}")
    try:
        for f, arr in zip(schema, arrays, strict=True):
            if len(arr) != rows:
                raise ValueError(f"column {f.name!r} has {len(arr)} rows, expected {rows}")
        batch = pa.RecordBatch.from_arrays(arrays, schema=schema)
        batch.validate(full=True)
    except (pa.ArrowException, ValueError) as exc:
        raise error(f"record batch failed validation: {exc}") from None
    return batch


class _Joiner:
    """The layout walk of ``join`` (a class for the reason given on ``_Splitter``)."""

    def __init__(self, bufs: list[pa.Buffer], error: type[Exception]) -> None:
        self.bufs = bufs
        self.error = error
        self.used = {0, 1} if bufs[1].size == 0 else {0}

    def buffer(self, r: object) -> pa.Buffer | None:
        if r is None:
            return None
        error, bufs = self.error, self.bufs
        if not (isinstance(r, list) and len(r) == 3 and all(_count(x) for x in r)):
            raise error(f"a buffer reference must be null or [frame, start, size] of integers >= 0, got {r!r:.60}")
        k, start, size = r
        if not 1 <= k < len(bufs) or start + size > bufs[k].size:
            raise error(f"buffer reference {r} is outside the body frames ({len(bufs)} frames)")
        if start % _ALIGN:
            raise error(f"buffer reference {r} must start at a multiple of {_ALIGN} bytes")
        self.used.add(k)
        return bufs[k].slice(start, size)

    def build(self, t: pa.DataType, nd: object, depth: int) -> pa.Array:
        error = self.error
        if depth > _MAX_DEPTH or not supported(t):
            raise error(f"type {t} cannot travel in a {FORM} body")
        if not (isinstance(nd, list) and len(nd) == 3 and _count(nd[0])
                and isinstance(nd[1], list) and isinstance(nd[2], list)):
            raise error(f"an array node must be [length, [buffers], [children]], got {str(nd):.60}")
        length, refs, kids = nd
        if len(refs) != t.num_buffers or len(kids) != t.num_fields:
            raise error(f"an array of type {t} has {t.num_buffers} buffers and {t.num_fields} children, "
                        f"the layout gives {len(refs)} and {len(kids)}")
        children = [self.build(t.field(i).type, kid, depth + 1) for i, kid in enumerate(kids)]
        try:
            return pa.Array.from_buffers(t, length, [self.buffer(r) for r in refs], -1, 0, children=children or None)
        except (pa.ArrowException, ValueError, TypeError) as exc:
            raise error(f"cannot rebuild an array of type {t}: {exc}") from None


def _count(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < _MAX_LENGTH
