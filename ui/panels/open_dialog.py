"""File → Open: a small modal with a path field (no native dialog dependency)."""

from __future__ import annotations

from pathlib import Path

from imgui_bundle import imgui

from ..state import AppState
from . import record_item


def draw(state: AppState, text: list[str]) -> None:
    """``text`` is a one-element list holding the edited path across frames."""
    if state.open_dialog:
        imgui.open_popup("Open recording")
        state.open_dialog = False
    if imgui.begin_popup_modal("Open recording", None, imgui.WindowFlags_.always_auto_resize.value)[0]:
        imgui.text("Path of an .rrd file:")
        imgui.set_next_item_width(420)
        _, text[0] = imgui.input_text("##path", text[0])
        record_item(state, "open_path")
        ok = Path(text[0]).is_file()
        imgui.begin_disabled(not ok)
        if imgui.button("Open"):
            state.open_requests.append(text[0])
            imgui.close_current_popup()
        record_item(state, "open_ok")
        imgui.end_disabled()
        imgui.same_line()
        if imgui.button("Cancel"):
            imgui.close_current_popup()
        imgui.end_popup()
