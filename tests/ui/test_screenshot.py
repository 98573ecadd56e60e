"""``rerun-zmq FILE --screenshot-to`` under the session's Xvfb: the real glfw window path."""

from __future__ import annotations

import numpy as np
import pytest

from ui.app import TIMELINE_HEIGHT, TREE_WIDTH
from ui.png import load_png
from ui.view3d import BACKGROUND

from ._dna import BEAD, LEFT, RIGHT, color_mask
from .conftest import run_viewer

pytestmark = pytest.mark.gui

SIZE = (960, 600)


def view_region(img: np.ndarray) -> np.ndarray:
    """The 3D view's pixels: the bounding box of its background color, wherever the layout put it."""
    bg = np.round(np.array(BACKGROUND[:3]) * 255).astype(np.int16)
    ys, xs = np.nonzero((np.abs(img[..., :3].astype(np.int16) - bg) <= 1).all(axis=-1))
    assert len(xs) > 10_000, "no 3D view found in the screenshot"
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    assert x0 >= TREE_WIDTH - 10 and y1 <= SIZE[1] - TIMELINE_HEIGHT  # beside the tree, above the timeline
    return img[y0 + 1 : y1, x0 + 1 : x1]


@pytest.fixture(scope="module")
def shots(xvfb_display, dna_rrd, tmp_path_factory):
    out = tmp_path_factory.mktemp("shots")
    images = {}
    for name, extra in (
        ("t1", ["--time", "stable_time=1.0"]),
        ("t2", ["--time", "stable_time=2.5"]),
        ("hidden", ["--time", "stable_time=1.0", "--hide", "dna/structure"]),
    ):
        png = out / f"{name}.png"
        proc = run_viewer(
            xvfb_display,
            dna_rrd,
            "--screenshot-to",
            str(png),
            "--window-size",
            f"{SIZE[0]}x{SIZE[1]}",
            *extra,
        )
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
        images[name] = load_png(png)
    return images


def test_screenshot_has_requested_size(shots):
    assert shots["t1"].shape[:2] == (SIZE[1], SIZE[0])


def test_both_spiral_colors_present(shots):
    view = view_region(shots["t1"])
    assert color_mask(view, LEFT).sum() > 200
    assert color_mask(view, RIGHT).sum() > 200


def test_two_times_differ_where_beads_moved(shots):
    a, b = view_region(shots["t1"]), view_region(shots["t2"])
    beads_a, beads_b = color_mask(a, BEAD, 12), color_mask(b, BEAD, 12)
    assert beads_a.sum() > 50 and beads_b.sum() > 50
    moved = beads_a ^ beads_b
    assert moved.sum() > 50
    assert (np.abs(a.astype(int) - b.astype(int)).sum(axis=-1) > 0)[moved].all()


def test_hiding_structure_removes_spiral_pixels(shots):
    view = view_region(shots["hidden"])
    assert color_mask(view, LEFT).sum() == 0
    assert color_mask(view, RIGHT).sum() == 0
    assert color_mask(view, BEAD, 12).sum() == 0


def test_bad_time_spec_fails_cleanly(xvfb_display, dna_rrd, tmp_path):
    proc = run_viewer(xvfb_display, dna_rrd, "--screenshot-to", str(tmp_path / "x.png"), "--time", "no_such_timeline=1")
    assert proc.returncode == 1
    assert "unknown timeline" in proc.stderr
    assert "Traceback" not in proc.stderr
