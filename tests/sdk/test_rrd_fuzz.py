"""RrdReader over damaged files: truncated at every byte, corrupted bytes, hostile footers.

Reading may stop early but must never raise past the header: it yields the records it could read
and says where and why it stopped.
"""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rerun_zmq import _rrd, _wire

from .test_wire import MESSAGES, ONE_CHUNK


def _file_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("fuzz") / "a.rrd"
    w = _rrd.RrdWriter(path)
    for m in [*MESSAGES, _wire.ChunkMsg("rec-1", ONE_CHUNK)]:
        w.write(m)
    w.close()
    w2 = _rrd.RrdWriter(path, append=True)  # a second writer's records and footer after the first
    w2.write(_wire.ChunkMsg("rec-1", ONE_CHUNK))
    w2.close()
    return path.read_bytes()


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    return _file_bytes(tmp_path_factory)


def _read(data: bytes) -> tuple[_rrd.RrdReader, list]:
    reader = _rrd.RrdReader(data)
    return reader, list(reader)


def _footer(index_json: bytes) -> bytes:
    body = _rrd.FOOTER_MAGIC + struct.pack("<Q", len(index_json)) + index_json
    return body + struct.pack("<Q8s", len(body), _rrd.TRAILER_MAGIC)


def test_every_truncation_stops_and_reports(good):
    reader, full = _read(good)
    assert reader.complete and len(full) == len(MESSAGES) + 2
    head = len(_rrd.file_header())
    for cut in range(head, len(good)):
        reader, msgs = _read(good[:cut])
        if good[:cut].endswith(_rrd.TRAILER_MAGIC):  # cut just after the first writer's footer: a whole file
            assert reader.complete and reader.error is None and len(msgs) == len(full) - 1
            continue
        assert not reader.complete, cut
        assert reader.error and reader.stopped_at is not None and reader.stopped_at <= cut, cut
        assert len(msgs) <= len(full)
        assert [type(m) for m in msgs] == [type(m) for m in full[: len(msgs)]], cut
    for cut in range(head):
        with pytest.raises(_rrd.RrdError):
            _rrd.RrdReader(good[:cut])


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_corrupted_bytes_never_raise(good, data):
    buf = bytearray(good)
    head = len(_rrd.file_header())
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(head, len(buf) - 1))
        buf[at] = data.draw(st.integers(0, 255))
    reader, msgs = _read(bytes(buf))
    assert len(msgs) <= len(MESSAGES) + 2
    assert reader.complete or reader.error


@pytest.mark.parametrize("index", [
    b'{"records": 5}', b'{"records": "ab"}', b'{"records": {}}', b"[]", b"\xff\xfe", b"[" * 100_000, b"null",
])
def test_hostile_footer_index_is_reported(index):
    reader, msgs = _read(_rrd.file_header() + _footer(index))
    assert msgs == [] and not reader.complete and "damaged footer" in reader.error


@pytest.mark.parametrize("n", [2**63, 2**64 - 5, 10**6])
def test_footer_length_past_the_end_is_reported(n):
    reader, _ = _read(_rrd.file_header() + _rrd.FOOTER_MAGIC + struct.pack("<Q", n) + b"x" * 20)
    assert not reader.complete and "damaged footer" in reader.error


def test_footer_in_the_middle_then_records_is_incomplete(good):
    reader, msgs = _read(good + b"".join(bytes(p) for p in _rrd.record_bytes(
        _wire.encode(_wire.ChunkMsg("rec-1", ONE_CHUNK)))))
    assert len(msgs) == len(MESSAGES) + 3 and not reader.complete
    assert "without a footer" in reader.error


def test_empty_index_footer_only_file_is_complete():
    reader, msgs = _read(_rrd.file_header() + _footer(json.dumps({"records": []}).encode()))
    assert msgs == [] and reader.complete and reader.error is None
