"""Scalars: one or more numbers per row, plotted as time series."""

from __future__ import annotations

from typing import Any

from .. import _components as c
from ._common import TableArchetype


class Scalars(TableArchetype):
    """A float or a 1-D array of floats (one per series); ``Scalars:scalars`` is float64."""

    archetype_name = "Scalars"
    primary_field = "scalars"
    _specs = {"scalars": (c.F64, c.scalars)}

    def __init__(self, scalars: Any) -> None:
        super().__init__()
        self._put("scalars", scalars)


#: the older, singular name
Scalar = Scalars
