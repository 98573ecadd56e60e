"""send_columns: many rows in one call, each index value a row, checked against what lands."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import rerun_zmq as rr

from .helpers import chunks, rows


def test_scalars_one_row_per_index(rec):
    steps = np.arange(1000)
    values = np.sin(steps / 10.0)
    rr.send_columns("plot", indexes=[rr.TimeColumn("step", sequence=steps)],
                    columns=rr.Scalars.columns(scalars=values))
    got = rows(rec, "/plot")
    assert [r["step"] for r in got] == list(range(1000))
    assert np.allclose([r["Scalars:scalars"][0] for r in got], values)
    (batch,) = chunks(rec)
    assert "log_time" not in batch.schema.names  # only the given indexes


def test_several_timelines_and_units(rec):
    secs = np.array([0.5, 1.5])
    stamps = np.array(["2024-01-01T00:00:00", "2024-01-01T00:00:01"], dtype="datetime64[ns]")
    rr.send_columns("a", indexes=[rr.TimeColumn("t", duration=secs), rr.TimeColumn("wall", timestamp=stamps),
                                  rr.TimeColumn("td", duration=[dt.timedelta(seconds=1), dt.timedelta(seconds=2)])],
                    columns=rr.Scalars.columns(scalars=[1.0, 2.0]))
    got = rows(rec, "/a")
    assert [r["t"] for r in got] == [500_000_000, 1_500_000_000]
    assert got[1]["wall"] - got[0]["wall"] == 1_000_000_000
    assert [r["td"] for r in got] == [1_000_000_000, 2_000_000_000]


def test_partition_gives_several_instances_per_row(rec):
    pos = np.arange(18, dtype=np.float32).reshape(6, 3)
    rr.send_columns("pts", indexes=[rr.TimeColumn("frame", sequence=[0, 1, 2])],
                    columns=rr.Points3D.columns(positions=pos).partition([1, 2, 3]))
    got = rows(rec, "/pts")
    assert [len(r["Points3D:positions"]) for r in got] == [1, 2, 3]
    assert got[2]["Points3D:positions"][0] == [9.0, 10.0, 11.0]


def test_length_mismatch_is_reported_and_nothing_half_logged(rec):
    with pytest.warns(rr.RerunZmqWarning, match="has 3 rows, but the time columns have 2"):
        rr.send_columns("bad", indexes=[rr.TimeColumn("step", sequence=[0, 1])],
                        columns=rr.Scalars.columns(scalars=[1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="lengths sum to 4"):
        rr.Scalars.columns(scalars=[1.0, 2.0, 3.0]).partition([2, 2])
    with pytest.raises(ValueError):
        rr.send_columns("bad", indexes=[rr.TimeColumn("step", sequence=[0, 1])],
                        columns=rr.Scalars.columns(scalars=[1.0]), strict=True)
    rr.log("good", rr.Scalars(1.0))
    assert [r["entity"] for r in rows(rec)] == ["/good"]


def test_time_column_needs_exactly_one_kind():
    with pytest.raises(TypeError, match="exactly one of"):
        rr.TimeColumn("x", sequence=[1], duration=[1.0])
    with pytest.raises(TypeError, match="sequence times must be integers"):
        rr.TimeColumn("x", sequence=[1.5])


def test_log_tick_on_request():
    stream = rr.new_recording("ticks")
    stream.log_tick = True
    sink = stream.memory_recording()
    stream.test_sink = sink
    for _ in range(3):
        stream.log("a", rr.Scalars(1.0))
    assert [r["log_tick"] for r in rows(stream)] == [1, 2, 3]
    stream.close()


def test_a_timeline_given_twice_is_refused_not_half_dropped(rec):
    """Index columns went into a dict by name: the first 't' column was dropped without a word."""
    with pytest.warns(rr.RerunZmqWarning, match="timeline 't' is given 2 times"):
        rr.send_columns("e", indexes=[rr.TimeColumn("t", sequence=[1, 2]), rr.TimeColumn("t", duration=[1.0, 2.0])],
                        columns=rr.Scalars.columns(scalars=[1.0, 2.0]))
    assert rows(rec, "/e") == []


@pytest.mark.parametrize("name", ["", 5, None])
def test_time_column_name_must_be_a_non_empty_str(name):
    with pytest.raises(TypeError, match="non-empty str"):
        rr.TimeColumn(name, sequence=[1])


def test_reserved_entity_path_is_refused_as_in_log(rec):
    with pytest.warns(rr.RerunZmqWarning, match="reserved"):
        rr.send_columns("__internal/x", indexes=[rr.TimeColumn("t", sequence=[1])],
                        columns=rr.Scalars.columns(scalars=[1.0]))
    assert rows(rec) == []


def test_empty_columns_are_accepted():
    assert rr.TimeColumn("t", sequence=[]).times.dtype == np.int64
    assert len(rr.TimeColumn("t", duration=[]).times) == 0
