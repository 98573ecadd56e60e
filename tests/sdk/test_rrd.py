"""The .rrd file: round trip, truncation, versions, shared appends, and the rrd CLI."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import pytest

from rerun_zmq import _rrd, _wire
from rerun_zmq._rrd_tools import main as rrd_main
from rerun_zmq._rrd_tools import stats

from .test_wire import MESSAGES, ONE_CHUNK


def _write(path, msgs, close=True):
    w = _rrd.RrdWriter(path)
    for m in msgs:
        w.write(m)
    w.flush()
    if close:
        w.close()
    return w


def test_round_trip_every_message(tmp_path):
    path = tmp_path / "a.rrd"
    _write(path, MESSAGES)
    reader = _rrd.RrdReader(path)
    back = list(reader)
    assert reader.complete and reader.error is None
    assert [type(m) for m in back] == [type(m) for m in MESSAGES]
    assert back[1].batch.equals(ONE_CHUNK)
    assert reader.format_version == _rrd.FORMAT_VERSION
    assert reader.writer_version.startswith("rerun-zmq")
    assert len(reader.index["records"]) == len(MESSAGES)


def test_truncated_file_yields_complete_records_and_says_where(tmp_path):
    path = tmp_path / "t.rrd"
    _write(path, [MESSAGES[0]] + [_wire.ChunkMsg("rec-1", ONE_CHUNK)] * 5, close=False)
    full = path.read_bytes()
    cut = len(full) - 10
    path.write_bytes(full[:cut])
    reader = _rrd.RrdReader(path)
    msgs = list(reader)
    assert len(msgs) == 5  # hello + 4 whole chunks
    assert not reader.complete
    assert reader.stopped_at is not None and reader.stopped_at < cut
    assert "truncated" in reader.error
    assert rrd_main(["verify", str(path)]) == 1


def test_unclosed_file_is_incomplete_but_readable(tmp_path):
    path = tmp_path / "u.rrd"
    _write(path, MESSAGES[:3], close=False)
    reader = _rrd.RrdReader(path)
    assert len(list(reader)) == 3
    assert not reader.complete and "without a footer" in reader.error


def test_newer_format_version_is_refused_naming_both(tmp_path):
    path = tmp_path / "new.rrd"
    _write(path, MESSAGES[:1])
    data = bytearray(path.read_bytes())
    struct.pack_into("<H", data, 6, _rrd.FORMAT_VERSION + 1)
    path.write_bytes(bytes(data))
    with pytest.raises(_rrd.RrdVersionError) as err:
        _rrd.RrdReader(path)
    assert f"format version {_rrd.FORMAT_VERSION + 1}" in str(err.value)
    assert f"format version {_rrd.FORMAT_VERSION})" in str(err.value)


def test_not_an_rrd(tmp_path):
    path = tmp_path / "x.rrd"
    path.write_bytes(b"hello world, not a recording")
    with pytest.raises(_rrd.RrdError, match="bad magic"):
        _rrd.RrdReader(path)


def test_forked_writer_appends_whole_records(tmp_path):
    path = tmp_path / "shared.rrd"
    w = _rrd.RrdWriter(path)
    w.write(MESSAGES[0])
    w.flush()
    pid = os.fork()
    if pid == 0:  # child: its own file description, its own footer
        try:
            w.reopen_after_fork()
            for _ in range(50):
                w.write(_wire.ChunkMsg("rec-1", ONE_CHUNK, seq=1))
                w.flush()
            w.close()
        finally:
            os._exit(0)
    for _ in range(50):
        w.write(_wire.ChunkMsg("rec-1", ONE_CHUNK, seq=2))
        w.flush()
    os.waitpid(pid, 0)
    w.close()
    reader = _rrd.RrdReader(path)
    msgs = list(reader)
    assert reader.complete, reader.error
    seqs = [m.seq for m in msgs if isinstance(m, _wire.ChunkMsg)]
    assert sorted(seqs) == [1] * 50 + [2] * 50
    assert len(reader.index["records"]) == 101


def test_merge_and_stats_cli(tmp_path, capsys):
    a, b, out = tmp_path / "a.rrd", tmp_path / "b.rrd", tmp_path / "m.rrd"
    _write(a, MESSAGES[:2])
    _write(b, [_wire.Hello("app", "rec-1", "prod-2"), _wire.ChunkMsg("rec-1", ONE_CHUNK)])
    assert rrd_main(["merge", str(out), str(a), str(b)]) == 0
    s = stats(str(out))
    assert s["rows"] == 4 and s["chunks"] == 2 and s["complete"]
    assert s["producers"] == 2 and len(s["recordings"]) == 1
    assert s["entities"] == ["/a/b"] and s["timelines"] == {"frame": "sequence"}
    capsys.readouterr()
    assert rrd_main(["stats", "--json", str(out)]) == 0
    parsed = json.loads(capsys.readouterr().out)
    keys = ("format_version", "writer_version", "recordings", "entities", "timelines", "rows", "chunks", "complete")
    for key in keys:
        assert key in parsed
    assert rrd_main(["print", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "CHUNK /a/b rows=2" in printed and "# complete" in printed
    assert rrd_main(["verify", str(out)]) == 0


def test_cli_entry_point_reports_bad_file(tmp_path, subprocess_env):
    bad = tmp_path / "bad.rrd"
    bad.write_bytes(b"nope")
    proc = subprocess.run([sys.executable, "-m", "rerun_zmq", "rrd", "verify", str(bad)],
                          capture_output=True, text=True, env=subprocess_env, timeout=60)
    assert proc.returncode == 2 and "not an .rrd file" in proc.stderr


def test_big_chunks_compress_only_when_a_sample_shrinks(tmp_path):
    import numpy as np
    import pyarrow as pa

    from rerun_zmq._chunk import build_chunk

    n = 1 << 19  # 8 MiB of RowIds: over the size where zstd is used
    rids = np.stack([np.full(n, 1_700_000_000_000_000_000), np.arange(n)], 1).astype(np.uint64)
    seq = build_chunk("/s", rids, {"t": ("sequence", np.arange(n))},
                      {"Scalars:scalars": (pa.float64(), pa.array(np.zeros(n)), np.ones(n, np.int64))}, ["S"], False)
    noise = np.random.default_rng(0).random((n, 3), dtype=np.float32)
    cloud = build_chunk("/c", rids[:1], {"t": ("sequence", np.arange(1))},
                        {"Points3D:positions": (pa.list_(pa.float32(), 3),
                                                pa.FixedSizeListArray.from_arrays(pa.array(noise.reshape(-1)), 3),
                                                np.array([n]))}, ["Points3D"], False)
    w = _rrd.RrdWriter(tmp_path / "big.rrd")
    assert w._compression_for(_wire.ChunkMsg("r", seq)) == "lz4"
    assert w._compression_for(_wire.ChunkMsg("r", cloud)) is None
    w.write(_wire.ChunkMsg("r", seq))
    w.write(_wire.ChunkMsg("r", cloud))
    w.close()
    back = [m.batch for m in _rrd.RrdReader(tmp_path / "big.rrd") if isinstance(m, _wire.ChunkMsg)]
    assert back[0].equals(seq) and back[1].equals(cloud)
    assert (tmp_path / "big.rrd").stat().st_size < seq.nbytes + cloud.nbytes


def test_merge_into_one_of_its_inputs_is_refused_and_the_input_kept(tmp_path, capsys):
    """The output used to be truncated before the inputs were read: the input's data was destroyed."""
    a, b = tmp_path / "a.rrd", tmp_path / "b.rrd"
    _write(a, MESSAGES[:2])
    _write(b, [_wire.ChunkMsg("rec-1", ONE_CHUNK)])
    before = a.read_bytes()
    assert rrd_main(["merge", str(a), str(a), str(b)]) == 2
    assert "also one of its inputs" in capsys.readouterr().err
    assert a.read_bytes() == before


