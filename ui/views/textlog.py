"""Text log view: a table of TextLog rows (time, entity, level, text) up to the time cursor.

Levels can be switched off one by one, a search box filters the text (case-insensitive), and the
table follows the cursor: rows after it are hidden and the newest shown row stays in sight.
"""

from __future__ import annotations

import numpy as np
from imgui_bundle import imgui

from ..panels import PANEL_FLAGS, place, record_item
from ..timefmt import format_time
from . import DATA_ERRORS, report

TEXT, LEVEL = "TextLog:text", "TextLog:level"
LEVEL_COLORS = {
    "CRITICAL": (1.0, 0.3, 0.9, 1.0),
    "ERROR": (1.0, 0.35, 0.3, 1.0),
    "WARN": (1.0, 0.8, 0.3, 1.0),
    "INFO": (0.5, 0.85, 0.5, 1.0),
    "DEBUG": (0.45, 0.65, 1.0, 1.0),
    "TRACE": (0.6, 0.6, 0.6, 1.0),
}


class TextLogView:
    def __init__(self) -> None:
        self._key: tuple | None = None
        self.rows: list[tuple[int, str, str, str]] = []  # (time, entity, level, text), time order
        self.times = np.zeros(0, dtype=np.int64)
        self._levels: list[str] = []
        self._entities: list[str] = []
        self.shown: list[int] = []  # indexes into rows after filters and cursor
        self._shown_key: tuple | None = None

    def _refresh(self, state, node) -> None:
        st, tl = state.store, state.time.timeline
        key = (id(st), state.generation, tl, frozenset(state.hidden), tuple(node.contents), node.origin)
        if key == self._key:
            return
        self._key, self._shown_key = key, None
        rows: list[tuple[int, str, str, str]] = []
        if st is not None and tl is not None and hasattr(st, "range") and st.time_range(tl) is not None:
            lo, hi = st.time_range(tl)
            for path in st.entity_paths():
                if not node.includes(path) or not state.is_visible(path) or TEXT not in st.components(path):
                    continue
                table = st.range(path, tl, lo, hi, [TEXT, LEVEL])
                times = table.column(tl).to_pylist()
                texts = table.column(TEXT).to_pylist()
                levels = table.column(LEVEL).to_pylist() if LEVEL in table.column_names else [None] * len(texts)
                for t, tx, lv in zip(times, texts, levels):
                    if tx:
                        rows.append((t, path, (lv or ["INFO"])[0] or "INFO", tx[0] or ""))
        rows.sort(key=lambda r: r[0])
        self.rows = rows
        self._entities = sorted({r[1] for r in rows})
        order = list(LEVEL_COLORS)
        self._levels = sorted({r[2] for r in rows}, key=lambda lv: (order.index(lv) if lv in order else 99, lv))
        self.times = np.array([r[0] for r in rows], dtype=np.int64)

    def levels(self) -> list[str]:
        """The levels present, most severe first."""
        return self._levels

    def _filter(self, state, node) -> None:
        hidden_levels = frozenset(node.ui.get("hidden_levels", []))
        search = node.ui.get("search", "").lower()
        follow = node.ui.get("follow", True)
        end = int(np.searchsorted(self.times, state.time.cursor, side="right")) if follow else len(self.rows)
        key = (self._key, hidden_levels, search, end)
        if key == self._shown_key:
            return
        self._shown_key = key
        self.shown = [
            i
            for i in range(end)
            if self.rows[i][2] not in hidden_levels and (not search or search in self.rows[i][3].lower())
        ]
        self._scroll = True

    def draw(self, state, node, rect) -> None:
        try:
            self._refresh(state, node)
        except DATA_ERRORS as exc:
            report(state, node.name, exc)
            self.rows, self.times = [], np.zeros(0, dtype=np.int64)
        place(rect)
        imgui.begin(f"{node.name}###view:{node.uid}", None, PANEL_FLAGS)
        self._toolbar(state, node)
        self._filter(state, node)
        kind = state.time.kind
        flags = (
            imgui.TableFlags_.row_bg.value
            | imgui.TableFlags_.borders_inner_v.value
            | imgui.TableFlags_.scroll_y.value
            | imgui.TableFlags_.resizable.value
        )
        if imgui.begin_table(f"log{node.uid}", 4, flags):
            imgui.table_setup_scroll_freeze(0, 1)
            time_w = imgui.calc_text_size(format_time(int(self.times[-1]) if len(self.times) else 0, kind)).x + 8
            entity_w = min(max((imgui.calc_text_size(p).x for p in self._entities), default=40.0) + 8, 180.0)
            for name, w in (("time", time_w), ("entity", entity_w), ("level", imgui.calc_text_size("ERROR").x + 8)):
                imgui.table_setup_column(name, imgui.TableColumnFlags_.width_fixed.value, w)
            imgui.table_setup_column("text", imgui.TableColumnFlags_.width_stretch.value)
            imgui.table_headers_row()
            clipper = imgui.ListClipper()
            clipper.begin(len(self.shown))
            while clipper.step():
                for j in range(clipper.display_start, clipper.display_end):
                    t, path, level, text = self.rows[self.shown[j]]
                    imgui.table_next_row()
                    imgui.table_next_column()
                    imgui.text(format_time(t, kind))
                    imgui.table_next_column()
                    imgui.text(path)
                    imgui.table_next_column()
                    imgui.text_colored(imgui.ImVec4(*LEVEL_COLORS.get(level, (0.8, 0.8, 0.8, 1.0))), level)
                    imgui.table_next_column()
                    imgui.text(text)
                    if not state.options.screenshot_to and imgui.is_item_hovered():
                        imgui.set_tooltip(f"{format_time(t, kind)}  {path}  [{level}]\n{text}")
            if getattr(self, "_scroll", False) and node.ui.get("follow", True):
                imgui.set_scroll_here_y(1.0)
                self._scroll = False
            imgui.end_table()
        imgui.end()

    def _toolbar(self, state, node) -> None:
        """Search field and follow toggle on one line, a checkbox per level on the next."""
        imgui.set_next_item_width(max(imgui.get_content_region_avail().x - 80, 60))
        changed, text = imgui.input_text_with_hint(f"##search{node.uid}", "search", node.ui.get("search", ""))
        if changed:
            node.ui["search"] = text
        record_item(state, f"log_search:{node.name}")
        imgui.same_line()
        follow = imgui.checkbox(f"follow##{node.uid}", node.ui.get("follow", True))
        if follow[0]:
            node.ui["follow"] = follow[1]
        record_item(state, f"log_follow:{node.name}")
        hidden = set(node.ui.get("hidden_levels", []))
        for i, level in enumerate(self.levels()):
            if i:
                imgui.same_line()
            changed, on = imgui.checkbox(f"{level}##{node.uid}", level not in hidden)
            record_item(state, f"level:{node.name}:{level}")
            if changed:
                (hidden.discard if on else hidden.add)(level)
                node.ui["hidden_levels"] = sorted(hidden)
