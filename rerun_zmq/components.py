"""Component-level names Rerun code refers to as ``rr.components.X``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .datatypes import Box2DFormat as Box2DFormat
from .datatypes import FillMode as FillMode
from .datatypes import MediaType as MediaType
from .datatypes import TextLogLevel as TextLogLevel
from .datatypes import TransformRelation as TransformRelation


class Radius(float):
    """A radius: positive values are scene units, negative values UI points (pixels at 100 % scale).

    ``rr.Radius(0.1)`` is a plain number wherever ``radii=`` is accepted;
    ``rr.Radius.ui_points(4)`` gives the negative form, for sizes that do not change with zoom.
    """

    @staticmethod
    def ui_points(radii: Any) -> Any:
        """``radii`` (a number or an array of them) as UI-point radii: each made negative.

        A number gives a ``Radius``; anything else a float32 numpy array of the same shape.
        Bad input raises ``TypeError`` naming what was expected.
        """
        if isinstance(radii, int | float | np.number) and not isinstance(radii, bool):
            return Radius(-abs(float(radii)))
        if isinstance(radii, str | bytes):
            raise TypeError(f"Radius.ui_points: expected a number or an array of numbers, got {type(radii).__name__}")
        try:
            arr = np.array(radii, dtype=np.float32)
        except (ValueError, TypeError):
            raise TypeError(
                f"Radius.ui_points: expected a number or an array of numbers, got {type(radii).__name__}"
            ) from None
        return -np.abs(arr)

    def __repr__(self) -> str:
        return f"Radius({float(self)!r})"


__all__ = ["Box2DFormat", "FillMode", "MediaType", "Radius", "TextLogLevel", "TransformRelation"]
