"""Delivery: many producers at once, exactly once; a killed producer; shutdown, port and --save."""

from __future__ import annotations

import signal
import socket

import pytest

from ingest.client import IngestClient
from rerun_zmq._rrd import RrdReader
from rerun_zmq._wire import ChunkMsg, Hello

from .conftest import finish_producer, read_line, rows_by_entity, start_producer

N_ROWS = 10_000


def stored_rows(addr: str, recording_id: str) -> dict[str, list]:
    with IngestClient(addr) as client:
        _, batches = client.chunks(recording_id)
    return rows_by_entity(batches)


def test_eight_producers_every_row_exactly_once(ingest):
    ing = ingest()
    procs = [start_producer(ing.addr, f"p{k}", "--rows", str(N_ROWS), "--recording-id", "rec8")
             for k in range(8)]
    stats = [finish_producer(p) for p in procs]
    assert all(s["flushed"] and s["dropped_rows"] == 0 and s["rejected_rows"] == 0 for s in stats)
    assert [s["acked_rows"] for s in stats] == [N_ROWS] * 8
    rows = stored_rows(ing.addr, "rec8")
    assert sorted(rows) == [f"/p{k}" for k in range(8)]
    for entity, got in rows.items():
        assert len(got) == N_ROWS, entity
        assert len({rid for rid, _ in got}) == N_ROWS, f"{entity}: duplicate row ids"
        assert sorted(step for _, step in got) == list(range(N_ROWS)), entity
    assert ing.stop() == 0


def test_sigkilled_producer_does_not_disturb_the_others(ingest, tmp_path):
    ing = ingest()
    victim = start_producer(ing.addr, "victim", "--rows", "20000", "--recording-id", "reck",
                            "--pause-file", str(tmp_path / "never"))
    others = [start_producer(ing.addr, f"ok{k}", "--rows", str(N_ROWS), "--recording-id", "reck")
              for k in range(3)]
    assert read_line(victim) == "HALF"  # half of its rows are acknowledged; now it dies mid-stream
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    for p in others:
        assert finish_producer(p)["acked_rows"] == N_ROWS
    rows = stored_rows(ing.addr, "reck")
    for k in range(3):
        assert len(rows[f"/ok{k}"]) == N_ROWS
        assert len({rid for rid, _ in rows[f"/ok{k}"]}) == N_ROWS
    assert len(rows["/victim"]) >= 10_000
    assert ing.stop() == 0


def test_sigterm_frees_the_port_and_leaves_a_complete_save_file(ingest, tmp_path):
    path = tmp_path / "out.rrd"
    ing = ingest("--save", str(path))
    p = start_producer(ing.addr, "saved", "--rows", "5000", "--recording-id", "recs")
    assert finish_producer(p)["acked_rows"] == 5000
    assert ing.stop(signal.SIGTERM) == 0
    with socket.socket() as s:  # the port is free again
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        s.bind(("127.0.0.1", ing.port))
    reader = RrdReader(path)
    msgs = list(reader)
    assert reader.complete, reader.error
    assert any(isinstance(m, Hello) for m in msgs)
    chunks = [m for m in msgs if isinstance(m, ChunkMsg)]
    assert sum(m.batch.num_rows for m in chunks) == 5000


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_idle_ingest_stops_on_signal(ingest, sig):
    ing = ingest()
    assert ing.stop(sig) == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", ing.port))


def test_second_signal_forces_exit_and_still_frees_the_port(ingest, tmp_path):
    ing = ingest("--save", str(tmp_path / "forced.rrd"))
    ing.proc.send_signal(signal.SIGTERM)
    assert ing.stop(signal.SIGTERM) == 0
    assert "forcing exit" in ing.log_text() or "ingest stopped" in ing.log_text()
    assert RrdReader(tmp_path / "forced.rrd").__iter__() is not None
    with socket.socket() as s:
        s.bind(("127.0.0.1", ing.port))
