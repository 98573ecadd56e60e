"""One module per archetype: a ``build(scene, path, cells, world)`` turning latest-at cells into
world-space draw arrays, and the GL renderer that draws them (points, line segments, grid)."""

from __future__ import annotations

from . import arrows3d, boxes3d, linestrips3d, points3d

#: archetype name -> scene builder
ARCHETYPE_BUILDERS = {
    "Points3D": points3d.build,
    "LineStrips3D": linestrips3d.build,
    "Boxes3D": boxes3d.build,
    "Arrows3D": arrows3d.build,
}
