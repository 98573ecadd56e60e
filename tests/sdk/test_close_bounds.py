"""close / flush / disconnect / interpreter exit keep their time bound while a sink is stuck, and say what is lost.

A sink can stay inside ``send`` as long as it likes: a network sink waiting for room under the
``block`` policy while the ingest grants no credit or has gone silent, or a file on a stalled disk.
Every blocking call here runs on a helper thread joined with a bound, so code that waits for the
stuck sink fails the test instead of hanging it. The row counts in the warnings must add up to
exactly the rows that were lost: nothing unsaid, nothing said twice.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import threading
import time
import warnings

import pytest

import rerun_zmq as rr
from rerun_zmq import _wire
from rerun_zmq._net_sink import NetworkSink
from rerun_zmq._rrd import RrdReader
from rerun_zmq._sinks import BufferedSink, FileSink, MemorySink
from rerun_zmq._wire import Ack, ChunkMsg, Credit, Hello
from tests.ingest.conftest import ROOT, read_line
from tests.ingest.test_sink_protocol import FakeIngest

#: how much longer than its timeout a call may take (thread wake-ups, a sink letting go)
SLACK = 4.0
ROWS = 200
#: ``rr.disconnect()``'s bound (``_recording.CLOSE_TIMEOUT``, written out so the old code can fail on it)
CLOSE_TIMEOUT = 10.0
#: ten rows a chunk: ~1.5 kB each, so a 4 kB window holds two and the third ``send`` waits for room
CHUNKED = rr.BatcherConfig(flush_num_rows=10)


@pytest.fixture
def fake():
    f = FakeIngest()
    yield f
    f.close()


class WatchedSink(NetworkSink):
    """A network sink that says when ``send`` starts waiting for room (its ``max_bytes_in_flight`` is full)."""

    def __init__(self, *args, **kwargs) -> None:
        self.waiting = threading.Event()
        super().__init__(*args, **kwargs)

    def _make_room(self, size: int) -> None:
        if self._queued_bytes + size > self.max_bytes_in_flight and (self._unsent or self._inflight):
            self.waiting.set()
        super()._make_room(size)


class StuckSink(MemorySink):
    """A sink whose ``send`` of a chunk does not return until ``gate`` is set (there is no timeout)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.entered = threading.Event()

    def send(self, msg) -> None:
        if isinstance(msg, ChunkMsg):
            self.entered.set()
            self.gate.wait()
        super().send(msg)


def stalled_recording(fake: FakeIngest, rid: str) -> tuple[rr.RecordingStream, WatchedSink]:
    """A recording streaming to ``fake`` with the ``block`` policy and a window of two chunks.

    The block and flush timeouts are long: the sink itself would wait for minutes."""
    rec = rr.RecordingStream("close_bounds", recording_id=rid, batcher_config=CHUNKED)
    sink = WatchedSink(fake.addr, policy="block", max_bytes_in_flight=4_000, block_timeout_sec=600,
                       flush_timeout_sec=600)
    rec.set_sink(sink)
    return rec, sink


def log_rows(rec: rr.RecordingStream, n: int = ROWS) -> None:
    for i in range(n):
        rec.set_time("step", sequence=i)
        rec.log("s", rr.Scalars(float(i)))


