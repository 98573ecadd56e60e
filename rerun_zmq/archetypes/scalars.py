"""Scalars: one or more numbers per row, plotted as time series."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _components as c
from ._base import ComponentBatch, ComponentColumnList
from ._common import TableArchetype

_KEY = "Scalars:scalars"
_SIG = ((_KEY, id(c.F64)),)


class Scalars(TableArchetype):
    """A float or a 1-D array of floats (one per series); ``Scalars:scalars`` is float64."""

    archetype_name = "Scalars"
    primary_field = "scalars"
    _specs = {"scalars": (c.F64, c.scalars)}

    def __init__(self, scalars: Any) -> None:
        if type(scalars) is float:  # the hot path (one number per call): what ``_put`` would build
            self._batches = [ComponentBatch(_KEY, c.F64, (scalars,))]
            self._errors = []
            self._sig = _SIG
            return
        super().__init__()
        self._put("scalars", scalars)

    @classmethod
    def columns(cls, **fields: Any) -> ComponentColumnList:
        """``scalars``: one value per row, or an ``(n_rows, k)`` array for k series per row."""
        value = fields.get("scalars")
        if isinstance(value, np.ndarray | list | tuple) and np.ndim(value) == 2:
            rows = np.asarray(value)
            fields["scalars"] = rows.reshape(-1)
            return super().columns(**fields).partition(np.full(len(rows), rows.shape[1]))
        return super().columns(**fields)


#: the older, singular name
Scalar = Scalars
