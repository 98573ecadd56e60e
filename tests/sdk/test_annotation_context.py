"""rr.AnnotationContext (every input form, bad input, chunk/wire/.rrd/send_columns round trips) and
rr.Radius / rr.Radius.ui_points."""

from __future__ import annotations

import numpy as np
import pytest

import rerun_zmq as rr
from rerun_zmq import _wire
from rerun_zmq.archetypes.annotation_context import CLASS_DESCRIPTION

from .helpers import chunks, rows

RED = 0xFF0000FF


def klass(cid, label=None, color=None, keypoints=(), pairs=()):
    return {
        "class_id": cid,
        "label": label,
        "color": color,
        "keypoint_annotations": [{"id": i, "label": lab, "color": col} for i, lab, col in keypoints],
        "keypoint_connections": [{"keypoint0": a, "keypoint1": b} for a, b in pairs],
    }


def context_of(arch) -> list[dict]:
    (batch,) = arch.as_component_batches()
    assert batch.key == "AnnotationContext:context"
    assert batch.data.type == CLASS_DESCRIPTION
    return batch.data.to_pylist()


SKELETON = rr.ClassDescription(
    info=rr.AnnotationInfo(id=2, label="person", color=(0, 255, 0)),
    keypoint_annotations=[rr.AnnotationInfo(0, "nose", (255, 0, 0)), (1, "eye"), rr.AnnotationInfo(id=2)],
    keypoint_connections=[(0, 1), rr.datatypes.KeypointPair(1, 2), np.array([0, 2])],
)

FORMS = [
    ([(1, "car")], [klass(1, "car")]),
    ([(1, "car", (255, 0, 0))], [klass(1, "car", RED)]),
    ([(1, "car", [1.0, 0.0, 0.0, 1.0]), (3, None, 0x00FF00FF)], [klass(1, "car", RED), klass(3, None, 0x00FF00FF)]),
    ([rr.AnnotationInfo(id=4, label="tree")], [klass(4, "tree")]),
    ([rr.datatypes.AnnotationInfo(5)], [klass(5)]),
    ([7, (8,)], [klass(7), klass(8)]),
    ((1, "one"), [klass(1, "one")]),  # a single tuple is one class
    (rr.AnnotationInfo(9, "nine"), [klass(9, "nine")]),
    ([], []),
    (
        [SKELETON],
        [
            klass(
                2, "person", 0x00FF00FF, [(0, "nose", RED), (1, "eye", None), (2, None, None)], [(0, 1), (1, 2), (0, 2)]
            )
        ],
    ),
    ([rr.datatypes.ClassDescriptionMapElem(class_id=6, class_description=(99, "six"))], [klass(6, "six")]),
    ([rr.datatypes.ClassDescription(info=(1, "a"))], [klass(1, "a")]),
    (  # MediaPipe style: keypoint connections as a frozenset
        rr.ClassDescription(
            info=rr.AnnotationInfo(id=1, label="Person"), keypoint_connections=frozenset({(1, 2), (0, 1)})
        ),
        [klass(1, "Person", pairs=[(0, 1), (1, 2)])],
    ),
]


@pytest.mark.parametrize(("given", "expected"), FORMS)
def test_input_forms(given, expected, strict):
    assert context_of(rr.AnnotationContext(given)) == expected


def test_passing_a_context_reuses_it(strict):
    ctx = rr.AnnotationContext([(1, "a")])
    assert context_of(rr.AnnotationContext(ctx)) == [klass(1, "a")]


BAD = [
    ([(1, "a", "red")], TypeError, "colors"),
    ([(70000, "big")], ValueError, "0..65535"),
    ([(-1, "neg")], ValueError, "0..65535"),
    ([(1, 2)], TypeError, "label"),
    (["car"], TypeError, "AnnotationInfo"),
    ("cars", TypeError, "sequence"),
    ({1: "a"}, TypeError, "sequence"),
    ([rr.ClassDescription(info=(1, "a"), keypoint_connections=[(0, 1, 2)])], TypeError, "KeypointPair"),
    ([rr.ClassDescription(info=(1, "a"), keypoint_annotations=[("x", "nose")])], TypeError, "integer"),
    ([(True, "bool")], TypeError, "integer"),
    (None, TypeError, "class descriptions"),
]


@pytest.mark.parametrize(("given", "exc", "needle"), BAD)
def test_bad_input_raises_in_strict_mode_naming_what_was_expected(given, exc, needle, strict):
    with pytest.raises(exc, match="AnnotationContext.context") as info:
        rr.AnnotationContext(given)
    assert needle in str(info.value)


def test_bad_input_warns_and_logs_nothing_otherwise(rec, lenient):
    with pytest.warns(rr.RerunZmqWarning, match=r"(?s)/seg.*AnnotationContext.*expected class descriptions"):
        rr.log("seg", rr.AnnotationContext([(1, "a", "red")]), static=True)
    assert rows(rec, "/seg") == []


