"""The body of the window as the blueprint lays it out: left column (recordings, blueprint, entity
tree), the views in the middle, the selection panel on the right, the timeline and status bar below.

``Workspace`` owns the ``Layout`` (also ``state.layout``), one drawer per view and the side panels;
``Viewer`` calls ``draw_body`` and ``draw_bottom`` once per frame.
"""

from __future__ import annotations

import time

from imgui_bundle import imgui

from . import save_job
from .blueprint import Layout, ViewNode
from .blueprint.geometry import arrange
from .faults import Fault, guarded
from .panels import PANEL_FLAGS, place, record_item
from .panels import view3d as view3d_panel
from .view3d import SceneCache, View3D

SELECTION_WIDTH = 270
_GRIP = 6.0  # px of the drag handles between panels
_GRIP_FLAGS = (
    imgui.WindowFlags_.no_title_bar.value
    | imgui.WindowFlags_.no_scrollbar.value
    | imgui.WindowFlags_.no_background.value
    | imgui.WindowFlags_.no_saved_settings.value
)
STATUS_HEIGHT = 24
DEFAULT_ORIGIN_RULES = ["+ $origin/**"]


class FilteredSceneCache(SceneCache):
    """The 3D scene of one view whose entity filter is not "everything", in its origin's frame."""

    def __init__(self, node: ViewNode) -> None:
        super().__init__()
        self.node = node

    def get(self, state):
        key = (
            id(state.store),
            state.generation,
            state.time.timeline,
            state.time.cursor,
            frozenset(state.hidden),
            tuple(self.node.contents),
            self.node.origin,
        )
        if key != self.key:
            from .scene import build_scene

            self.scene = build_scene(state, keep=self.node.includes, memo=self.memo, origin=self.node.origin)
            self.key = key
            self.version += 1
        return self.scene


