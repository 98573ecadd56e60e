"""The ingest killed (SIGKILL) and restarted on its port while producers log: every row is stored
(in one of the two ``--save`` files) or counted as dropped by the producer's policy."""

from __future__ import annotations

import signal

import pytest

from rerun_zmq._rrd import RrdReader
from rerun_zmq._wire import ChunkMsg

from .conftest import finish_producer, read_line, rows_by_entity, start_producer

ROWS = 20_000


def saved_rows(*paths) -> dict[str, set]:
    out: dict[str, set] = {}
    for path in paths:
        batches = [m.batch for m in RrdReader(path) if isinstance(m, ChunkMsg)]
        for entity, rows in rows_by_entity(batches).items():
            out.setdefault(entity, set()).update(rid for rid, _ in rows)
    return out


@pytest.mark.slow
def test_ingest_killed_and_restarted_numbers_add_up(ingest, tmp_path):
    a_path, b_path = tmp_path / "a.rrd", tmp_path / "b.rrd"
    a = ingest("--save", str(a_path), name="a")
    common = ["--rows", str(ROWS), "--rate", "6000", "--recording-id", "recr", "--report-half",
              "--flush-timeout", "60"]
    blocking = [start_producer(a.addr, f"block{k}", *common) for k in range(2)]
    dropping = start_producer(a.addr, "dropper", *common, "--policy", "drop_oldest", "--max-bytes", "32768")
    for p in [*blocking, dropping]:
        assert read_line(p) == "HALF"
    a.stop(signal.SIGKILL)
    b = ingest("--save", str(b_path), port=a.port, name="b")
    stats = {f"/block{k}": finish_producer(p) for k, p in enumerate(blocking)}
    stats["/dropper"] = finish_producer(dropping)
    assert b.stop() == 0
    stored = saved_rows(a_path, b_path)
    for entity, st in stats.items():
        assert st["flushed"], (entity, st)
        assert len(stored[entity]) + st["dropped_rows"] == ROWS, (entity, len(stored[entity]), st)
        assert st["undelivered_rows"] == 0
    for k in range(2):
        assert stats[f"/block{k}"]["dropped_rows"] == 0
    assert any(st["reconnects"] >= 1 for st in stats.values()), stats
