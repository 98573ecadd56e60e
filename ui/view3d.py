"""A 3D view's GPU side: an offscreen framebuffer redrawn only when its inputs changed.

The key of the last image is (scene identity, camera, size, grid); when it matches, the frame
reuses the texture and costs nothing but the ImGui quad that shows it.
"""

from __future__ import annotations

import numpy as np

from .renderers.grid import GridRenderer
from .renderers.labels import LabelLayout3D
from .renderers.linestrips3d import LinesRenderer
from .renderers.mesh import MeshRenderer
from .renderers.points3d import PointsRenderer
from .scene import EntityMemo, Scene, build_scene
from .state import AppState, ViewState

BACKGROUND = (0.10, 0.10, 0.12, 1.0)


class SceneCache:
    """The scene at the cursor, rebuilt when data, time or visibility changed (shared by views)."""

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.scene = Scene()
        self.version = 0
        self.memo = EntityMemo()

    def get(self, state: AppState) -> Scene:
        key = (
            id(state.store),
            state.generation,
            state.time.timeline,
            state.time.cursor,
            frozenset(state.hidden),
        )
        if key != self.key:
            self.scene = build_scene(state, memo=self.memo)
            self.key = key
            self.version += 1
        return self.scene


def _span(batch, entity: str | None) -> tuple[int, int]:
    """Vertex range [first, end) of ``entity`` in ``batch`` (entities are contiguous), or empty."""
    rows = [(first, first + n) for path, first, n in batch.owners if path == entity]
    return (min(r[0] for r in rows), max(r[1] for r in rows)) if rows else (0, 0)


class View3D:
    """Renderers plus the FBO of one 3D view."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.points = PointsRenderer(ctx)
        self.lines = LinesRenderer(ctx)
        self.mesh = MeshRenderer(ctx)
        self.grid = GridRenderer(ctx)
        self.label_layout = LabelLayout3D()
        self.fbo = None
        self.texture = None
        self.depth = None
        self.size = (0, 0)
        self._uploaded = -1
        self._key: tuple | None = None
        self.redraws = 0

    def _ensure_fbo(self, size: tuple[int, int]) -> None:
        if size == self.size and self.fbo is not None:
            return
        self._release_fbo()
        w, h = max(size[0], 1), max(size[1], 1)
        self.texture = self.ctx.texture((w, h), 4)
        self.depth = self.ctx.depth_renderbuffer((w, h))
        self.fbo = self.ctx.framebuffer(color_attachments=[self.texture], depth_attachment=self.depth)
        self.size = size

    def upload(self, scene: Scene, version: int) -> None:
        if version == self._uploaded:
            return
        pos, col, radii = scene.points.arrays()
        self.points.upload(pos, col, radii)
        lpos, lcol, lrad = scene.lines.arrays()
        self.lines.upload(lpos, lcol, lrad)
        tpos, tcol, tnrm = scene.triangles.arrays()
        self.mesh.upload(tpos, tcol, tnrm)
        self._uploaded = version

    def render(
        self,
        view: ViewState,
        scene: Scene,
        version: int,
        size: tuple[int, int],
        force: bool = False,
        selected: str | None = None,
    ) -> bool:
        """Draw into the FBO if anything changed; returns whether it drew."""
        import moderngl

        size = (max(int(size[0]), 1), max(int(size[1]), 1))
        key = (version, view.camera.signature(), size, view.show_grid, selected)
        if key == self._key and not force:
            return False
        self._ensure_fbo(size)
        self.upload(scene, version)
        aspect = size[0] / size[1]
        proj = view.camera.projection(aspect)
        view_proj = proj @ view.camera.view()
        prev = self.ctx.fbo
        self.fbo.use()
        self.ctx.viewport = (0, 0, *size)
        self.fbo.clear(*BACKGROUND, depth=1.0)
        self.ctx.enable(moderngl.DEPTH_TEST)
        self.ctx.disable(moderngl.BLEND)
        if view.show_grid:
            extent = 10.0
            if scene.bounds is not None:
                extent = float(np.max(np.abs(np.concatenate(scene.bounds)))) * 2.0
            plane = np.eye(4)
            plane[:3, :3] = view.camera.basis  # the grid lies across the data's "up"
            self.grid.draw(view_proj @ plane, extent, proj, size)
        self.mesh.draw(view_proj, view.camera.eye() - view.camera.target, _span(scene.triangles, selected))
        self.lines.draw(view_proj, proj, size, _span(scene.lines, selected))
        self.points.draw(view_proj, proj, size[1], _span(scene.points, selected))
        self.ctx.disable(moderngl.DEPTH_TEST)
        if prev is not None:
            prev.use()
        self._key = key
        self.redraws += 1
        return True

    def read(self) -> np.ndarray:
        """The last image, (h, w, 4) uint8 with row 0 at the top."""
        raw = self.fbo.read(components=4, alignment=1)
        img = np.frombuffer(raw, dtype=np.uint8).reshape(self.size[1], self.size[0], 4)
        return img[::-1].copy()

    def _release_fbo(self) -> None:
        for obj in (self.fbo, self.texture, self.depth):
            if obj is not None:
                obj.release()
        self.fbo = self.texture = self.depth = None

    def release(self) -> None:
        self._release_fbo()
        self.points.release()
        self.lines.release()
        self.mesh.release()
        self.grid.release()