def test_merge_with_an_unreadable_input_creates_no_output(tmp_path, capsys):
    a, bad, out = tmp_path / "a.rrd", tmp_path / "bad.rrd", tmp_path / "m.rrd"
    _write(a, MESSAGES[:2])
    bad.write_bytes(b"nope")
    assert rrd_main(["merge", str(out), str(a), str(bad)]) == 2
    assert "not an .rrd file" in capsys.readouterr().err
    assert not out.exists()


def test_each_flush_is_one_writev_even_with_many_small_records(tmp_path, monkeypatch):
    """Forked writers share the file through O_APPEND: a group of records must go out in a single
    writev, or another process's records can land between its halves. More than 1024 parts
    (IOV_MAX) used to be split over several calls."""
    calls: list[int] = []
    real = os.writev
    monkeypatch.setattr(_rrd.os, "writev", lambda fd, views: calls.append(len(views)) or real(fd, views))
    w = _rrd.RrdWriter(tmp_path / "many.rrd", buffer_bytes=1 << 30)
    writes_per_group = []
    real_write_all = w._write_all

    def one_group(parts):
        before = len(calls)
        out = real_write_all(parts)
        writes_per_group.append(len(calls) - before)
        return out

    w._write_all = one_group
    for i in range(2000):
        w.write(_wire.Ack(seq=i))
    w.close()
    assert len(writes_per_group) > 2 and set(writes_per_group) == {1}
    reader = _rrd.RrdReader(tmp_path / "many.rrd")
    assert len(list(reader)) == 2000 and reader.complete
    offsets = [r[0] for r in reader.index["records"]]
    assert offsets == sorted(offsets) and len(offsets) == 2000
