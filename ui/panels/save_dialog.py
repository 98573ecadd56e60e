"""File > Save recording / Save time selection: a modal with a path (and, for a selection, the
time range on the current timeline, in its unit; it starts as the whole range)."""

from __future__ import annotations

from pathlib import Path

from imgui_bundle import imgui

from ..recording_io import save_recording
from ..state import AppState
from ..timefmt import format_time, parse_time
from . import record_item


class SaveDialog:
    def __init__(self) -> None:
        self.path = [""]
        self.range_text = ["", ""]
        self.mode = "recording"
        self.message = ""

    def open(self, state: AppState, mode: str) -> None:
        self.mode = mode
        rid = state.recording_id or "recording"
        if not self.path[0]:
            self.path[0] = str(Path.cwd() / f"{state.application_id or 'recording'}_{rid[:8]}.rrd")
        rng = state.store.time_range(state.time.timeline) if state.store and state.time.timeline else None
        if mode == "selection" and state.time.selection is not None:
            rng = state.time.selection  # Shift-drag on the timeline's scrubber
        if rng is not None:
            kind = state.time.kind
            self.range_text = [_plain(format_time(rng[0], kind)), _plain(format_time(rng[1], kind))]
        self.message = ""
        imgui.open_popup("Save recording")

    def save(self, state: AppState) -> int:
        """Save now with the dialog's fields; raises ValueError/OSError on bad input."""
        if state.store is None or state.recording_id is None:
            raise ValueError("no recording is open")
        time_range = None
        if self.mode == "selection":
            tl, kind = state.time.timeline, state.time.kind
            if tl is None:
                raise ValueError("no timeline to select a time range on")
            t0, t1 = (parse_time(x, kind) for x in self.range_text)
            time_range = (tl, min(t0, t1), max(t0, t1))
        return save_recording(self.path[0], state.store, state.recording_id, state.application_id, time_range)

    def draw(self, state: AppState) -> None:
        if state.save_dialog:
            mode, state.save_dialog = state.save_dialog, None
            self.open(state, mode)
        if not imgui.begin_popup_modal("Save recording", None, imgui.WindowFlags_.always_auto_resize.value)[0]:
            return
        imgui.text("Save the time selection to:" if self.mode == "selection" else "Save the recording to:")
        imgui.set_next_item_width(420)
        _, self.path[0] = imgui.input_text("##save_path", self.path[0])
        record_item(state, "save_path")
        if self.mode == "selection":
            for i, label in enumerate(("from", "to")):
                imgui.set_next_item_width(200)
                _, self.range_text[i] = imgui.input_text(f"{label} ({state.time.timeline})", self.range_text[i])
                record_item(state, f"save_{label}")
        if imgui.button("Save"):
            try:
                rows = self.save(state)
                self.message = f"saved {rows} rows"
                imgui.close_current_popup()
            except (ValueError, OSError) as exc:
                self.message = str(exc)
        record_item(state, "save_ok")
        imgui.same_line()
        if imgui.button("Cancel"):
            imgui.close_current_popup()
        record_item(state, "save_cancel")
        if self.message:
            imgui.text_colored(imgui.ImVec4(1.0, 0.6, 0.5, 1.0), self.message)
        imgui.end_popup()


def _plain(text: str) -> str:
    """format_time text that parse_time reads back (no '#', no trailing 's')."""
    return text.lstrip("#").rstrip("s") if not text.endswith("Z") else text
