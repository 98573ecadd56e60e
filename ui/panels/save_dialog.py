"""File > Save recording / Save time selection: a modal with a path (and, for a selection, the
time range on the current timeline, in its unit; it starts as the whole range).

Save checks the fields, starts the write on a background thread (``ui.save_job``) and closes the
dialog; progress and the result show in the status bar. While a save runs, Save is refused with a
message (the dialog shows that save's progress)."""

from __future__ import annotations

from pathlib import Path

from imgui_bundle import imgui

from .. import save_job
from ..state import AppState
from ..timefmt import format_time, parse_time
from . import record_item


class SaveDialog:
    def __init__(self, wake=None) -> None:
        self.wake = wake  # wakes an idle frame loop when the save ends
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

    def save(self, state: AppState) -> save_job.SaveJob:
        """Start saving with the dialog's fields; raises ValueError/OSError on bad input or while
        another save runs (``save_job.SaveBusy``)."""
        time_range = None
        if self.mode == "selection":
            tl, kind = state.time.timeline, state.time.kind
            if tl is None:
                raise ValueError("no timeline to select a time range on")
            t0, t1 = (parse_time(x, kind) for x in self.range_text)
            time_range = (tl, min(t0, t1), max(t0, t1))
        return save_job.start_save(state, self.path[0], time_range, self.wake)

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
        running = state.save_job
        if running is not None and running.running:
            imgui.progress_bar(running.progress, imgui.ImVec2(420, 0), f"saving {running.describe()}")
        if imgui.button("Save"):
            try:
                job = self.save(state)
                self.message = f"saving to {job.path} ..."
                imgui.close_current_popup()  # the UI stays free; the status bar shows progress and result
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
