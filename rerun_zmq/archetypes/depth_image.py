"""DepthImage and SegmentationImage: single-channel images with their own meaning."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from .. import _components as c
from ._common import BATCH_OF, TableArchetype
from .image import BUFFER, FORMAT, image_buffer

RANGE = pa.list_(pa.float64(), 2)


def _depth_range(value: Any) -> np.ndarray:
    arr = c._numbers(value, np.float64, "a depth range [min, max]")
    if arr.size != 2:
        raise ValueError(f"expected a depth range [min, max], got shape {arr.shape}")
    return arr.reshape(1, 2)


def _depth_ranges(value: Any) -> np.ndarray:
    arr = c._numbers(value, np.float64, "depth ranges of shape (N, 2)")
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"expected depth ranges of shape (N, 2), got shape {arr.shape}")
    return arr


BATCH_OF[_depth_range] = _depth_ranges


class _SingleChannelImage(TableArchetype):
    primary_field = "buffer"

    def _put_image(self, image: Any, integers: bool = False) -> None:
        try:
            buffer, fmt = image_buffer(image, single_channel=True)
            if integers and fmt[0]["datatype"].startswith("float"):
                raise TypeError("expected a segmentation image of integer class ids, got floats")
        except (ValueError, TypeError) as exc:
            self._fail("buffer", exc)
            return
        self._add("buffer", BUFFER, buffer)
        self._add("format", FORMAT, fmt)


class DepthImage(_SingleChannelImage):
    """A depth image (H, W); ``meter`` is how many depth units make a meter (e.g. 1000 for mm).

    Stored like ``Image`` (``DepthImage:buffer``, ``DepthImage:format``) plus ``meter``, ``colormap``
    (a name, e.g. ``"Turbo"``), ``depth_range`` ([min, max], float64), ``point_fill_ratio``, ``draw_order``.
    """

    archetype_name = "DepthImage"
    _specs = {
        "meter": (c.F32, c.float32_one),
        "colormap": (c.STRING, c.text_one),
        "depth_range": (RANGE, _depth_range),
        "point_fill_ratio": (c.F32, c.float32_one),
        "draw_order": (c.F32, c.float32_one),
    }

    def __init__(
        self,
        image: Any,
        *,
        meter: float | None = None,
        colormap: Any = None,
        depth_range: Any = None,
        point_fill_ratio: float | None = None,
        draw_order: float | None = None,
    ) -> None:
        super().__init__()
        self._put_image(image)
        self._put("meter", meter)
        self._put("colormap", None if colormap is None else str(getattr(colormap, "name", colormap)))
        self._put("depth_range", depth_range)
        self._put("point_fill_ratio", point_fill_ratio)
        self._put("draw_order", draw_order)


class SegmentationImage(_SingleChannelImage):
    """An image of class ids (H, W) of integers, colored through the annotation context."""

    archetype_name = "SegmentationImage"
    _specs = {
        "opacity": (c.F32, c.float32_one),
        "draw_order": (c.F32, c.float32_one),
    }

    def __init__(self, image: Any, *, opacity: float | None = None, draw_order: float | None = None) -> None:
        super().__init__()
        self._put_image(image, integers=True)
        self._put("opacity", opacity)
        self._put("draw_order", draw_order)
