"""Main menu bar: File (open, save, save time selection, quit), View (camera reset, grid),
Recordings (switch active)."""

from __future__ import annotations

from imgui_bundle import imgui

from ..state import AppState
from . import record_item


def draw(state: AppState, switch_recording) -> float:
    """Draw the menu bar; returns its height. ``switch_recording(rid)`` activates a recording."""
    height = 0.0
    if imgui.begin_main_menu_bar():
        height = imgui.get_window_size().y
        file_open = imgui.begin_menu("File")
        record_item(state, "menu_file")
        if file_open:
            if imgui.menu_item("Open...", "Ctrl+O", False)[0]:
                state.open_dialog = True
            if imgui.menu_item("Save recording...", "Ctrl+S", False, state.store is not None)[0]:
                state.save_dialog = "recording"
            record_item(state, "menu_save")
            if imgui.menu_item("Save time selection...", "", False, state.time.timeline is not None)[0]:
                state.save_dialog = "selection"
            record_item(state, "menu_save_selection")
            if imgui.menu_item("Quit", "Ctrl+Q", False)[0]:
                state.quit_requested = True
            imgui.end_menu()
        if imgui.begin_menu("View"):
            view = state.views[0]
            if imgui.menu_item("Reset camera", "", False)[0]:
                view.camera.reset()
            view.show_grid = imgui.menu_item("Show grid", "", view.show_grid)[1]
            imgui.end_menu()
        if imgui.begin_menu("Recordings"):
            for rid, app_id in state.recordings.items():
                label = f"{app_id or '?'} / {rid[:12]}"
                if imgui.menu_item(label, "", rid == state.recording_id)[0]:
                    switch_recording(rid)
            imgui.end_menu()
        record_item(state, "menu")
        loading = {k: v for k, v in state.progress.items() if not v[1]}
        if loading:
            frac = min(v[0] for v in loading.values())
            imgui.same_line(0, 30)
            imgui.progress_bar(frac, imgui.ImVec2(200, 0), f"loading {frac * 100:.0f}%")
        if state.errors:
            imgui.same_line(0, 30)
            imgui.text_colored(imgui.ImVec4(1.0, 0.45, 0.4, 1.0), f"{len(state.errors)} error(s)")
            if imgui.is_item_hovered():
                imgui.set_tooltip("\n".join(state.errors[-10:]))
        imgui.same_line(imgui.get_window_width() - 110)
        imgui.text_disabled(f"{state.frame_ms:5.1f} ms")
        imgui.end_main_menu_bar()
    return height
