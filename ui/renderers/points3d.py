"""Points3D: round point sprites; world-space radii scale with distance, negative radii are pixels."""

from __future__ import annotations

import numpy as np

from ..annotations import keypoint_segments
from ..scene import (
    DEFAULT_LINE_RADIUS,
    DEFAULT_POINT_RADIUS,
    Scene,
    _apply,
    _colors,
    _floats,
    _fsl,
    labels_of,
    world_radii,
)
from ._gpu import GpuBatch

POSITIONS = "Points3D:positions"

VERTEX = """
#version 330 core
uniform mat4 view_proj;
uniform float px_per_unit;  // viewport height * proj[1][1] / 2
uniform ivec2 highlight;    // [first, end) vertices of the selected entity
in vec3 in_pos;
in vec4 in_color;
in float in_radius;
out vec4 v_color;
void main() {
    vec4 clip = view_proj * vec4(in_pos, 1.0);
    gl_Position = clip;
    float px = in_radius < 0.0 ? -2.0 * in_radius : 2.0 * in_radius * px_per_unit / max(clip.w, 1e-5);
    bool lit = gl_VertexID >= highlight.x && gl_VertexID < highlight.y;
    gl_PointSize = clamp(lit ? px * 1.3 + 1.0 : px, 1.0, 128.0);
    v_color = lit ? mix(in_color, vec4(1.0), 0.4) : in_color;
}
"""

FRAGMENT = """
#version 330 core
in vec4 v_color;
out vec4 f_color;
void main() {
    vec2 d = gl_PointCoord * 2.0 - 1.0;
    if (dot(d, d) > 1.0) discard;
    f_color = v_color;
}
"""


def build(scene: Scene, path: str, cells: dict, world: np.ndarray) -> None:
    cell = cells.get(POSITIONS)
    if cell is None or len(cell.values) == 0:
        return
    pts = _apply(world, _fsl(cell.values, 3))
    n = len(pts)
    colors = _colors(cells, "Points3D:colors", n, path)
    radii = world_radii(_floats(cells, "Points3D:radii", n, DEFAULT_POINT_RADIUS), world)
    scene.points.add(path, pts, colors, radii)
    scene.add_labels(path, labels_of(cells, "Points3D"), pts, colors)
    scene._grow(path, pts)
    skeleton = keypoint_segments(cells, "Points3D", pts, colors)
    if skeleton is not None:  # the annotation context's keypoint connections, as 1 px lines
        segs, cols, firsts = skeleton
        k = len(segs)
        radii = np.full(2 * k, DEFAULT_LINE_RADIUS, np.float32)
        scene.lines.add(path, segs.reshape(-1, 3), np.repeat(cols, 2, axis=0), radii, np.repeat(firsts, 2))


class PointsRenderer(GpuBatch):
    """Holds one VBO set of points; ``upload`` when the scene changes, ``draw`` every redraw."""

    def __init__(self, ctx) -> None:
        super().__init__(ctx, VERTEX, FRAGMENT)

    def upload(self, positions: np.ndarray, colors: np.ndarray, radii: np.ndarray | None) -> None:
        self.release_buffers()
        self.count = len(positions)
        if self.count == 0:
            return
        if radii is None:
            radii = np.full(self.count, DEFAULT_POINT_RADIUS, dtype=np.float32)
        pos = self.ctx.buffer(np.ascontiguousarray(positions, dtype=np.float32).tobytes())
        col = self.ctx.buffer(np.ascontiguousarray(colors, dtype=np.uint8).tobytes())
        rad = self.ctx.buffer(np.ascontiguousarray(radii, dtype=np.float32).tobytes())
        self.buffers = [pos, col, rad]
        self.vao = self.ctx.vertex_array(
            self.prog, [(pos, "3f", "in_pos"), (col, "4f1", "in_color"), (rad, "1f", "in_radius")]
        )

    def draw(self, view_proj: np.ndarray, proj: np.ndarray, viewport_h: int, highlight=(0, 0)) -> None:
        if self.vao is None or self.count == 0:
            return
        import moderngl

        self.prog["view_proj"].write(view_proj.T.astype("f4").tobytes())
        self.prog["highlight"].value = tuple(int(v) for v in highlight)
        self.prog["px_per_unit"].value = float(viewport_h * proj[1, 1] / 2.0)
        self.ctx.enable(moderngl.PROGRAM_POINT_SIZE)
        self.vao.render(moderngl.POINTS, vertices=self.count)

