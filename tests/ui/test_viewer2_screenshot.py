"""``rerun-zmq FILE --screenshot-to`` under the session's Xvfb, on the small mixed recording: the
automatic layout shows the 2D view on top, the time series and text log below, each with its data."""

from __future__ import annotations

import numpy as np
import pytest

from ui.app import TIMELINE_HEIGHT, TREE_WIDTH
from ui.png import load_png
from ui.views.timeseries import palette_color
from ui.workspace import SELECTION_WIDTH

from ._viewer2 import color_count
from ._viewer2_data import BOX_COLOR, IMAGE_COLOR, POINT_COLOR, write_mixed
from .conftest import run_viewer

pytestmark = pytest.mark.gui

W, H = 1200, 760
MENU = 19


@pytest.fixture(scope="module")
def shot(xvfb_display, tmp_path_factory) -> np.ndarray:
    out = tmp_path_factory.mktemp("v2shot")
    rrd, png = str(out / "mixed.rrd"), str(out / "mixed.png")
    write_mixed(rrd, app_id="shot_test")
    proc = run_viewer(xvfb_display, rrd, "--screenshot-to", png, "--window-size", f"{W}x{H}", "--time", "frame=10")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return load_png(png)


def views_area():
    x0, x1 = TREE_WIDTH, W - SELECTION_WIDTH
    y0, y1 = MENU, H - TIMELINE_HEIGHT
    return x0, y0, x1, y1


def test_2d_view_on_top(shot):
    x0, y0, x1, y1 = views_area()
    top = shot[y0 : int(y0 + (y1 - y0) * 0.6), x0:x1]
    for rgb in (IMAGE_COLOR, POINT_COLOR, BOX_COLOR):
        assert color_count(top, rgb, 30) > 20, rgb


def test_time_series_bottom_left_has_both_series(shot):
    x0, y0, x1, y1 = views_area()
    plot = shot[int(y0 + (y1 - y0) * 0.6) : y1, x0 : (x0 + x1) // 2]
    for i in range(2):  # /metrics/cos, /metrics/sin
        assert color_count(plot, palette_color(i)[:3], 40) > 30, i
    assert color_count(plot, (255, 209, 79), 30) > 10  # the cursor line


def test_text_log_bottom_right_shows_levels_up_to_the_cursor(shot):
    x0, y0, x1, y1 = views_area()
    log = shot[int(y0 + (y1 - y0) * 0.6) : y1, (x0 + x1) // 2 : x1]
    for rgb in ((127, 217, 127), (255, 204, 76), (255, 89, 76)):  # INFO, WARN, ERROR
        assert color_count(log, rgb, 40) > 5, rgb
