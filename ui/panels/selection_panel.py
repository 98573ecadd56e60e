"""Selection panel: the selected entity (and instance) at the cursor — each component's value,
shape, and the time and timeline it came from — and its world transform."""

from __future__ import annotations

import numpy as np
from imgui_bundle import imgui

from ..state import AppState
from ..timefmt import format_time
from . import PANEL_FLAGS, place, record_item

_MAX_VALUES = 4


def summarize(values, instance: int | None = None) -> str:
    """Short text for a component's instances (the selected instance's value when there is one)."""
    n = len(values)
    if instance is not None and instance < n:
        return f"[{instance}] {_fmt(values[instance].as_py())}"
    if n == 1:
        return _fmt(values[0].as_py())
    shown = ", ".join(_fmt(values[i].as_py()) for i in range(min(n, _MAX_VALUES)))
    return f"{n} values: {shown}{', ...' if n > _MAX_VALUES else ''}"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v[:6]) + (", ..." if len(v) > 6 else "") + "]"
    if isinstance(v, bytes):
        return f"<{len(v)} bytes>"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) + "}"
    text = str(v)
    return text if len(text) <= 60 else text[:57] + "..."


def component_rows(state: AppState, path: str) -> list[tuple[str, str, str, str]]:
    """(component, value text, shape text, "time on timeline" / "static") for the selection."""
    st, tl = state.store, state.time.timeline
    try:
        cells = st.latest_at(path, tl, state.time.cursor)
    except (KeyError, ValueError, LookupError):
        return []
    rows = []
    for key, cell in sorted(cells.items()):
        when = "static" if cell.time is None else f"{format_time(cell.time, state.time.kind)} on {tl}"
        rows.append(
            (key, summarize(cell.values, state.selected_instance), f"{len(cell.values)} x {cell.values.type}", when)
        )
    return rows


class SelectionPanel:
    def __init__(self) -> None:
        self._key: tuple | None = None
        self.rows: list[tuple[str, str, str, str]] = []
        self.transform: np.ndarray | None = None

    def _refresh(self, state: AppState) -> None:
        key = (
            state.selected,
            state.selected_instance,
            id(state.store),
            state.generation,
            state.time.timeline,
            state.time.cursor,
        )
        if key == self._key:
            return
        self._key = key
        self.rows, self.transform = [], None
        if state.selected is None or state.store is None:
            return
        self.rows = component_rows(state, state.selected)
        try:
            m = state.store.world_transform(state.selected, state.time.timeline, state.time.cursor)
            self.transform = None if np.allclose(m, np.eye(4)) else np.asarray(m)
        except (KeyError, ValueError, LookupError):
            self.transform = None

    def draw(self, state: AppState, rect, workspace=None) -> None:
        self._refresh(state)
        place(rect)
        imgui.begin("Selection", None, PANEL_FLAGS)
        if state.selected is None and workspace is not None:
            if workspace.blueprint_panel.draw_editor(state, workspace.layout):
                imgui.end()
                return
        if state.selected is None:
            imgui.text_disabled("Nothing selected.")
            imgui.text_disabled("Click an entity in the tree")
            imgui.text_disabled("or an instance in a view.")
            imgui.end()
            return
        imgui.text(state.selected)
        record_item(state, "selection_path")
        if state.selected_instance is not None:
            imgui.same_line()
            imgui.text_disabled(f"#{state.selected_instance}")
        if imgui.small_button("clear"):
            state.selected, state.selected_instance = None, None
        record_item(state, "selection_clear")
        imgui.separator()
        if not self.rows:
            imgui.text_disabled("no data at the cursor")
        for key, value, shape, when in self.rows:
            imgui.text_colored(imgui.ImVec4(0.6, 0.75, 1.0, 1.0), key)
            imgui.indent()
            imgui.text_wrapped(value)
            imgui.text_disabled(f"{shape}; {when}")
            imgui.unindent()
        if self.transform is not None:
            imgui.separator()
            imgui.text("world transform")
            for row in self.transform[:3]:
                imgui.text("  " + "  ".join(f"{v:7.3f}" for v in row))
        imgui.end()