def returns_within(bound: float, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on a daemon thread; its result, or a failure if it still runs after ``bound`` s."""
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the test's thread
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(bound)
    assert not t.is_alive(), f"{fn.__qualname__} was still blocked after {bound} s"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def warnings_of(bound: float, fn, *args, **kwargs) -> list[str]:
    """Run ``fn`` with ``returns_within(bound, ...)``; the warnings it gave, as text."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        returns_within(bound, fn, *args, **kwargs)
    return [str(w.message) for w in caught]


def rows_said(messages: list[str]) -> int:
    """The rows the warnings say were lost, added up."""
    return sum(int(n) for m in messages for n in re.findall(r"(\d+) rows", m))


def test_close_returns_in_time_when_the_ingest_never_grants_credit(fake):
    """The ingest takes HELLO and never answers: ``send`` waits for room (for 10 minutes); close(1.0) does not."""
    rec, sink = stalled_recording(fake, "never-credit")
    log_rows(rec)
    fake.recv(Hello)
    assert sink.waiting.wait(10)
    said = warnings_of(1.0 + SLACK, rec.close, timeout=1.0)
    assert any("closed after 1.0 s" in m and "that data is lost" in m for m in said), said
    assert rows_said(said) == ROWS, said
    assert isinstance(rec.sink, BufferedSink)
    assert sink.stats.acked_rows == 0 and sink.stats.undelivered_rows == 0  # nothing was ever sent
    assert sink.flush(30) is False  # closed: says so at once


def test_close_returns_in_time_when_the_ingest_goes_silent(fake):
    """The ingest grants credit, takes a chunk and goes silent: sent rows are 'may be lost', the rest lost."""
    rec, sink = stalled_recording(fake, "silent")
    log_rows(rec)
    ident, _ = fake.recv(Hello)
    fake.send(ident, _wire.encode(Ack(0, 0, 0)))
    fake.send(ident, _wire.encode(Credit(1 << 20)))
    fake.recv(ChunkMsg)  # data reached the ingest, which says nothing from now on
    assert sink.waiting.wait(10)
    said = warnings_of(1.0 + SLACK, rec.close, timeout=1.0)
    assert any("closed after 1.0 s" in m for m in said), said
    assert any("sent but not confirmed" in m for m in said), said
    assert rows_said(said) == ROWS, said
    assert sink.stats.undelivered_rows >= 10  # the chunk the fake received, at least
    assert sink.stats.dropped_rows + sink.stats.undelivered_rows <= ROWS


def test_disconnect_returns_in_time_and_counts_what_is_lost(fake):
    """``rr.disconnect()`` has no timeout argument: it is bounded by ``CLOSE_TIMEOUT`` (10 s)."""
    rec, sink = stalled_recording(fake, "disconnect")
    log_rows(rec)
    fake.recv(Hello)
    assert sink.waiting.wait(10)
    said = warnings_of(CLOSE_TIMEOUT + SLACK, rr.disconnect, recording=rec)
    assert any(f"disconnected after {CLOSE_TIMEOUT} s" in m for m in said), said
    assert rows_said(said) == ROWS, said
    assert isinstance(rec.sink, BufferedSink)
    rec.close(timeout=5)


def test_flush_returns_in_time_while_the_sink_is_stuck_in_send():
    rec = rr.RecordingStream("close_bounds", recording_id="flush-stuck")
    sink = StuckSink()
    rec.set_sink(sink)
    try:
        rec.log("e", rr.Scalars(1.0))
        assert sink.entered.wait(10)
        with pytest.warns(rr.RerunZmqWarning, match="timed out after 1.0 s"):
            assert returns_within(1.0 + SLACK, rec.flush, timeout=1.0) is False
    finally:
        sink.gate.set()
    assert rec.flush(timeout=10)
    rec.close(timeout=10)


def test_close_returns_in_time_while_a_file_is_on_a_stalled_disk(tmp_path):
    """The disk stops taking writes (the writer's writev never returns): close says how many rows are not
    written, returns, and a later close still completes the file once the disk is back."""
    path = tmp_path / "stalled.rrd"
    rec = rr.RecordingStream("close_bounds", recording_id="disk", batcher_config=CHUNKED)
    sink = FileSink(path)
    rec.set_sink(sink)
    write_all = sink._writer._write_all
    stalled, disk_back = threading.Event(), threading.Event()

    def stalled_write_all(parts):
        stalled.set()
        disk_back.wait()
        return write_all(parts)

    sink._writer._write_all = stalled_write_all
    try:
        log_rows(rec)
        assert stalled.wait(10)
        said = warnings_of(1.0 + SLACK, rec.close, timeout=1.0)
        assert any("closed after 1.0 s" in m and "stuck" in m for m in said), said
        assert rows_said(said) == ROWS, said
    finally:
        disk_back.set()
    rec.close(timeout=10)
    reader = RrdReader(path)
    rows = sum(m.batch.num_rows for m in reader if isinstance(m, ChunkMsg))  # (iterating sets ``complete``)
    assert reader.complete and rows == ROWS


CHILD = """
import sys
import rerun_zmq as rr
rr.init("close_bounds", recording_id="exit-bound")
rr.connect(sys.argv[1], policy="block", max_bytes_in_flight=4_000, block_timeout_sec=600, flush_timeout_sec=600)
other = rr.new_recording("close_bounds_file", recording_id="exit-file")
other.save(sys.argv[2])
for i in range(int(sys.argv[3])):
    rr.set_time("step", sequence=i)
    rr.log("s", rr.Scalars(float(i)))
    other.set_time("step", sequence=i)
    other.log("s", rr.Scalars(float(i)))
print("LOGGED", flush=True)
"""


def test_interpreter_exit_is_bounded_while_the_ingest_grants_no_credit(fake, subprocess_env, tmp_path):
    """A program that logs to a stalled ingest and ends normally exits within RERUN_ZMQ_EXIT_TIMEOUT_SECS,
    says on stderr how many rows are lost, and its other recording's file is still complete."""
    env = {**subprocess_env, "RERUN_ZMQ_EXIT_TIMEOUT_SECS": "1", "RERUN_ZMQ_FLUSH_NUM_ROWS": "10",
           "PYTHONWARNINGS": "default"}
    path = tmp_path / "other.rrd"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, fake.addr, str(path), str(ROWS)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert read_line(proc) == "LOGGED"
        start = time.monotonic()
        try:
            _, err = proc.communicate(timeout=1.0 + SLACK)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the program was still exiting {1.0 + SLACK} s after its last line")
        took = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    said = [line for line in err.splitlines() if "RerunZmqWarning" in line]
    assert any("closed after" in m and "that data is lost" in m for m in said), err
    assert rows_said(said) == ROWS, err
    reader = RrdReader(path)
    rows = sum(m.batch.num_rows for m in reader if isinstance(m, ChunkMsg))  # (iterating sets ``complete``)
    assert reader.complete and rows == ROWS, "the healthy recording's file lost data at exit"
    assert took < 1.0 + SLACK


def test_a_disk_full_at_close_is_warned_with_the_rows_lost_and_the_file_still_loads(tmp_path, monkeypatch):
    """Closing used to raise the OSError out of ``rec.close()`` and leave the file descriptor open."""
    from rerun_zmq import _rrd

    path = tmp_path / "full.rrd"
    rec = rr.new_recording("full", recording_id="full")
    rec.save(path)
    rec.log("a", rr.Scalars(1.0))
    rec.flush()
    sink = rec.sink
    sink.flush()
    fds_before = len(os.listdir("/proc/self/fd"))
    rec.log("b", rr.Scalars(2.0))

    def disk_full(fd, views):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_rrd.os, "writev", disk_full)
    lost = r"could not finish .*full\.rrd.*No space left.*1 rows buffered for it are lost"
    with pytest.warns(rr.RerunZmqWarning, match=lost) as caught:
        rec.close(timeout=5)
    said = [str(w.message) for w in caught]
    assert not any("after 5" in m for m in said), said  # it failed at once: no time ran out
    monkeypatch.undo()
    assert len(os.listdir("/proc/self/fd")) < fds_before  # the file is closed all the same
    reader = RrdReader(path)
    entities = {m.batch.schema.metadata[b"rz.entity_path"].decode() for m in reader if isinstance(m, ChunkMsg)}
    assert entities == {"/a"} and not reader.complete
