"""Time series view: every Scalars entity in the view's filter as implot lines, the cursor as a line.

Series are named by entity path (``path[i]`` when a row holds several values, or the logged
``SeriesLines:names``). The visible time range is the whole timeline, or the last N units before
the cursor. A click in the plot (without dragging) moves the time cursor to the nearest data time.
"""

from __future__ import annotations

import numpy as np
from imgui_bundle import imgui, implot

from .. import playback
from ..panels import PANEL_FLAGS, place, record_item
from ..timefmt import NS, format_time
from . import DATA_ERRORS, report

SCALARS = "Scalars:scalars"
_TOOLTIP_SERIES = 8


def to_x(t: np.ndarray | int, kind: str):
    """Timeline values -> plot x (sequence as is; durations and timestamps in seconds)."""
    return np.asarray(t, dtype=np.float64) / (1.0 if kind == "sequence" else NS)


def from_x(x: float, kind: str) -> int:
    return int(round(x * (1.0 if kind == "sequence" else NS)))


#: distinct series colors (Tableau 10), by the series' order in the view
PALETTE = np.array(
    [
        (78, 121, 167),
        (242, 142, 43),
        (225, 87, 89),
        (118, 183, 178),
        (89, 161, 79),
        (237, 201, 72),
        (176, 122, 161),
        (255, 157, 167),
        (156, 117, 95),
        (186, 176, 172),
    ],
    dtype=np.uint8,
)


def palette_color(index: int) -> np.ndarray:
    return np.append(PALETTE[index % len(PALETTE)], 255).astype(np.uint8)


def _name_and_color(store, path: str, i: int, n: int, index: int) -> tuple[str, np.ndarray, str | None]:
    """Legend name, color and marker (None: a line) of series ``i`` of ``path``."""
    from rerun_zmq._components import unpack_colors

    cells = store.latest_at(path, None, 0) if hasattr(store, "range") else {}
    name = f"{path}[{i}]" if n > 1 else path
    names = cells.get("SeriesLines:names") or cells.get("SeriesPoints:names")
    if names is not None and i < len(names.values):
        name = f"{names.values[i].as_py()}##{path}[{i}]"
    color = palette_color(index)
    colors = cells.get("SeriesLines:colors") or cells.get("SeriesPoints:colors")
    if colors is not None and len(colors.values):
        color = unpack_colors(colors.values)[min(i, len(colors.values) - 1)]
    marker = None
    if any(k.startswith("SeriesPoints:") for k in cells) and not any(k.startswith("SeriesLines:") for k in cells):
        markers = cells.get("SeriesPoints:markers")
        marker = (
            markers.values[min(i, len(markers.values) - 1)].as_py() if markers and len(markers.values) else "circle"
        )
    return name, color, marker


def _spec(rgba, weight: float, marker: str | None = None):
    spec = implot.Spec()
    color = imgui.ImVec4(*(float(c) for c in rgba))
    spec.line_color = color
    spec.line_weight = weight
    if marker is not None:
        spec.marker = getattr(implot.Marker_, marker, implot.Marker_.circle).value
        spec.marker_fill_color = color
        spec.marker_line_color = color
        spec.marker_size = 3.0
    return spec


