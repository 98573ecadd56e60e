"""Blueprints from code: the tree round-trips through JSON and is stored in recordings."""

from __future__ import annotations

import json

import pytest

import rerun_zmq as rr
import rerun_zmq.blueprint as rrb
from rerun_zmq._rrd import RrdReader
from rerun_zmq._wire import ChunkMsg

LAYOUT = rrb.Blueprint(
    rrb.Horizontal(
        rrb.Spatial3DView(origin="/world", name="3D"),
        rrb.Vertical(
            rrb.TimeSeriesView(origin="/motors", contents=["+ $origin/**", "- /motors/debug/**"]),
            rrb.TextLogView(name="Logs"),
            row_shares=[2, 1],
        ),
        rrb.Tabs(rrb.Spatial2DView(origin="/camera"), rrb.Spatial2DView(origin="/depth"), active_tab=1),
        column_shares=[3, 2, 2],
    ),
    rrb.TimePanel(expanded=False),
)


def test_json_round_trip_keeps_the_tree():
    data = LAYOUT.to_json()
    again = rrb.Blueprint.from_json(json.dumps(data))
    assert again.to_json() == data
    root = data["root"]
    assert root["type"] == "Horizontal" and root["properties"] == {"column_shares": [3, 2, 2]}
    assert [c["type"] for c in root["contents"]] == ["Spatial3DView", "Vertical", "Tabs"]
    assert root["contents"][1]["contents"][0]["contents"] == ["+ $origin/**", "- /motors/debug/**"]
    assert root["contents"][0]["origin"] == "/world" and root["contents"][0]["name"] == "3D"
    assert data["panels"] == {"TimePanel": False} and data["auto_layout"] is False


def test_bad_blueprints_say_what_was_expected():
    with pytest.raises(TypeError, match="holds views and containers"):
        rrb.Horizontal("not a view")
    with pytest.raises(ValueError, match="one root"):
        rrb.Blueprint(rrb.Spatial3DView(), rrb.TextLogView())
    with pytest.raises(ValueError, match="unknown blueprint node type"):
        rrb.Blueprint.from_json({"version": 1, "root": {"type": "Pie"}})


def _layouts(path):
    out = []
    for msg in RrdReader(path):
        if isinstance(msg, ChunkMsg) and msg.batch.schema.metadata[b"rz.entity_path"] == b"/__blueprint":
            out.append(json.loads(msg.batch.column("Blueprint:layout")[0][0].as_py()))
    return out


def test_send_blueprint_is_stored_in_the_file(tmp_path):
    rec = rr.new_recording("bp")
    rec.save(tmp_path / "bp.rrd")
    rr.send_blueprint(LAYOUT, recording=rec)
    rec.close()
    assert _layouts(tmp_path / "bp.rrd") == [LAYOUT.to_json()]


def test_init_default_blueprint_accepts_a_lone_view(tmp_path):
    rec = rr.new_recording("bp2")
    rec.save(tmp_path / "bp2.rrd")
    rr.save(tmp_path / "bp2.rrd", default_blueprint=rrb.Spatial3DView(origin="/robot"), recording=rec)
    rec.close()
    (layout,) = _layouts(tmp_path / "bp2.rrd")
    assert layout["root"] == {"type": "Spatial3DView", "origin": "/robot", "contents": ["+ $origin/**"]}