def test_logged_static_as_one_row_of_class_instances(rec):
    rr.log("world", rr.AnnotationContext([(1, "car", (255, 0, 0)), SKELETON]), static=True)
    (batch,) = chunks(rec)
    meta = batch.schema.metadata
    assert meta[b"rz.is_static"] == b"1" and meta[b"rz.entity_path"] == b"/world"
    assert batch.schema.field("AnnotationContext:context").type.value_type == CLASS_DESCRIPTION
    (row,) = rows(rec, "/world")
    got = row["AnnotationContext:context"]
    assert [c["class_id"] for c in got] == [1, 2]
    assert got[1]["keypoint_connections"] == [{"keypoint0": 0, "keypoint1": 1}, {"keypoint0": 1, "keypoint1": 2},
                                              {"keypoint0": 0, "keypoint1": 2}]  # fmt: skip


def test_wire_round_trip(rec):
    rr.log("world", rr.AnnotationContext([(1, "car", (255, 0, 0))]), static=True)
    (batch,) = chunks(rec)
    back = _wire.decode(_wire.encode(_wire.ChunkMsg("rec", batch)))
    assert back.batch.equals(batch)


def test_rrd_round_trip_and_latest_at(tmp_path):
    path = tmp_path / "ann.rrd"
    rec = rr.new_recording("ann")
    rr.save(path, recording=rec)
    rr.log("world", rr.AnnotationContext([(1, "car", (255, 0, 0)), SKELETON]), static=True, recording=rec)
    rr.set_time_sequence("frame", 3, recording=rec)
    rr.log("world/pts", rr.Points2D([[0, 0]], class_ids=[1], keypoint_ids=[0]), recording=rec)
    rr.disconnect(recording=rec)
    store = rr.dataframe.load_recording(path).store
    cells = store.latest_at("/world", "frame", 10)
    got = cells["AnnotationContext:context"].values.to_pylist()
    assert got[0] == klass(1, "car", RED)
    assert got[1]["keypoint_annotations"][0] == {"id": 0, "label": "nose", "color": RED}
    assert cells["AnnotationContext:context"].time is None  # static


def test_send_columns_one_context_per_row(rec):
    cols = rr.AnnotationContext.columns(context=[[(1, "a")], [(1, "a"), (2, "b", (255, 0, 0))]])
    rr.send_columns("world", indexes=[rr.TimeColumn("frame", sequence=[0, 1])], columns=cols)
    got = [r["AnnotationContext:context"] for r in rows(rec, "/world")]
    assert [[c["class_id"] for c in row] for row in got] == [[1], [1, 2]]
    assert got[1][1]["color"] == RED
    with pytest.raises(TypeError, match="AnnotationContext.context"):
        rr.AnnotationContext.columns(context=[[(1, "a", "red")]])


def test_cleared_logs_an_empty_context(rec):
    rr.log("world", rr.AnnotationContext.cleared())
    (row,) = rows(rec, "/world")
    assert row["AnnotationContext:context"] == []


def test_exports():
    assert rr.archetypes.AnnotationContext is rr.AnnotationContext
    assert rr.datatypes.AnnotationInfo is rr.AnnotationInfo
    assert rr.datatypes.ClassDescription is rr.ClassDescription
    assert {"AnnotationContext", "AnnotationInfo", "ClassDescription", "Radius"} <= set(rr.__all__)
    assert "AnnotationInfo(id=1, label='a', color=None)" == repr(rr.AnnotationInfo(1, "a"))


# -- rr.Radius ----------------------------------------------------------------------------------


def test_radius_ui_points_is_negative():
    assert rr.components.Radius is rr.Radius
    assert rr.Radius.ui_points(3) == -3.0 and isinstance(rr.Radius.ui_points(3), rr.Radius)
    assert rr.Radius.ui_points(-2.5) == -2.5  # already UI points: kept
    got = rr.Radius.ui_points([1, -2, 0.5])
    assert got.dtype == np.float32 and got.tolist() == [-1.0, -2.0, -0.5]
    assert rr.Radius.ui_points(np.array([[1.0, 2.0]])).shape == (1, 2)
    with pytest.raises(TypeError, match="number"):
        rr.Radius.ui_points("big")
    assert float(rr.Radius(0.25)) == 0.25 and repr(rr.Radius(0.25)) == "Radius(0.25)"


def test_radius_values_are_accepted_wherever_radii_are(rec, strict):
    rr.log("p3", rr.Points3D([[0, 0, 0], [1, 1, 1]], radii=rr.Radius.ui_points([2, 3])))
    rr.log("p2", rr.Points2D([[0, 0]], radii=rr.Radius.ui_points(4)))
    rr.log("l3", rr.LineStrips3D([[[0, 0, 0], [1, 0, 0]]], radii=rr.Radius(0.1)))
    rr.log("b2", rr.Boxes2D(half_sizes=[[1, 1]], radii=[rr.Radius.ui_points(1), rr.Radius(0.5)]))
    got = {r["entity"]: r for r in rows(rec)}
    assert got["/p3"]["Points3D:radii"] == [-2.0, -3.0]
    assert got["/p2"]["Points2D:radii"] == [-4.0]
    assert got["/l3"]["LineStrips3D:radii"] == [pytest.approx(0.1)]
    assert got["/b2"]["Boxes2D:radii"] == [-1.0, 0.5]
