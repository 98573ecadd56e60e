"""The archetypes: named bundles of components that ``rr.log`` accepts."""

from __future__ import annotations

from ._base import Archetype as Archetype
from .annotation_context import AnnotationContext as AnnotationContext
from .any_values import AnyValues as AnyValues
from .arrows2d import Arrows2D as Arrows2D
from .arrows3d import Arrows3D as Arrows3D
from .bar_chart import BarChart as BarChart
from .boxes2d import Boxes2D as Boxes2D
from .boxes3d import Boxes3D as Boxes3D
from .clear import Clear as Clear
from .depth_image import DepthImage as DepthImage
from .depth_image import SegmentationImage as SegmentationImage
from .encoded_image import EncodedImage as EncodedImage
from .image import Image as Image
from .line_strips2d import LineStrips2D as LineStrips2D
from .line_strips3d import LineStrips3D as LineStrips3D
from .pinhole import Pinhole as Pinhole
from .points2d import Points2D as Points2D
from .points3d import Points3D as Points3D
from .scalars import Scalar as Scalar
from .scalars import Scalars as Scalars
from .series import SeriesLine as SeriesLine
from .series import SeriesLines as SeriesLines
from .series import SeriesPoint as SeriesPoint
from .series import SeriesPoints as SeriesPoints
from .text_document import TextDocument as TextDocument
from .text_log import TextLog as TextLog
from .transform3d import Transform3D as Transform3D
from .view_coordinates import ViewCoordinates as ViewCoordinates

__all__ = [
    "AnnotationContext",
    "AnyValues",
    "Archetype",
    "Arrows2D",
    "Arrows3D",
    "BarChart",
    "Boxes2D",
    "Boxes3D",
    "Clear",
    "DepthImage",
    "EncodedImage",
    "Image",
    "LineStrips2D",
    "LineStrips3D",
    "Pinhole",
    "Points2D",
    "Points3D",
    "Scalar",
    "Scalars",
    "SegmentationImage",
    "SeriesLine",
    "SeriesLines",
    "SeriesPoint",
    "SeriesPoints",
    "TextDocument",
    "TextLog",
    "Transform3D",
    "ViewCoordinates",
]
