"""Status bar: what is failing or the latest notice (a save's result), a running save's progress,
connected producers, rows/s arriving, data dropped by the memory limit or by policy."""

from __future__ import annotations

import time

from imgui_bundle import imgui

from .panels import PANEL_FLAGS, place, record_item

_EVERY = 0.5  # seconds between recounts (row counts cost O(entities))
_ERROR = (1.0, 0.45, 0.4, 1.0)
_INFO = (0.55, 0.85, 0.55, 1.0)


class StatusBar:
    def __init__(self) -> None:
        self._t = 0.0
        self._rows = 0
        self._store_id = 0
        self.rate = 0.0
        self.text = ""
        self.message: tuple[str, tuple] | None = None  # (text, rgba) shown before the counts

    def _refresh(self, state, viewer) -> None:
        now = time.monotonic()
        if now - self._t < _EVERY:
            return
        st = state.store
        rows = sum(st.row_counts().values()) if st is not None else 0
        if id(st) == self._store_id and self._t:
            self.rate = max(rows - self._rows, 0) / (now - self._t)
        self._t, self._rows, self._store_id = now, rows, id(st)
        parts = []
        live = getattr(viewer, "live", None)
        stats = state.live_stats
        if live is not None:
            count = stats.get("producers", "?")
            parts.append(f"live {state.live_endpoint}: {count} producer(s)")
            if "rows_per_s" in stats:
                parts.append(f"ingest {stats['rows_per_s']:,.0f} rows/s")
        parts.append(f"{len(state.recordings)} recording(s)")
        parts.append(f"{rows:,} rows, {self.rate:,.0f} rows/s")
        dropped = st.dropped_summary() if st is not None and hasattr(st, "dropped_summary") else None
        if dropped is not None and dropped.num_rows:
            parts.append(f"dropped {dropped.num_rows:,} rows ({dropped.num_bytes / 1e6:.1f} MB) by the memory limit")
        if stats.get("dropped_rows"):
            parts.append(f"ingest dropped {stats['dropped_rows']:,} rows by the memory limit")
        if stats.get("rejected"):
            parts.append(f"ingest refused {stats['rejected']:,} message(s) by policy")
        refused = sum(1 for e in state.errors if "refused" in e)
        if refused:
            parts.append(f"{refused} chunk(s) refused")
        self.text = "   |   ".join(parts)

    def draw(self, state, viewer, rect) -> None:
        self._refresh(state, viewer)
        place(rect)
        imgui.push_style_var(imgui.StyleVar_.window_padding.value, imgui.ImVec2(8, 4))
        imgui.begin(
            "##status",
            None,
            PANEL_FLAGS | imgui.WindowFlags_.no_title_bar.value | imgui.WindowFlags_.no_scrollbar.value,
        )
        imgui.pop_style_var()
        job = state.save_job
        if job is not None and job.running:
            imgui.progress_bar(job.progress, imgui.ImVec2(260, 0), f"saving {job.describe()}")
            record_item(state, "status_save")
            imgui.same_line(0, 24)
        self.message = self._message(state)
        if self.message is not None:
            text, color = self.message
            imgui.text_colored(imgui.ImVec4(*color), text)
            record_item(state, "status_message")
            imgui.same_line(0, 24)
        imgui.text_disabled(self.text)
        record_item(state, "status")
        imgui.end()

    @staticmethod
    def _message(state) -> tuple[str, tuple] | None:
        """What needs the user's eye first: a view or panel failing now, else the latest notice."""
        faults = state.faults.active
        if faults:
            newest = state.faults.newest()
            more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
            return f"{newest.where} failed: {newest.message}{more}", _ERROR
        if state.notice is not None:
            return state.notice.text, _ERROR if state.notice.level == "error" else _INFO
        return None
