"""Shaded triangles (solid ``Boxes3D``): per-vertex color and normal, lit from the eye."""

from __future__ import annotations

import numpy as np

from ._gpu import GpuBatch

VERTEX = """
#version 330 core
uniform mat4 view_proj;
uniform ivec2 highlight;  // [first, end) vertices of the selected entity
in vec3 in_pos;
in vec3 in_normal;
in vec4 in_color;
out vec3 v_normal;
out vec4 v_color;
void main() {
    gl_Position = view_proj * vec4(in_pos, 1.0);
    v_normal = in_normal;
    bool lit = gl_VertexID >= highlight.x && gl_VertexID < highlight.y;
    v_color = lit ? mix(in_color, vec4(1.0), 0.4) : in_color;
}
"""

FRAGMENT = """
#version 330 core
uniform vec3 light_dir;  // towards the eye (a head light), world space
in vec3 v_normal;
in vec4 v_color;
out vec4 f_color;
void main() {
    float shade = 0.35 + 0.65 * abs(dot(normalize(v_normal), light_dir));
    f_color = vec4(v_color.rgb * shade, v_color.a);
}
"""


class MeshRenderer(GpuBatch):
    """One VBO set of triangles; ``upload`` when the scene changes, ``draw`` every redraw."""

    def __init__(self, ctx) -> None:
        super().__init__(ctx, VERTEX, FRAGMENT)

    def upload(self, positions: np.ndarray, colors: np.ndarray, normals: np.ndarray | None) -> None:
        self.release_buffers()
        self.count = len(positions) - len(positions) % 3
        if self.count == 0:
            return
        if normals is None:
            normals = np.tile(np.array([0.0, 0.0, 1.0], np.float32), (self.count, 1))
        pos = self.ctx.buffer(np.ascontiguousarray(positions[: self.count], dtype=np.float32).tobytes())
        nrm = self.ctx.buffer(np.ascontiguousarray(normals[: self.count], dtype=np.float32).tobytes())
        col = self.ctx.buffer(np.ascontiguousarray(colors[: self.count], dtype=np.uint8).tobytes())
        self.buffers = [pos, nrm, col]
        self.vao = self.ctx.vertex_array(
            self.prog, [(pos, "3f", "in_pos"), (nrm, "3f", "in_normal"), (col, "4f1", "in_color")]
        )

    def draw(self, view_proj: np.ndarray, light_dir: np.ndarray, highlight=(0, 0)) -> None:
        if self.vao is None or self.count == 0:
            return
        import moderngl

        d = np.asarray(light_dir, dtype=np.float64)
        d = d / (np.linalg.norm(d) or 1.0)
        self.prog["view_proj"].write(view_proj.T.astype("f4").tobytes())
        self.prog["highlight"].value = tuple(int(v) for v in highlight)
        self.prog["light_dir"].value = tuple(float(v) for v in d)
        self.vao.render(moderngl.TRIANGLES, vertices=self.count)

