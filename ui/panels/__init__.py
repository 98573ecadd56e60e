"""One module per panel; each has ``draw(state, ...)`` called once per frame inside its rect."""

from __future__ import annotations

from imgui_bundle import imgui

from ..state import AppState

#: flags for panels placed by the app's layout (fixed position and size)
PANEL_FLAGS = (
    imgui.WindowFlags_.no_move.value
    | imgui.WindowFlags_.no_resize.value
    | imgui.WindowFlags_.no_collapse.value
    | imgui.WindowFlags_.no_bring_to_front_on_focus.value
)


def place(rect: tuple[float, float, float, float]) -> None:
    """Position the next window at ``rect`` (x, y, w, h)."""
    x, y, w, h = rect
    imgui.set_next_window_pos(imgui.ImVec2(x, y), imgui.Cond_.always.value)
    imgui.set_next_window_size(imgui.ImVec2(w, h), imgui.Cond_.always.value)


def record_item(state: AppState, key: str) -> None:
    """Remember the last item's rect under ``key`` (injected-input tests click on it)."""
    lo, hi = imgui.get_item_rect_min(), imgui.get_item_rect_max()
    state.ui_rects[key] = (lo.x, lo.y, hi.x, hi.y)
