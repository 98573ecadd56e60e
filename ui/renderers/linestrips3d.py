"""LineStrips3D, and the line-segment renderer shared by boxes, arrows and the grid."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..scene import Scene, _apply, _colors

STRIPS = "LineStrips3D:strips"

VERTEX = """
#version 330 core
uniform mat4 view_proj;
uniform ivec2 highlight;  // [first, end) vertices of the selected entity
in vec3 in_pos;
in vec4 in_color;
out vec4 v_color;
void main() {
    gl_Position = view_proj * vec4(in_pos, 1.0);
    bool lit = gl_VertexID >= highlight.x && gl_VertexID < highlight.y;
    v_color = lit ? mix(in_color, vec4(1.0), 0.5) : in_color;
}
"""

FRAGMENT = """
#version 330 core
in vec4 v_color;
out vec4 f_color;
void main() { f_color = v_color; }
"""


def strips_to_segments(strips: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """list<fsl<f32>[3]> -> (segment vertex pairs (2m, 3), strip index per segment (m,))."""
    offsets = np.asarray(strips.offsets.to_numpy(), dtype=np.int64)
    pts = np.asarray(strips.flatten().flatten().to_numpy(zero_copy_only=False), dtype=np.float32)
    pts = pts.reshape(-1, 3)
    base = offsets[0]
    starts, ends = offsets[:-1] - base, offsets[1:] - base
    idx = [np.arange(s, e - 1) for s, e in zip(starts, ends) if e - s >= 2]
    owner = [np.full(e - s - 1, i) for i, (s, e) in enumerate(zip(starts, ends)) if e - s >= 2]
    if not idx:
        return np.zeros((0, 3), np.float32), np.zeros(0, np.int64)
    a = np.concatenate(idx)
    seg = np.empty((2 * len(a), 3), dtype=np.float32)
    seg[0::2], seg[1::2] = pts[a], pts[a + 1]
    return seg, np.concatenate(owner)


def build(scene: Scene, path: str, cells: dict, world: np.ndarray) -> None:
    cell = cells.get(STRIPS)
    if cell is None or len(cell.values) == 0:
        return
    seg, owner = strips_to_segments(cell.values)
    if len(seg) == 0:
        return
    seg = _apply(world, seg)
    per_strip = _colors(cells, "LineStrips3D:colors", len(cell.values), path)
    scene.lines.add(path, seg, np.repeat(per_strip[owner], 2, axis=0))
    scene._grow(path, seg)


class LinesRenderer:
    """Line segments (vertex pairs) with per-vertex colors."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.prog = ctx.program(vertex_shader=VERTEX, fragment_shader=FRAGMENT)
        self.vao = None
        self.buffers: list = []
        self.count = 0

    def upload(self, positions: np.ndarray, colors: np.ndarray) -> None:
        self.release_buffers()
        self.count = len(positions)
        if self.count == 0:
            return
        pos = self.ctx.buffer(np.ascontiguousarray(positions, dtype=np.float32).tobytes())
        col = self.ctx.buffer(np.ascontiguousarray(colors, dtype=np.uint8).tobytes())
        self.buffers = [pos, col]
        self.vao = self.ctx.vertex_array(self.prog, [(pos, "3f", "in_pos"), (col, "4f1", "in_color")])

    def draw(self, view_proj: np.ndarray, highlight=(0, 0)) -> None:
        if self.vao is None or self.count == 0:
            return
        import moderngl

        self.prog["view_proj"].write(view_proj.T.astype("f4").tobytes())
        self.prog["highlight"].value = tuple(int(v) for v in highlight)
        self.vao.render(moderngl.LINES, vertices=self.count)

    def release_buffers(self) -> None:
        if self.vao is not None:
            self.vao.release()
        for b in self.buffers:
            b.release()
        self.vao, self.buffers, self.count = None, [], 0

    def release(self) -> None:
        self.release_buffers()
        self.prog.release()