class TimeSeriesView:
    def __init__(self) -> None:
        self._key: tuple | None = None
        #: (label, color rgba uint8, times int64, values float64) per series
        self.series: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
        self._plot: list[tuple[str, np.ndarray, np.ndarray, object]] = []  # (name, xs, ys, spec), per refresh
        self._times = np.zeros(0, dtype=np.int64)  # every data time (click snaps to these)

    def _refresh(self, state, node) -> None:
        st, tl = state.store, state.time.timeline
        window = float(node.ui.get("window", 0.0))
        cursor_part = state.time.cursor if window > 0 else None
        key = (
            id(st),
            state.generation,
            tl,
            frozenset(state.hidden),
            tuple(node.contents),
            node.origin,
            window,
            cursor_part,
        )
        if key == self._key:
            return
        self._key = key
        self.series, self._plot, self._times = [], [], np.zeros(0, dtype=np.int64)
        if st is None or tl is None or not hasattr(st, "range"):
            return
        rng = st.time_range(tl)
        if rng is None:
            return
        t0, t1 = rng
        if window > 0:
            t0, t1 = state.time.cursor - from_x(window, state.time.kind), state.time.cursor
        markers: list[str | None] = []
        for path in st.entity_paths():
            if not node.includes(path) or not state.is_visible(path) or SCALARS not in st.components(path):
                continue
            table = st.range(path, tl, t0, t1, [SCALARS])
            if table.num_rows == 0:
                continue
            times = table.column(tl).to_numpy()
            col = table.column(SCALARS).combine_chunks()
            lengths = col.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
            flat = col.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
            width = int(lengths.max()) if len(lengths) else 0
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
            for i in range(width):
                ok = lengths > i
                name, color, marker = _name_and_color(st, path, i, width, len(self.series))
                self.series.append((name, color, times[ok], flat[starts[ok] + i]))
                markers.append(marker)
        kind = state.time.kind
        self._plot = [
            (n, to_x(t, kind), v, _spec(c / 255.0, 1.5, m), m is not None)
            for (n, c, t, v), m in zip(self.series, markers)
        ]
        if self.series:
            self._times = np.unique(np.concatenate([s[2] for s in self.series]))

    def draw(self, state, node, rect) -> None:
        try:
            self._refresh(state, node)
        except DATA_ERRORS as exc:
            report(state, node.name, exc)
            self.series, self._plot = [], []
        place(rect)
        imgui.begin(f"{node.name}###view:{node.uid}", None, PANEL_FLAGS | imgui.WindowFlags_.no_scrollbar.value)
        kind = state.time.kind
        imgui.set_next_item_width(110)
        changed, window = imgui.drag_float(
            "visible",
            float(node.ui.get("window", 0.0)),
            0.1,
            0.0,
            1e9,
            "all" if node.ui.get("window", 0.0) <= 0 else "last %.1f",
        )
        if changed:
            node.ui["window"] = max(window, 0.0)
        record_item(state, f"ts_window:{node.name}")
        if not hasattr(state.store, "range") and state.store is not None:
            imgui.text_disabled("Time series need the full history: open the recording's file.")
        avail = imgui.get_content_region_avail()
        if implot.begin_plot(f"##plot{node.uid}", imgui.ImVec2(avail.x, max(avail.y, 50))):
            # at the live end the plot keeps fitting the data; anywhere else the user pans and zooms
            fit = implot.AxisFlags_.auto_fit.value if state.time.follow and node.ui.get("window", 0.0) <= 0 else 0
            implot.setup_axes(state.time.timeline or "time", "", fit, fit)
            flags = implot.Cond_.always.value if node.ui.get("window", 0.0) > 0 else implot.Cond_.once.value
            if node.ui.get("window", 0.0) > 0:
                c = to_x(state.time.cursor, kind)
                implot.setup_axis_limits(implot.ImAxis_.x1.value, float(c) - node.ui["window"], float(c), flags)
            for name, xs, ys, spec, points in self._plot:
                (implot.plot_scatter if points else implot.plot_line)(name, xs, ys, spec)
            if state.time.timeline is not None:
                cursor = np.array([to_x(state.time.cursor, kind)], dtype=np.float64)
                implot.plot_inf_lines("##cursor", cursor, _spec((1.0, 0.82, 0.31, 1.0), 2.0))
            self._click(state, kind)
            implot.end_plot()
        record_item(state, f"plot:{node.name}")
        imgui.end()

    def _nearest_time(self, x: float, kind: str) -> int:
        target = from_x(x, kind)
        if len(self._times):
            target = int(self._times[np.argmin(np.abs(self._times - target))])
        return target

    def _click(self, state, kind: str) -> None:
        """Hover: a tooltip with the series' values at the nearest data time. A click (not a drag)
        moves the cursor to that time."""
        if not implot.is_plot_hovered():
            return
        t = self._nearest_time(implot.get_plot_mouse_pos().x, kind)
        lines = [format_time(t, kind)]
        for name, _, times, values in self.series[:_TOOLTIP_SERIES]:
            j = np.searchsorted(times, t)
            if j < len(times) and times[j] == t:
                lines.append(f"{name.split('##')[0]}: {values[j]:.6g}")
        if len(self.series) > _TOOLTIP_SERIES:
            lines.append(f"... {len(self.series) - _TOOLTIP_SERIES} more series")
        if not state.options.screenshot_to:  # a screenshot shows the data, not the pointer's tooltip
            imgui.set_tooltip("\n".join(lines))
        if imgui.is_mouse_released(0) and imgui.get_io().mouse_drag_max_distance_sqr[0] <= 16:
            state.time.playing = state.time.follow = False
            playback.set_cursor(state, t, user=False)
