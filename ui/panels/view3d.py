"""The 3D view window: shows the view's offscreen image and turns mouse input into camera moves.

Left drag rotates, right or middle drag pans, the wheel zooms, double-click focuses the hovered
entity (or resets when over empty space); hovering shows the entity path and instance.
"""

from __future__ import annotations

from imgui_bundle import imgui

from ..camera import up_basis
from ..renderers import labels
from ..scene import pick
from ..state import AppState, ViewState
from . import PANEL_FLAGS, place, record_item

# the image covers the window: skip its background fill (a full pass in software GL)
_VIEW_FLAGS = imgui.WindowFlags_.no_scrollbar.value | imgui.WindowFlags_.no_background.value


def draw(state: AppState, view: ViewState, gpu, scene_cache, rect: tuple[float, float, float, float]) -> None:
    """``gpu`` is the view's ``View3D``; ``scene_cache`` the shared ``SceneCache``."""
    place(rect)
    imgui.push_style_var(imgui.StyleVar_.window_padding.value, imgui.ImVec2(0, 0))
    imgui.begin(f"{view.name}###view:{view.name}", None, PANEL_FLAGS | _VIEW_FLAGS)
    imgui.pop_style_var()
    avail = imgui.get_content_region_avail()
    size = (max(int(avail.x), 1), max(int(avail.y), 1))
    view.image_size = size
    scene = scene_cache.get(state)
    cam = view.camera
    if scene.up is not None and view.up != scene.up:
        view.up = scene.up
        cam.basis = up_basis(*scene.up)
    if scene.bounds is not None and not cam.fitted and not cam.user_moved:
        cam.fit(*scene.bounds)
    origin = imgui.get_cursor_screen_pos()
    _interact_prev(state, view, scene, origin, size)
    gpu.render(view, scene, scene_cache.version, size, selected=state.selected)
    imgui.image(imgui.ImTextureRef(gpu.texture.glo), imgui.ImVec2(*size), imgui.ImVec2(0, 1), imgui.ImVec2(1, 0))
    record_item(state, f"view:{view.name}")
    if scene.labels:
        vp = cam.view_proj(size[0] / size[1])
        items = gpu.label_layout.update(scene, scene_cache.version, vp, size)
        labels.draw(imgui.get_window_draw_list(), items, (origin.x, origin.y), size)
    if scene.bounds is None:
        imgui.set_cursor_screen_pos(imgui.ImVec2(origin.x + 16, origin.y + 16))
        imgui.text_disabled(_empty_hint(state))
    if view.hovered is not None and imgui.is_item_hovered():
        imgui.set_tooltip(f"{view.hovered[0]}  #{view.hovered[1]}")
    imgui.end()


def _empty_hint(state: AppState) -> str:
    if any(not done for _, done in state.progress.values()):
        return "Loading..."
    if state.store is not None and state.store.entity_paths():
        return "Nothing visible in 3D at this time."
    where = f" or log to {state.live_endpoint}" if state.live_endpoint else ""
    return f"No data yet: File > Open, drop an .rrd file here{where}."


def _interact_prev(state: AppState, view: ViewState, scene, origin, size) -> None:
    """Apply the mouse input over the image area of the previous frame to the camera."""
    io = imgui.get_io()
    mx, my = io.mouse_pos.x - origin.x, io.mouse_pos.y - origin.y
    inside = 0 <= mx < size[0] and 0 <= my < size[1] and imgui.is_window_hovered()
    cam = view.camera
    dx, dy = io.mouse_delta.x, io.mouse_delta.y
    if inside or getattr(view, "_dragging", False):
        if imgui.is_mouse_down(0) and (dx or dy):
            cam.rotate(dx, dy)
        elif (imgui.is_mouse_down(1) or imgui.is_mouse_down(2)) and (dx or dy):
            cam.pan(dx, dy, size[1])
        view._dragging = any(imgui.is_mouse_down(b) for b in range(3))  # type: ignore[attr-defined]
    if not inside:
        view.hovered = None
        return
    if io.mouse_wheel:
        cam.zoom(io.mouse_wheel)
    vp = cam.view_proj(size[0] / size[1])
    if dx or dy:
        view.hovered = pick(scene, vp, size, (mx, my))
    if imgui.is_mouse_double_clicked(0):
        target = view.hovered[0] if view.hovered else None
        if target is not None and target in scene.entity_bounds:
            cam.fit(*scene.entity_bounds[target])
            cam.user_moved = True
            state.selected = target
        else:
            cam.reset()
