"""Timeline panel: timeline selector, play/pause/step/loop/speed, scrubber with per-entity density."""

from __future__ import annotations

import numpy as np
from imgui_bundle import imgui

from .. import playback, time_selection
from ..data_client import select_timeline
from ..state import AppState
from ..timefmt import format_time
from . import PANEL_FLAGS, place, record_item

_BINS = 200
_LABEL = 28  # characters of the entity column


_LEVELS = 8  # density bar heights are quantized so that equal neighbours merge into one rectangle


def _runs(counts: np.ndarray) -> list[tuple[int, int, int]]:
    """(first bin, end bin, level 1..8) per run of non-empty bins of equal quantized height.

    Drawing one rectangle per run instead of one per bin: uniform data (the common case) needs a
    handful of draw calls per row instead of hundreds (it was most of the panels' frame time).
    """
    if not len(counts) or counts.max() <= 0:
        return []
    levels = np.where(counts > 0, np.maximum(np.ceil(_LEVELS * counts / counts.max()), 1), 0).astype(np.int64)
    edges = np.flatnonzero(np.diff(levels)) + 1
    starts = np.concatenate(([0], edges))
    stops = np.concatenate((edges, [len(levels)]))
    return [(int(a), int(b), int(levels[a])) for a, b in zip(starts, stops) if levels[a]]


def _col(r: int, g: int, b: int, a: int = 255) -> int:
    return (a << 24) | (b << 16) | (g << 8) | r


class TimelinePanel:
    def __init__(self) -> None:
        self._key: tuple | None = None
        self.density: dict[str, np.ndarray] = {}
        self.total = np.zeros(_BINS)

    def _refresh(self, state: AppState) -> None:
        key = (id(state.store), state.generation, state.time.timeline)
        if key == self._key:
            return
        self._key = key
        self.density = {}
        t = state.time.timeline
        if t is None or state.store is None:
            self.total = np.zeros(_BINS)
            return
        for path in state.store.entity_paths()[:200]:
            counts, _ = state.store.density(path, t, bins=_BINS)
            if counts.any():
                self.density[path] = counts
        self.total = np.sum(list(self.density.values()), axis=0) if self.density else np.zeros(_BINS)

    def draw(self, state: AppState, rect: tuple[float, float, float, float]) -> None:
        self._refresh(state)
        place(rect)
        imgui.begin("Timeline", None, PANEL_FLAGS)
        self._controls(state)
        rng = playback.time_range(state)
        # rows of the density child keep room for its scrollbar: the top scrubber lines up with them
        width = imgui.get_content_region_avail().x - imgui.get_style().scrollbar_size
        imgui.text("all entities".rjust(_LABEL))
        imgui.same_line()
        label_end = imgui.get_cursor_pos_x() - imgui.get_style().window_padding.x  # in the child's x
        self._scrubber(state, rng, "scrubber", self.total, 22, width - label_end)
        imgui.begin_child("density", None, 0, imgui.WindowFlags_.always_vertical_scrollbar.value)
        items = list(self.density.items())
        clipper = imgui.ListClipper()  # only the rows on screen are drawn
        clipper.begin(len(items))
        while clipper.step():
            for path, counts in items[clipper.display_start : clipper.display_end]:
                imgui.text(path[-_LABEL:].rjust(_LABEL))
                imgui.same_line(label_end)
                self._scrubber(state, rng, f"density:{path}", counts, imgui.get_text_line_height())
        clipper.end()
        imgui.end_child()
        imgui.end()

    def _controls(self, state: AppState) -> None:
        t = state.time
        imgui.set_next_item_width(160)
        if imgui.begin_combo("##timeline", t.timeline or "(no timeline)"):
            for name in state.all_timelines():
                if imgui.selectable(name, name == t.timeline)[0]:
                    select_timeline(state, name)
                record_item(state, f"timeline_item:{name}")
            imgui.end_combo()
        record_item(state, "timeline_combo")
        for label, key, action in (
            ("|<", "start", lambda: playback.set_cursor(state, (playback.time_range(state) or (0, 0))[0])),
            ("<", "step_back", lambda: playback.step(state, -1)),
            ("Pause" if t.playing else "Play", "play", lambda: playback.toggle_play(state)),
            (">", "step_fwd", lambda: playback.step(state, +1)),
            (">|", "end", lambda: _to_end(state)),
        ):
            imgui.same_line()
            if imgui.button(f"{label}###{key}"):
                action()
            record_item(state, key)
        imgui.same_line()
        t.loop = imgui.checkbox("Loop", t.loop)[1]
        imgui.same_line()
        t.follow = imgui.checkbox("Follow", t.follow)[1]
        imgui.same_line()
        imgui.set_next_item_width(80)
        t.speed = imgui.drag_float("##speed", t.speed, 0.05, 0.05, 20.0, "%.2fx")[1]
        imgui.same_line()
        imgui.text(format_time(t.cursor if t.timeline else None, t.kind))
        record_item(state, "cursor_text")

    def _scrubber(self, state, rng, key: str, counts: np.ndarray, height: float, width: float | None = None) -> None:
        width = max(imgui.get_content_region_avail().x if width is None else width, 10.0)
        pos = imgui.get_cursor_screen_pos()
        imgui.invisible_button(key, imgui.ImVec2(width, height))
        record_item(state, key)
        dl = imgui.get_window_draw_list()
        x0, y0 = pos.x, pos.y
        dl.add_rect_filled(imgui.ImVec2(x0, y0), imgui.ImVec2(x0 + width, y0 + height), _col(35, 35, 42))
        bw = width / max(len(counts), 1)
        color = _col(90, 140, 230, 200)
        for start, stop, level in _runs(counts):
            h = height * (0.3 + 0.7 * level / _LEVELS)
            dl.add_rect_filled(
                imgui.ImVec2(x0 + start * bw, y0 + height - h), imgui.ImVec2(x0 + stop * bw, y0 + height), color
            )
        if rng is None:
            return
        time_selection.draw(dl, state, rng, x0, y0, width, height)
        span = max(rng[1] - rng[0], 1)
        cx = x0 + width * (state.time.cursor - rng[0]) / span
        dl.add_line(imgui.ImVec2(cx, y0), imgui.ImVec2(cx, y0 + height), _col(255, 210, 80), 2.0)
        if key == "scrubber" and time_selection.handle(state, rng, x0, width):
            return  # Shift-drag: the time selection, not the cursor
        if imgui.is_item_active():
            mx = imgui.get_io().mouse_pos.x
            frac = min(max((mx - x0) / width, 0.0), 1.0)
            state.time.playing = False
            state.time.follow = False
            playback.set_cursor(state, rng[0] + round(frac * span))


def _to_end(state: AppState) -> None:
    rng = playback.time_range(state)
    if rng is not None:
        state.time.cursor = rng[1]
        state.time.follow = True
