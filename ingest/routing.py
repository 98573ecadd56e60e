"""Routing: a stable hash of the entity path picks one of 256 virtual shards, mapped onto N store shards.

Chunks that other entities' queries need (Transform3D, Pinhole, Clear, and AnnotationContext, which
descendants resolve their class ids through) go to every shard, so that each shard can resolve the
whole entity hierarchy on its own.
"""

from __future__ import annotations

import zlib

from rerun_zmq._chunk import ChunkInfo

VIRTUAL_SHARDS = 256
_HIERARCHY_ARCHETYPES = frozenset({"Transform3D", "Pinhole", "Clear", "AnnotationContext"})
_HIERARCHY_PREFIXES = ("Transform3D:", "Pinhole:", "Clear:", "AnnotationContext:")


def virtual_shard(entity_path: str) -> int:
    """Stable across processes and runs (unlike ``hash``): CRC-32 of the UTF-8 path, mod 256."""
    return zlib.crc32(entity_path.encode()) % VIRTUAL_SHARDS


def is_hierarchy_chunk(info: ChunkInfo) -> bool:
    if _HIERARCHY_ARCHETYPES.intersection(info.archetypes):
        return True
    return any(c.startswith(_HIERARCHY_PREFIXES) for c in info.components)


class ShardMap:
    """Virtual shard -> store shard (round-robin), and the shards a chunk must reach."""

    def __init__(self, num_shards: int) -> None:
        if num_shards < 1:
            raise ValueError(f"num_shards must be >= 1, got {num_shards}")
        self.num_shards = num_shards
        self.table = [v % num_shards for v in range(VIRTUAL_SHARDS)]

    def shard_of(self, entity_path: str) -> int:
        return self.table[virtual_shard(entity_path)]

    def targets(self, info: ChunkInfo) -> list[int]:
        if self.num_shards == 1:
            return [0]
        if is_hierarchy_chunk(info):
            return list(range(self.num_shards))
        return [self.shard_of(info.entity_path)]
