"""Recordings panel: every open recording (application id, recording id, source); click to switch,
``x`` to close."""

from __future__ import annotations

from imgui_bundle import imgui

from ..state import AppState
from . import PANEL_FLAGS, place, record_item


def close_recording(viewer, recording_id: str) -> None:
    """Forget a recording's store; the next remaining one (if any) becomes active."""
    s, client = viewer.state, viewer.client
    client.forget(recording_id)
    s.recordings.pop(recording_id, None)
    s.recording_sources.pop(recording_id, None)
    if s.recording_id != recording_id:
        return
    s.recording_id = None
    if s.recordings:
        viewer.switch_recording(next(iter(s.recordings)))
    else:
        s.store, s.application_id, s.time.timeline = None, None, None
        s.selected, s.selected_instance = None, None
        s.generation += 1


class RecordingsPanel:
    def draw(self, state: AppState, viewer, rect) -> None:
        place(rect)
        imgui.begin("Recordings", None, PANEL_FLAGS)
        if not state.recordings:
            imgui.text_disabled("none open")
        for rid, app_id in list(state.recordings.items()):
            imgui.push_id(rid)
            if imgui.small_button("x"):
                close_recording(viewer, rid)
            record_item(state, f"rec_close:{rid}")
            imgui.same_line()
            label = f"{app_id or '?'}  {rid[:8]}"
            if imgui.selectable(label, rid == state.recording_id)[0] and rid != state.recording_id:
                viewer.switch_recording(rid)
            record_item(state, f"rec:{rid}")
            if imgui.is_item_hovered():
                sources = ", ".join(state.recording_sources.get(rid, ()))
                imgui.set_tooltip(f"application {app_id}\nrecording {rid}" + (f"\nfrom {sources}" if sources else ""))
            imgui.pop_id()
        imgui.end()