class Workspace:
    def __init__(self, viewer) -> None:
        from imgui_bundle import implot

        from .panels.blueprint_panel import BlueprintPanel
        from .panels.recordings_panel import RecordingsPanel
        from .panels.save_dialog import SaveDialog
        from .panels.selection_panel import SelectionPanel
        from .persist import Persistence
        from .status_bar import StatusBar

        self.viewer = viewer
        self.state = viewer.state
        self.layout = Layout()
        self.state.layout = self.layout
        self.placeholder = ViewNode("Spatial3DView", "/")  # shown while the layout has no views
        self.drawers: dict[int, object] = {}
        self.caches: dict[int, FilteredSceneCache] = {}
        self.view_rects: dict[str, tuple] = {}
        self.blueprint_panel = BlueprintPanel()
        self.selection_panel = SelectionPanel()
        self.recordings_panel = RecordingsPanel()
        self.status_bar = StatusBar()
        self.left_split = [0.25, 0.28]  # most recordings / blueprint shares of the left column
        self.selection_width = float(SELECTION_WIDTH)
        self.save_dialog = SaveDialog(wake=viewer.surface.wake)
        self.persist = Persistence(self, enabled=viewer.options.screenshot_to is None)
        self.implot_ctx = implot.create_context()

    # -- frame ---------------------------------------------------------------------------------------
    def draw_body(self, rect, tree_width: float) -> None:
        """Each panel and each view is guarded on its own (``ui.faults``): one that raises is shown
        as failed and the others keep drawing."""
        s = self.state
        guarded(s, "ui state", self.persist.tick, time.monotonic(), ui=False)
        guarded(s, "layout", self.layout.sync, s, ui=False)
        guarded(s, "save", save_job.poll, s, ui=False)
        guarded(s, "save dialog", self.save_dialog.draw, s)
        x, y, w, h = rect
        self._draw_left((x, y, tree_width, h))
        sel_w = self.selection_width if w - tree_width > 2 * self.selection_width else 0
        guarded(s, "views", self.draw_views, (x + tree_width, y, max(w - tree_width - sel_w, 50), h))
        if sel_w:  # after the views: a pick in this frame shows at once
            guarded(s, "panel selection", self.selection_panel.draw, s, (x + w - sel_w, y, sel_w, h), self)
            dx = self._splitter("split_selection", (x + w - sel_w - _GRIP / 2, y, _GRIP, h), vertical=True)
            self.selection_width = min(max(self.selection_width - dx, 120.0), max((w - tree_width) / 2, 120.0))

    def _draw_left(self, rect) -> None:
        s = self.state
        x, y, w, h = rect
        rows = max(len(s.recordings), 1)
        r_h = min(
            imgui.get_frame_height_with_spacing() * rows + 2 * imgui.get_text_line_height() + 8, h * self.left_split[0]
        )
        b_h = h * self.left_split[1]
        guarded(s, "panel recordings", self.recordings_panel.draw, s, self.viewer, (x, y, w, r_h))
        guarded(s, "panel blueprint", self.blueprint_panel.draw, s, self, (x, y + r_h, w, b_h))
        guarded(s, "panel entities", self.viewer.tree.draw, s, (x, y + r_h + b_h, w, h - r_h - b_h))
        dy = self._splitter("split_blueprint", (x, y + r_h + b_h - _GRIP / 2, w, _GRIP), vertical=False)
        self.left_split[1] = min(max(self.left_split[1] + dy / max(h, 1.0), 0.1), 0.7)

    def _splitter(self, key: str, rect, vertical: bool) -> float:
        """A thin grip on a panel border (on top of both panels); returns this frame's drag in pixels."""
        place(rect)
        imgui.push_style_var(imgui.StyleVar_.window_padding.value, imgui.ImVec2(0, 0))
        imgui.push_style_var(imgui.StyleVar_.window_min_size.value, imgui.ImVec2(1, 1))
        imgui.begin(f"##{key}", None, PANEL_FLAGS | _GRIP_FLAGS)
        imgui.pop_style_var(2)
        if not imgui.is_popup_open("", imgui.PopupFlags_.any_popup_id.value):  # above both panels, not popups
            imgui.internal.bring_window_to_display_front(imgui.internal.get_current_window())
        imgui.invisible_button(key, imgui.ImVec2(max(rect[2], 1), max(rect[3], 1)))
        record_item(self.state, key)
        moved = 0.0
        if imgui.is_item_hovered() or imgui.is_item_active():
            imgui.set_mouse_cursor(imgui.MouseCursor_.resize_ew if vertical else imgui.MouseCursor_.resize_ns)
        if imgui.is_item_active():
            d = imgui.get_io().mouse_delta
            moved = d.x if vertical else d.y
        imgui.end()
        return moved

    def draw_bottom(self, rect) -> None:
        x, y, w, h = rect
        guarded(self.state, "panel timeline", self.viewer.timeline.draw, self.state, (x, y, w, h - STATUS_HEIGHT))
        guarded(
            self.state, "status bar", self.status_bar.draw, self.state, self.viewer,
            (x, y + h - STATUS_HEIGHT, w, STATUS_HEIGHT),
        )

    def draw_views(self, rect) -> None:
        s = self.state
        views: list = []
        tabs: list = []
        arrange(self.layout.root, rect, views, tabs)
        if not views:
            views = [(self.placeholder, rect)]
        s.views = [n.view for n, _ in views if n.kind == "Spatial3DView"] or [self.placeholder.view]
        self.view_rects = {n.name: r for n, r in views}  # the blueprint's rect per view (x, y, w, h)
        for node, (vx, vy, vw, vh) in views:
            vrect = (vx, vy, max(vw, 10), max(vh, 10))
            where = f"view {node.name}"
            if guarded(s, where, self._draw_view, node, vrect) is not None:
                self._draw_fault(node, vrect, s.faults.active[where])
        for node, bar in tabs:
            self._tab_bar(node, bar)
        names3d = {n.name for n, _ in views if n.kind == "Spatial3DView"}
        for name in [k for k in self.viewer.gpus if k not in names3d]:  # renamed or removed views
            self.viewer.gpus.pop(name).release()
        live = {n.uid for n, _ in views}
        for uid in [u for u in self.drawers if u not in live and self.layout.find(u) is None]:
            drawer = self.drawers.pop(uid)
            if hasattr(drawer, "release"):
                drawer.release()

    def _draw_view(self, node: ViewNode, rect) -> None:
        s = self.state
        if node.kind == "Spatial3DView":
            gpu = self.viewer.gpus.get(node.name)
            if gpu is None:
                gpu = self.viewer.gpus[node.name] = View3D(self.viewer.surface.ctx)
            default = node.origin == "/" and node.contents == DEFAULT_ORIGIN_RULES
            cache = self.viewer.scene_cache if default else self.caches.setdefault(node.uid, FilteredSceneCache(node))
            view3d_panel.draw(s, node.view, gpu, cache, rect)
            self._pick3d(node)
            return
        drawer = self.drawers.get(node.uid)
        if drawer is None:
            drawer = self.drawers[node.uid] = self._new_drawer(node)
        drawer.draw(s, node, rect)

    def _draw_fault(self, node: ViewNode, rect, fault: Fault) -> None:
        """In place of a view that raised: what failed (the other views keep drawing)."""
        place(rect)
        imgui.begin(f"{node.name}###fault:{node.uid}", None, PANEL_FLAGS)
        if not imgui.is_popup_open("", imgui.PopupFlags_.any_popup_id.value):  # over the view's half-drawn window
            imgui.internal.bring_window_to_display_front(imgui.internal.get_current_window())
        imgui.push_text_wrap_pos(0.0)
        imgui.text_colored(imgui.ImVec4(1.0, 0.45, 0.4, 1.0), f"This view failed to draw: {fault.message}")
        record_item(self.state, f"view_error:{node.name}")
        imgui.text_disabled("It is tried again every frame; the other views are not affected. Details are in the log.")
        imgui.pop_text_wrap_pos()
        imgui.end()

    def _new_drawer(self, node: ViewNode):
        from .views.textlog import TextLogView
        from .views.timeseries import TimeSeriesView
        from .views.view2d import View2D

        if node.kind == "Spatial2DView":
            return View2D(self.viewer.surface.ctx)
        if node.kind == "TimeSeriesView":
            return TimeSeriesView()
        return TextLogView()

    def _pick3d(self, node: ViewNode) -> None:
        """A click without drag on a 3D view selects the hovered instance."""
        key = f"view:{node.name}"
        rect = self.state.ui_rects.get(key)
        io = imgui.get_io()
        if rect is None or not imgui.is_mouse_released(0) or io.mouse_drag_max_distance_sqr[0] > 16:
            return
        mx, my = io.mouse_pos.x, io.mouse_pos.y
        if rect[0] <= mx < rect[2] and rect[1] <= my < rect[3] and not imgui.is_any_item_active():
            if node.view.hovered is not None:  # empty space keeps the selection (double-click resets)
                self.state.selected, self.state.selected_instance = node.view.hovered

    def _tab_bar(self, node, bar) -> None:
        place(bar)
        imgui.push_style_var(imgui.StyleVar_.window_padding.value, imgui.ImVec2(4, 2))
        flags = PANEL_FLAGS | imgui.WindowFlags_.no_title_bar.value | imgui.WindowFlags_.no_scrollbar.value
        imgui.begin(f"##tabs{node.uid}", None, flags)
        imgui.pop_style_var()
        for i, child in enumerate(node.children):
            if i:
                imgui.same_line()
            if imgui.selectable(
                f"{child.name}##tab{child.uid}",
                i == node.active_tab,
                0,
                imgui.ImVec2(imgui.calc_text_size(child.name).x + 12, 0),
            )[0]:
                node.active_tab = i
                self.layout.version += 1
            record_item(self.state, f"tab:{child.name}")
        imgui.end()

    def shortcuts(self) -> None:
        """Home / End move the cursor to the ends of the timeline; Ctrl+S saves the recording."""
        from . import playback

        s = self.state
        rng = playback.time_range(s)
        if imgui.is_key_pressed(imgui.Key.home, False) and rng is not None:
            s.time.playing = s.time.follow = False
            playback.set_cursor(s, rng[0], user=False)
        elif imgui.is_key_pressed(imgui.Key.end, False) and rng is not None:
            s.time.cursor, s.time.follow = rng[1], True
        elif imgui.get_io().key_ctrl and imgui.is_key_pressed(imgui.Key.s, False) and s.store is not None:
            s.save_dialog = "recording"

    def close(self) -> None:
        from imgui_bundle import implot

        try:
            job = self.state.save_job
            if job is not None:
                job.finish()  # a running save ends (bounded wait, then cancelled): never a half file
        finally:
            try:
                self.persist.save()
            finally:
                for drawer in self.drawers.values():
                    if hasattr(drawer, "release"):
                        drawer.release()
                self.drawers.clear()
                if self.implot_ctx is not None:
                    implot.destroy_context(self.implot_ctx)
                    self.implot_ctx = None
