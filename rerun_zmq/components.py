"""Component-level names Rerun code refers to as ``rr.components.X``."""

from __future__ import annotations

from .datatypes import Box2DFormat as Box2DFormat
from .datatypes import FillMode as FillMode
from .datatypes import MediaType as MediaType
from .datatypes import TextLogLevel as TextLogLevel
from .datatypes import TransformRelation as TransformRelation

__all__ = ["Box2DFormat", "FillMode", "MediaType", "TextLogLevel", "TransformRelation"]
