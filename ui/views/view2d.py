"""The 2D view: images, points, boxes and line strips drawn with ImGui's draw list, pan and zoom.

Y grows downwards (image convention). Left or right drag pans, the wheel zooms about the mouse,
double-click fits the data again. Hover shows ``entity #instance``; a click (no drag) selects it.
"""

from __future__ import annotations

import numpy as np
from imgui_bundle import imgui

from ..panels import PANEL_FLAGS, place, record_item
from ..renderers import labels
from .scene2d import Scene2D, build_scene2d, candidates

BACKGROUND = 0xFF1F1A1A  # ABGR


def _u32(rgba) -> int:
    r, g, b, a = (int(x) for x in rgba)
    return (a << 24) | (b << 16) | (g << 8) | r


class View2D:
    """Per-view drawer: a cached scene and the GL textures of its images."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.scene = Scene2D()
        self._key: tuple | None = None
        self._paths: list[str] = []
        self._memo: dict = {}  # entity -> (what its primitives came from, primitives)
        self._paths_key: tuple | None = None
        self.textures: dict[str, tuple[tuple, object]] = {}  # entity -> (row id, texture)
        self._canvas = (0.0, 0.0, 1.0, 1.0)  # screen x, y, w, h of the drawing area
        self.labels_drawn: list = []  # (x, y, text, rgba) of the last frame's labels

    def _refresh(self, state, node) -> None:
        if state.store is None:
            self.scene, self._key = Scene2D(), None
            return
        pkey = (id(state.store), state.generation, frozenset(state.hidden), tuple(node.contents), node.origin)
        if pkey != self._paths_key:  # which entities to query changes with data and filters only
            self._paths, self._paths_key = candidates(state, node.includes), pkey
        key = (pkey, state.time.timeline, state.time.cursor)
        if key != self._key:
            self.scene = build_scene2d(state, self._paths, self._memo, node.origin)
            self._key = key

    def _texture(self, path: str, img: np.ndarray, row_id: tuple):
        got = self.textures.get(path)
        if got is not None and got[0] == row_id:
            return got[1]
        if got is not None:
            got[1].release()
        import moderngl

        tex = self.ctx.texture((img.shape[1], img.shape[0]), 4, np.ascontiguousarray(img).tobytes())
        tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self.textures[path] = (row_id, tex)
        return tex

    def release(self) -> None:
        for _, tex in self.textures.values():
            tex.release()
        self.textures.clear()

    # -- camera ------------------------------------------------------------------------------------
    @staticmethod
    def fit(node, scene: Scene2D, size: tuple[float, float]) -> None:
        lo, hi = scene.bounds if scene.bounds is not None else (np.zeros(2), np.ones(2))
        span = np.maximum(hi - lo, 1e-6)
        node.ui["center"] = [float(x) for x in (lo + hi) / 2]
        node.ui["zoom"] = float(min(size[0] / span[0], size[1] / span[1]) * 0.92)
        node.ui["fitted"] = scene.bounds is not None

    def draw(self, state, node, rect) -> None:
        self._refresh(state, node)
        place(rect)
        imgui.push_style_var(imgui.StyleVar_.window_padding.value, imgui.ImVec2(0, 0))
        imgui.begin(f"{node.name}###view:{node.uid}", None, PANEL_FLAGS | imgui.WindowFlags_.no_scrollbar.value)
        imgui.pop_style_var()
        origin = imgui.get_cursor_screen_pos()
        avail = imgui.get_content_region_avail()
        size = (max(avail.x, 1.0), max(avail.y, 1.0))
        imgui.invisible_button(
            "canvas",
            imgui.ImVec2(*size),
            imgui.ButtonFlags_.mouse_button_left.value | imgui.ButtonFlags_.mouse_button_right.value,
        )
        record_item(state, f"view:{node.name}")
        if "zoom" not in node.ui or (not node.ui.get("fitted") and self.scene.bounds is not None):
            self.fit(node, self.scene, size)
        self._interact(state, node, origin, size)
        zoom, (cx, cy) = node.ui["zoom"], node.ui["center"]
        ox, oy = origin.x + size[0] / 2 - cx * zoom, origin.y + size[1] / 2 - cy * zoom
        node.ui["_xform"] = (ox, oy, zoom)  # screen = o + zoom * p (picking and tests)
        dl = imgui.get_window_draw_list()
        dl.push_clip_rect(origin, imgui.ImVec2(origin.x + size[0], origin.y + size[1]), True)
        dl.add_rect_filled(origin, imgui.ImVec2(origin.x + size[0], origin.y + size[1]), BACKGROUND)
        self._canvas = (origin.x, origin.y, size[0], size[1])
        self._draw_scene(dl, ox, oy, zoom, state.selected)
        dl.pop_clip_rect()
        if self.scene.bounds is None:
            imgui.set_cursor_screen_pos(imgui.ImVec2(origin.x + 12, origin.y + 12))
            imgui.text_disabled("Nothing to show in 2D here at this time.")
        imgui.end()

    def _draw_scene(self, dl, ox: float, oy: float, zoom: float, selected: str | None) -> None:
        def s(p):
            return imgui.ImVec2(ox + float(p[0]) * zoom, oy + float(p[1]) * zoom)

        for path, img, row_id, corners in self.scene.images:  # placed by the entity's transform
            tex = self._texture(path, img, row_id)
            dl.add_image_quad(imgui.ImTextureRef(tex.glo), *(s(c) for c in corners))

        def width(r, extra: float) -> float:  # radius (negative: UI pixels) -> line thickness
            return max(float(-2.0 * r if r < 0 else 2.0 * r * zoom), 1.0) + extra

        for path, strips, colors, radii in self.scene.strips:
            extra = 1.5 if path == selected else 0.0
            for i, pts in enumerate(strips):
                if len(pts) >= 2:
                    dl.add_polyline([s(p) for p in pts], _u32(colors[i]), width(radii[i], extra), 0)
        for path, lo, hi, colors, radii in self.scene.boxes:
            extra = 1.5 if path == selected else 0.0
            for i in range(len(lo)):
                dl.add_rect(s(lo[i]), s(hi[i]), _u32(colors[i]), 0.0, width(radii[i], extra))
        for path, pos, colors, radii in self.scene.points:
            px = np.where(radii < 0, -radii, radii * zoom)
            for i in range(len(pos)):
                dl.add_circle_filled(s(pos[i]), float(max(px[i], 1.0)), _u32(colors[i]))
                if path == selected:
                    dl.add_circle(s(pos[i]), float(max(px[i], 1.0)) + 2, 0xFFFFFFFF)
        self._draw_labels(dl, ox, oy, zoom)

    def _draw_labels(self, dl, ox: float, oy: float, zoom: float) -> None:
        if not self.scene.labels:
            return
        x0, y0, w, h = self._canvas
        anchors = [
            (ox + pos[:, 0] * zoom - x0, oy + pos[:, 1] * zoom - y0, np.isfinite(pos).all(axis=1), texts, colors)
            for _, pos, texts, colors in self.scene.labels
        ]
        self.labels_drawn = labels.collect(anchors, (w, h))
        labels.draw(dl, self.labels_drawn, (x0, y0), (w, h))

    # -- input -------------------------------------------------------------------------------------
    def _interact(self, state, node, origin, size) -> None:
        io = imgui.get_io()
        hovered = imgui.is_item_hovered()
        if imgui.is_item_active() and (io.mouse_delta.x or io.mouse_delta.y):
            z = node.ui["zoom"]
            node.ui["center"] = [
                node.ui["center"][0] - io.mouse_delta.x / z,
                node.ui["center"][1] - io.mouse_delta.y / z,
            ]
            node.ui["fitted"] = True
        if hovered and io.mouse_wheel:
            mx, my = io.mouse_pos.x - origin.x - size[0] / 2, io.mouse_pos.y - origin.y - size[1] / 2
            z0 = node.ui["zoom"]
            z1 = min(max(z0 * 1.15**io.mouse_wheel, 1e-6), 1e6)
            cx, cy = node.ui["center"]
            node.ui["center"] = [cx + mx / z0 - mx / z1, cy + my / z0 - my / z1]
            node.ui["zoom"] = z1
        if hovered and imgui.is_mouse_double_clicked(0):
            self.fit(node, self.scene, size)
        node.view.hovered = None
        if hovered and "_xform" in node.ui:
            node.view.hovered = self.pick(node, (io.mouse_pos.x, io.mouse_pos.y))
            if node.view.hovered is not None and not state.options.screenshot_to:
                imgui.set_tooltip(f"{node.view.hovered[0]}  #{node.view.hovered[1]}")
            if imgui.is_item_deactivated() and io.mouse_drag_max_distance_sqr[0] < 16:
                if node.view.hovered is not None:
                    state.selected, state.selected_instance = node.view.hovered
                else:
                    state.selected, state.selected_instance = None, None

    def pick(self, node, xy: tuple[float, float], max_px: float = 6.0) -> tuple[str, int] | None:
        """(entity, instance) of the point within ``max_px`` of ``xy``, else of the box under it."""
        ox, oy, zoom = node.ui["_xform"]
        p = np.array([(xy[0] - ox) / zoom, (xy[1] - oy) / zoom])
        best = None
        for path, pos, _, radii in self.scene.points:
            if len(pos):
                d = np.hypot(*(pos - p).T) * zoom - np.where(radii < 0, -radii, radii * zoom)
                i = int(np.argmin(d))
                if d[i] <= max_px and (best is None or d[i] < best[0]):
                    best = (float(d[i]), path, i)
        if best is not None:
            return best[1], best[2]
        for path, lo, hi, *_ in reversed(self.scene.boxes):
            inside = np.flatnonzero(((lo <= p) & (p <= hi)).all(axis=1))
            if len(inside):
                return path, int(inside[-1])
        return None
