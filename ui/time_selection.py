"""The time selection: a range of the current timeline, dragged with Shift on the timeline's
scrubber (right-click clears it). Playback with Loop on loops inside it; File > Save time
selection saves it."""

from __future__ import annotations

from imgui_bundle import imgui

from .state import AppState

_BAND = (60 << 24) | (255 << 16) | (170 << 8) | 120  # translucent light blue (ImGui's ABGR)


def _time_at(rng: tuple[int, int], x0: float, width: float, mx: float) -> int:
    frac = min(max((mx - x0) / max(width, 1.0), 0.0), 1.0)
    return rng[0] + round(frac * max(rng[1] - rng[0], 1))


def handle(state: AppState, rng, x0: float, width: float) -> bool:
    """Call right after the scrubber's item: True when the input was a selection gesture."""
    t = state.time
    io = imgui.get_io()
    if rng is None:
        return False
    if imgui.is_item_hovered() and imgui.is_mouse_clicked(1):
        t.selection = None
        return True
    if not imgui.is_item_active() or not io.key_shift:
        t._sel_anchor = None  # type: ignore[attr-defined]
        return False
    at = _time_at(rng, x0, width, io.mouse_pos.x)
    anchor = getattr(t, "_sel_anchor", None)
    if anchor is None:
        anchor = t._sel_anchor = at  # type: ignore[attr-defined]
    t.selection = (min(anchor, at), max(anchor, at))
    return True


def draw(dl, state: AppState, rng, x0: float, y0: float, width: float, height: float) -> None:
    sel = state.time.selection
    if sel is None or rng is None:
        return
    span = max(rng[1] - rng[0], 1)
    a = x0 + width * (sel[0] - rng[0]) / span
    b = x0 + width * (sel[1] - rng[0]) / span
    dl.add_rect_filled(imgui.ImVec2(a, y0), imgui.ImVec2(max(b, a + 1), y0 + height), _BAND)


def loop_range(state: AppState, rng: tuple[int, int]) -> tuple[int, int]:
    """Where a looping playback wraps: the selection if there is one, else the whole timeline."""
    sel = state.time.selection
    return sel if sel is not None and state.time.loop else rng
