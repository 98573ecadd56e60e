"""BarChart: one bar per value."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _components as c
from ._common import TableArchetype


def _values(value: Any) -> np.ndarray:
    arr = c._numbers(value, np.float64, "a 1-D array of numbers")
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-D array of numbers, got shape {arr.shape}")
    return arr


class BarChart(TableArchetype):
    """A bar chart of a 1-D array; ``BarChart:values`` is float64, one instance per bar."""

    archetype_name = "BarChart"
    primary_field = "values"
    _specs = {"values": (c.F64, _values), "color": (c.COLOR, c.color_one)}

    def __init__(self, values: Any, *, color: Any = None) -> None:
        super().__init__()
        self._put("values", values)
        self._put("color", color)
