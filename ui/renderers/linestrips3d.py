"""LineStrips3D, and the wide-line renderer shared by strips, boxes, arrows and the grid.

Each segment is one instance of a 4-vertex triangle strip expanded in the vertex shader to a
screen-aligned quad: core-profile OpenGL draws ``glLineWidth`` > 1 as 1 px on most drivers.
Radii work as for points: positive = world units (shrinking with distance), negative = UI pixels.
A batch whose lines are all 1 px (no radii: the grid, most wireframes) keeps the cheaper GL_LINES
path (about half the cost per segment on llvmpipe).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..scene import DEFAULT_LINE_RADIUS, Scene, _apply, _colors, _floats, labels_of, world_radii
from ._gpu import GpuBatch

STRIPS = "LineStrips3D:strips"

VERTEX = """
#version 330 core
uniform mat4 view_proj;
uniform vec2 viewport;      // pixels
uniform float px_per_unit;  // viewport height * proj[1][1] / 2
uniform ivec2 highlight;    // [first, end) vertices of the selected entity
in vec3 in_p0;
in vec3 in_p1;
in vec4 in_c0;
in vec4 in_c1;
in float in_r0;
in float in_r1;
out vec4 v_color;
const float NEAR_W = 1e-5;
void main() {
    int end = gl_VertexID / 2;                        // 0: start of the segment, 1: its end
    float side = (gl_VertexID % 2 == 0) ? -1.0 : 1.0;
    vec4 a = view_proj * vec4(in_p0, 1.0);
    vec4 b = view_proj * vec4(in_p1, 1.0);
    if (a.w < NEAR_W && b.w < NEAR_W) {               // wholly behind the eye
        gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
        v_color = vec4(0.0);
        return;
    }
    if (a.w < NEAR_W) a = mix(a, b, (NEAR_W - a.w) / (b.w - a.w));
    if (b.w < NEAR_W) b = mix(b, a, (NEAR_W - b.w) / (a.w - b.w));
    vec2 half_vp = viewport * 0.5;
    vec2 d = b.xy / b.w * half_vp - a.xy / a.w * half_vp;
    float len = length(d);
    d = len > 1e-6 ? d / len : vec2(1.0, 0.0);
    vec4 p = end == 0 ? a : b;
    float r = end == 0 ? in_r0 : in_r1;
    float half_px = r < 0.0 ? -r : r * px_per_unit / max(p.w, 1e-5);
    bool lit = 2 * gl_InstanceID >= highlight.x && 2 * gl_InstanceID < highlight.y;
    half_px = clamp(half_px, 0.5, 256.0) + (lit ? 1.0 : 0.0);
    vec2 offset = (vec2(-d.y, d.x) * side + d * (end == 0 ? -1.0 : 1.0)) * half_px;  // square caps
    p.xy += offset / half_vp * p.w;
    gl_Position = p;
    vec4 c = end == 0 ? in_c0 : in_c1;
    v_color = lit ? mix(c, vec4(1.0), 0.5) : c;
}
"""

THIN_VERTEX = """
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


def strip_anchors(strips: pa.Array) -> np.ndarray:
    """(n, 3): the middle of each strip (NaN for an empty one), where its label goes."""
    offsets = np.asarray(strips.offsets.to_numpy(), dtype=np.int64)
    pts = np.asarray(strips.flatten().flatten().to_numpy(zero_copy_only=False), dtype=np.float32)
    pts = np.vstack([pts.reshape(-1, 3), np.full((1, 3), np.nan, np.float32)])
    starts, ends = offsets[:-1] - offsets[0], offsets[1:] - offsets[0]
    empty = ends <= starts
    lo = np.where(empty, len(pts) - 1, (starts + ends - 1) // 2)
    hi = np.where(empty, len(pts) - 1, (starts + ends) // 2)
    return (pts[lo] + pts[hi]) / 2


def build(scene: Scene, path: str, cells: dict, world: np.ndarray) -> None:
    cell = cells.get(STRIPS)
    if cell is None or len(cell.values) == 0:
        return
    n = len(cell.values)
    per_strip = _colors(cells, "LineStrips3D:colors", n, path)
    labels = labels_of(cells, "LineStrips3D")
    if labels is not None:
        scene.add_labels(path, labels, _apply(world, strip_anchors(cell.values)), per_strip)
    seg, owner = strips_to_segments(cell.values)
    if len(seg) == 0:
        return
    seg = _apply(world, seg)
    radii = world_radii(_floats(cells, "LineStrips3D:radii", n, DEFAULT_LINE_RADIUS), world)
    vertex_owner = np.repeat(owner, 2)
    scene.lines.add(path, seg, per_strip[vertex_owner], radii[vertex_owner], vertex_owner)
    scene._grow(path, seg)


class LinesRenderer(GpuBatch):
    """Line segments (vertex pairs) with per-vertex colors and radii, drawn as quads."""

    def __init__(self, ctx) -> None:
        super().__init__(ctx, VERTEX, FRAGMENT)  # count: vertices (two per segment)
        self.thin_prog = ctx.program(vertex_shader=THIN_VERTEX, fragment_shader=FRAGMENT)
        self.thin = True  # every line 1 px wide: drawn as GL_LINES

    def upload(self, positions: np.ndarray, colors: np.ndarray, radii: np.ndarray | None = None) -> None:
        self.release_buffers()
        self.count = len(positions) - len(positions) % 2
        if self.count == 0:
            return
        radii = None if radii is None else np.asarray(radii[: self.count], dtype=np.float32)
        self.thin = radii is None or bool(np.all((radii < 0) & (radii >= -0.5)))
        pos = self.ctx.buffer(np.ascontiguousarray(positions[: self.count], dtype=np.float32).tobytes())
        col = self.ctx.buffer(np.ascontiguousarray(colors[: self.count], dtype=np.uint8).tobytes())
        if self.thin:
            self.buffers = [pos, col]
            self.vao = self.ctx.vertex_array(self.thin_prog, [(pos, "3f", "in_pos"), (col, "4f1", "in_color")])
            return
        rad = self.ctx.buffer(np.ascontiguousarray(radii[: self.count], dtype=np.float32).tobytes())
        self.buffers = [pos, col, rad]
        self.vao = self.ctx.vertex_array(
            self.prog,
            [
                (pos, "3f 3f/i", "in_p0", "in_p1"),
                (col, "4f1 4f1/i", "in_c0", "in_c1"),
                (rad, "1f 1f/i", "in_r0", "in_r1"),
            ],
        )

    def draw(self, view_proj: np.ndarray, proj: np.ndarray, size: tuple[int, int], highlight=(0, 0)) -> None:
        if self.vao is None or self.count == 0:
            return
        import moderngl

        if self.thin:
            self.thin_prog["view_proj"].write(view_proj.T.astype("f4").tobytes())
            self.thin_prog["highlight"].value = tuple(int(v) for v in highlight)
            self.vao.render(moderngl.LINES, vertices=self.count)
            return
        self.prog["view_proj"].write(view_proj.T.astype("f4").tobytes())
        self.prog["highlight"].value = tuple(int(v) for v in highlight)
        self.prog["viewport"].value = (float(size[0]), float(size[1]))
        self.prog["px_per_unit"].value = float(size[1] * proj[1, 1] / 2.0)
        self.vao.render(moderngl.TRIANGLE_STRIP, vertices=4, instances=self.count // 2)

    def release(self) -> None:
        super().release()
        self.thin_prog.release()
