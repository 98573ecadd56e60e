"""rerun-zmq: log multi-process robotics data (``import rerun_zmq as rr``) and view it live or from files.

The public API mirrors Rerun's Python SDK: ``rr.init``, ``rr.log``, ``rr.set_time``, archetypes such as
``rr.Points3D``, ``rr.save``, ``rr.connect``, ``rr.spawn``. Importing this package never imports the GUI.
"""

from __future__ import annotations

__version__ = "0.1.0"


from . import archetypes as archetypes
from . import components as components
from . import datatypes as datatypes
from . import utilities as utilities
from ._api import TimeColumn as TimeColumn
from ._api import TimeNanosColumn as TimeNanosColumn
from ._api import TimeSecondsColumn as TimeSecondsColumn
from ._api import TimeSequenceColumn as TimeSequenceColumn
from ._api import connect as connect
from ._api import connect_tcp as connect_tcp
from ._api import disable_timeline as disable_timeline
from ._api import disconnect as disconnect
from ._api import flush as flush
from ._api import get_application_id as get_application_id
from ._api import get_recording_id as get_recording_id
from ._api import get_strict_mode as get_strict_mode
from ._api import init as init
from ._api import is_enabled as is_enabled
from ._api import log as log
from ._api import memory_recording as memory_recording
from ._api import new_recording as new_recording
from ._api import reset_time as reset_time
from ._api import save as save
from ._api import send_blueprint as send_blueprint
from ._api import send_columns as send_columns
from ._api import set_enabled as set_enabled
from ._api import set_time as set_time
from ._api import set_time_nanos as set_time_nanos
from ._api import set_time_seconds as set_time_seconds
from ._api import set_time_sequence as set_time_sequence
from ._api import spawn as spawn
from ._batcher import BatcherConfig as BatcherConfig
from ._errors import NotYetAvailableError as NotYetAvailableError
from ._errors import RerunZmqWarning as RerunZmqWarning
from ._errors import set_strict_mode as set_strict_mode
from ._recording import RecordingStream as RecordingStream
from ._recording import get_global as get_global_data_recording
from ._recording import get_thread_local as get_thread_local_data_recording
from ._recording import set_global as set_global_data_recording
from ._recording import set_thread_local as set_thread_local_data_recording
from ._script import script_add_args as script_add_args
from ._script import script_setup as script_setup
from ._script import script_teardown as script_teardown
from ._sinks import MemorySink as MemoryRecording
from .archetypes import AnnotationContext as AnnotationContext
from .archetypes import AnyValues as AnyValues
from .archetypes import Archetype as Archetype
from .archetypes import Arrows2D as Arrows2D
from .archetypes import Arrows3D as Arrows3D
from .archetypes import BarChart as BarChart
from .archetypes import Boxes2D as Boxes2D
from .archetypes import Boxes3D as Boxes3D
from .archetypes import Clear as Clear
from .archetypes import DepthImage as DepthImage
from .archetypes import EncodedImage as EncodedImage
from .archetypes import Image as Image
from .archetypes import LineStrips2D as LineStrips2D
from .archetypes import LineStrips3D as LineStrips3D
from .archetypes import Pinhole as Pinhole
from .archetypes import Points2D as Points2D
from .archetypes import Points3D as Points3D
from .archetypes import Scalar as Scalar
from .archetypes import Scalars as Scalars
from .archetypes import SegmentationImage as SegmentationImage
from .archetypes import SeriesLine as SeriesLine
from .archetypes import SeriesLines as SeriesLines
from .archetypes import SeriesPoint as SeriesPoint
from .archetypes import SeriesPoints as SeriesPoints
from .archetypes import TextDocument as TextDocument
from .archetypes import TextLog as TextLog
from .archetypes import Transform3D as Transform3D
from .archetypes import ViewCoordinates as ViewCoordinates
from .archetypes._base import ComponentBatch as ComponentBatch
from .archetypes._base import ComponentColumn as ComponentColumn
from .components import Radius as Radius
from .datatypes import Angle as Angle
from .datatypes import AnnotationInfo as AnnotationInfo
from .datatypes import Box2DFormat as Box2DFormat
from .datatypes import ClassDescription as ClassDescription
from .datatypes import FillMode as FillMode
from .datatypes import MediaType as MediaType
from .datatypes import Quaternion as Quaternion
from .datatypes import RotationAxisAngle as RotationAxisAngle
from .datatypes import TextLogLevel as TextLogLevel
from .datatypes import TransformRelation as TransformRelation

_LAZY_MODULES = ("dataframe", "blueprint")


def __getattr__(name: str):
    """``rr.dataframe`` and ``rr.blueprint`` load on first use, keeping ``import rerun_zmq`` light."""
    if name in _LAZY_MODULES:
        import importlib

        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'rerun_zmq' has no attribute {name!r}")


__all__ = [
    "Angle",
    "AnnotationContext",
    "AnnotationInfo",
    "AnyValues",
    "Archetype",
    "Arrows2D",
    "Arrows3D",
    "BarChart",
    "BatcherConfig",
    "Box2DFormat",
    "Boxes2D",
    "Boxes3D",
    "ClassDescription",
    "Clear",
    "ComponentBatch",
    "ComponentColumn",
    "DepthImage",
    "EncodedImage",
    "FillMode",
    "Image",
    "LineStrips2D",
    "LineStrips3D",
    "MediaType",
    "MemoryRecording",
    "NotYetAvailableError",
    "Pinhole",
    "Points2D",
    "Points3D",
    "Quaternion",
    "Radius",
    "RecordingStream",
    "RerunZmqWarning",
    "RotationAxisAngle",
    "Scalar",
    "Scalars",
    "SegmentationImage",
    "SeriesLine",
    "SeriesLines",
    "SeriesPoint",
    "SeriesPoints",
    "TextDocument",
    "TextLog",
    "TextLogLevel",
    "TimeColumn",
    "TimeNanosColumn",
    "TimeSecondsColumn",
    "TimeSequenceColumn",
    "Transform3D",
    "TransformRelation",
    "ViewCoordinates",
    "archetypes",
    "components",
    "connect",
    "connect_tcp",
    "datatypes",
    "disable_timeline",
    "disconnect",
    "flush",
    "get_application_id",
    "get_global_data_recording",
    "get_recording_id",
    "get_strict_mode",
    "get_thread_local_data_recording",
    "init",
    "is_enabled",
    "log",
    "memory_recording",
    "new_recording",
    "reset_time",
    "save",
    "script_add_args",
    "script_setup",
    "script_teardown",
    "send_blueprint",
    "send_columns",
    "set_enabled",
    "set_global_data_recording",
    "set_strict_mode",
    "set_thread_local_data_recording",
    "set_time",
    "set_time_nanos",
    "set_time_seconds",
    "set_time_sequence",
    "spawn",
    "utilities",
]
