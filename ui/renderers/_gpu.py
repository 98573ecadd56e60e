"""What every batch renderer holds on the GPU: one program, one VAO and its buffers."""

from __future__ import annotations


class GpuBatch:
    """A program plus the VAO/buffers of the last ``upload``; ``release_buffers`` before re-uploading."""

    def __init__(self, ctx, vertex_shader: str, fragment_shader: str) -> None:
        self.ctx = ctx
        self.prog = ctx.program(vertex_shader=vertex_shader, fragment_shader=fragment_shader)
        self.vao = None
        self.buffers: list = []
        self.count = 0

    def release_buffers(self) -> None:
        if self.vao is not None:
            self.vao.release()
        for b in self.buffers:
            b.release()
        self.vao, self.buffers, self.count = None, [], 0

    def release(self) -> None:
        self.release_buffers()
        self.prog.release()
