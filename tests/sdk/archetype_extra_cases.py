"""Input/expected tables for the archetypes beyond the tutorial's: series styles, 2-D arrows,
depth/segmentation/encoded images and bar charts. Same layout as ``archetype_cases``."""

from __future__ import annotations

import numpy as np

import rerun_zmq.archetypes as rra
from rerun_zmq.datatypes import MediaType

PNG = b"\x89PNG\r\n\x1a\n" + bytes(8)

VALID_EXTRA = [
    (
        "series-lines",
        lambda: rra.SeriesLines(colors=[255, 0, 0], widths=2, names="sin"),
        {"SeriesLines:colors": [0xFF0000FF], "SeriesLines:widths": [2.0], "SeriesLines:names": ["sin"]},
    ),
    (
        "series-line-legacy",
        lambda: rra.SeriesLine(color=[0, 255, 0], name="cos", width=1),
        {"SeriesLines:colors": [0x00FF00FF], "SeriesLines:widths": [1.0], "SeriesLines:names": ["cos"]},
    ),
    (
        "series-points",
        lambda: rra.SeriesPoints(
            markers=["Cross", "circle"], marker_sizes=[4, 2], visible_series=[True, False]
        ),
        {
            "SeriesPoints:markers": ["cross", "circle"],
            "SeriesPoints:marker_sizes": [4.0, 2.0],
            "SeriesPoints:visible_series": [True, False],
        },
    ),
    (
        "arrows2d",
        lambda: rra.Arrows2D(vectors=[[1, 0]], origins=[[0, 1]], draw_order=1),
        {"Arrows2D:vectors": [[1, 0]], "Arrows2D:origins": [[0, 1]], "Arrows2D:draw_order": [1.0]},
    ),
    (
        "depth-image",
        lambda: rra.DepthImage(np.full((2, 2), 1000, np.uint16), meter=1000, depth_range=[0, 5]),
        {
            "DepthImage:buffer": [np.full((2, 2), 1000, np.uint16).tobytes()],
            "DepthImage:format": [{"width": 2, "height": 2, "channels": 1, "datatype": "uint16"}],
            "DepthImage:meter": [1000.0],
            "DepthImage:depth_range": [[0.0, 5.0]],
        },
    ),
    (
        "segmentation-image",
        lambda: rra.SegmentationImage(np.zeros((1, 3), np.uint8), opacity=0.5),
        {
            "SegmentationImage:buffer": [bytes(3)],
            "SegmentationImage:format": [{"width": 3, "height": 1, "channels": 1, "datatype": "uint8"}],
            "SegmentationImage:opacity": [0.5],
        },
    ),
    (
        "encoded-image",
        lambda: rra.EncodedImage(contents=PNG, media_type="image/png"),
        {"EncodedImage:blob": [PNG], "EncodedImage:media_type": ["image/png"]},
    ),
    (
        "bar-chart",
        lambda: rra.BarChart([1, 2, 3], color=[0, 0, 255]),
        {"BarChart:values": [1.0, 2.0, 3.0], "BarChart:color": [0x0000FFFF]},
    ),
]

VALID_EXTRA += [
    (
        "text-document",
        lambda: rra.TextDocument("# Title", media_type=MediaType.MARKDOWN),
        {"TextDocument:text": ["# Title"], "TextDocument:media_type": ["text/markdown"]},
    ),
]

INVALID_EXTRA = [
    ("text-document-bytes", lambda: rra.TextDocument(b"x"), "text", TypeError, "string", True),
    ("series-marker", lambda: rra.SeriesPoints(markers="blob"), "markers", ValueError, "circle", False),
    ("arrows2d-shape", lambda: rra.Arrows2D(vectors=np.zeros((2, 3))), "vectors", ValueError, "(N, 2)", True),
    ("depth-rgb", lambda: rra.DepthImage(np.zeros((2, 2, 3))), "buffer", ValueError, "(H, W, 1)", True),
    (
        "depth-range",
        lambda: rra.DepthImage(np.zeros((2, 2)), depth_range=[1]),
        "depth_range",
        ValueError,
        "[min",
        False,
    ),
    (
        "segmentation-float",
        lambda: rra.SegmentationImage(np.zeros((2, 2))),
        "buffer",
        TypeError,
        "integer",
        True,
    ),
    ("encoded-nothing", lambda: rra.EncodedImage(), "blob", TypeError, "path=", True),
    (
        "encoded-missing",
        lambda: rra.EncodedImage(path="/nonexistent.png"),
        "blob",
        ValueError,
        "cannot read",
        True,
    ),
    ("bar-chart-2d", lambda: rra.BarChart(np.zeros((2, 2))), "values", ValueError, "1-D", True),
]
