"""Which shards a chunk reaches: its entity's, or every shard for data the hierarchy shares."""

from __future__ import annotations

import pytest

import rerun_zmq as rr
from ingest.routing import VIRTUAL_SHARDS, ShardMap, virtual_shard
from rerun_zmq._chunk import parse_chunk
from rerun_zmq._wire import ChunkMsg


def _chunk_info(path, archetype, static=False):
    rec = rr.new_recording("routing")
    sink = rec.memory_recording()
    rec.log(path, archetype, static=static)
    rec.flush()
    (batch,) = [m.batch for m in sink.messages() if isinstance(m, ChunkMsg)]
    rec.close()
    return parse_chunk(batch)


@pytest.mark.parametrize("archetype", [
    rr.Transform3D(translation=[1, 2, 3]),
    rr.Pinhole(focal_length=100.0, resolution=[64, 48]),
    rr.Clear(recursive=True),
    rr.AnnotationContext([(1, "robot", (255, 0, 0))]),
])
def test_hierarchy_data_reaches_every_shard(archetype):
    info = _chunk_info("world/robot", archetype, static=True)
    assert ShardMap(3).targets(info) == [0, 1, 2]
    assert ShardMap(1).targets(info) == [0]


def test_other_data_reaches_its_entitys_shard_only():
    shards = ShardMap(3)
    info = _chunk_info("world/robot/points", rr.Points3D([[0, 0, 0]]))
    assert shards.targets(info) == [shards.shard_of("/world/robot/points")]
    assert 0 <= virtual_shard("/world/robot/points") < VIRTUAL_SHARDS
    assert virtual_shard("/a") == virtual_shard("/a")  # stable (CRC-32), not Python's salted hash


def test_a_shard_map_needs_a_shard():
    with pytest.raises(ValueError, match="num_shards must be >= 1"):
        ShardMap(0)
