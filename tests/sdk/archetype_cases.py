"""Shared input/expected tables for the archetype and converter tests.

Expected values are what the batcher's Arrow conversion yields (``to_pylist`` of each component);
those marked "rerun" were read off rerun-sdk 0.41 for the same input.
"""

from __future__ import annotations

import numpy as np

import rerun_zmq.archetypes as rra
from rerun_zmq.datatypes import Quaternion, RotationAxisAngle, TextLogLevel, TransformRelation

# (input, packed 0xRRGGBBAA colors)
COLOR_CASES = [
    ([255, 0, 0], [0xFF0000FF]),
    ([255, 0, 0, 128], [0xFF000080]),
    ((10, 20, 30), [0x0A141EFF]),
    ([1.0, 0.5, 0.0], [0xFF8000FF]),
    ([0.5, 0.5, 0.5, 0.5], [0x80808080]),
    (np.array([[0.2, 0.3, 0.4]], dtype=np.float32), [0x334C66FF]),
    (0xFF0000FF, [0xFF0000FF]),
    ([0xFF0000FF, 0x00FF00FF], [0xFF0000FF, 0x00FF00FF]),
    (np.array([0xFF0000FF, 0x00FF00FF, 7], dtype=np.uint32), [0xFF0000FF, 0x00FF00FF, 7]),
    (np.array([1, 2, 3], dtype=np.uint8), [0x010203FF]),
    ([[1, 2, 3], [4, 5, 6]], [0x010203FF, 0x040506FF]),
    (np.array([[0, 0, 255, 255]], dtype=np.uint8), [0x0000FFFF]),
    (np.repeat([[80], [230]], 3, axis=-1), [0x505050FF, 0xE6E6E6FF]),  # the tutorial's beads
]

# where we deliberately differ from rerun-sdk (which wraps out-of-range floats around)
COLOR_CASES_OURS = [
    (np.array([[1.5, -0.2, 0.5]]), [0xFF0080FF]),  # floats clipped to 0..1
    ([], []),
]

# (input, exception type, words the message must contain)
BAD_COLORS = [
    ("red", TypeError, "RGB"),
    ([[1, 2]], ValueError, "(1, 2)"),
    ([[300, 0, 0]], ValueError, "300"),
    (1.5, ValueError, "(1,)"),
    (-1, ValueError, "-1"),
    ([[True, False, True]], TypeError, "bool"),
    ([[1, 2, 3], [4, 5]], TypeError, "ragged"),
]

# (input, n, expected)
CLAMP_CASES = [
    ([7], 3, [7, 7, 7]),
    ([1, 2, 3, 4], 2, [1, 2]),
    ([1, 2], 4, [1, 2]),  # the last value is not repeated
    ([], 3, []),
    ([5], 1, [5]),
    ([5], 0, []),
]

S = RotationAxisAngle(axis=[0, 0, 1], degrees=90)

# (id, factory, {component key: expected pylist})
VALID = [
    ("points3d-one", lambda: rra.Points3D([1, 2, 3]), {"Points3D:positions": [[1, 2, 3]]}),
    (
        "points3d-flat",
        lambda: rra.Points3D([1, 2, 3, 4, 5, 6]),
        {"Points3D:positions": [[1, 2, 3], [4, 5, 6]]},
    ),
    (
        "points3d-full",
        lambda: rra.Points3D(
            np.ones((2, 3)),
            radii=0.08,
            colors=[128, 128, 128],
            labels="a",
            show_labels=True,
            class_ids=[1, 2],
            keypoint_ids=3,
        ),
        {
            "Points3D:positions": [[1, 1, 1], [1, 1, 1]],
            "Points3D:radii": [0.07999999821186066],
            "Points3D:colors": [0x808080FF],
            "Points3D:labels": ["a"],
            "Points3D:show_labels": [True],
            "Points3D:class_ids": [1, 2],
            "Points3D:keypoint_ids": [3],
        },
    ),
    (
        "points2d",
        lambda: rra.Points2D([[1, 2], [3, 4]], draw_order=2, labels=["p", "q"]),
        {"Points2D:positions": [[1, 2], [3, 4]], "Points2D:draw_order": [2.0], "Points2D:labels": ["p", "q"]},
    ),
    (
        "strips3d-array",
        lambda: rra.LineStrips3D(np.arange(12).reshape(2, 2, 3), colors=[128, 128, 128]),
        {
            "LineStrips3D:strips": [[[0, 1, 2], [3, 4, 5]], [[6, 7, 8], [9, 10, 11]]],
            "LineStrips3D:colors": [0x808080FF],
        },
    ),
    (
        "strips3d-ragged",
        lambda: rra.LineStrips3D([[[0, 0, 0], [1, 1, 1], [2, 2, 2]], np.zeros((1, 3)), []]),
        {"LineStrips3D:strips": [[[0, 0, 0], [1, 1, 1], [2, 2, 2]], [[0, 0, 0]], []]},
    ),
    (
        "strips2d",
        lambda: rra.LineStrips2D([[[0, 0], [1, 1]]], draw_order=1),
        {"LineStrips2D:strips": [[[0, 0], [1, 1]]], "LineStrips2D:draw_order": [1.0]},
    ),
    (
        "boxes3d-sizes-mins",  # rerun
        lambda: rra.Boxes3D(sizes=[2, 4, 6], mins=[1, 1, 1]),
        {"Boxes3D:half_sizes": [[1, 2, 3]], "Boxes3D:centers": [[2, 3, 4]]},
    ),
    (
        "boxes3d-rotations",
        lambda: rra.Boxes3D(
            half_sizes=[[1, 1, 1]], rotations=[RotationAxisAngle([0, 0, 1], radians=1.0)], fill_mode="solid"
        ),
        {
            "Boxes3D:half_sizes": [[1, 1, 1]],
            "Boxes3D:rotation_axis_angles": [[0, 0, 1, 1]],
            "Boxes3D:fill_mode": ["Solid"],
        },
    ),
    (
        "boxes3d-quaternions",
        lambda: rra.Boxes3D(centers=[[0, 0, 0]], quaternions=[Quaternion(xyzw=[0, 0, 0, 1])]),
        {"Boxes3D:centers": [[0, 0, 0]], "Boxes3D:quaternions": [[0, 0, 0, 1]]},
    ),
    (
        "boxes2d-sizes",  # rerun
        lambda: rra.Boxes2D(mins=[1, 2], sizes=[3, 4], draw_order=3),
        {"Boxes2D:half_sizes": [[1.5, 2]], "Boxes2D:centers": [[2.5, 4]], "Boxes2D:draw_order": [3.0]},
    ),
    (
        "arrows3d",
        lambda: rra.Arrows3D(vectors=[[1, 0, 0], [0, 1, 0]], origins=[0, 0, 0], radii=[0.1, 0.2]),
        {
            "Arrows3D:vectors": [[1, 0, 0], [0, 1, 0]],
            "Arrows3D:origins": [[0, 0, 0]],
            "Arrows3D:radii": [0.10000000149011612, 0.20000000298023224],
        },
    ),
    (
        "transform3d-tutorial",
        lambda: rra.Transform3D(translation=[1, 2, 3], rotation=S, scale=2),
        {
            "Transform3D:translation": [[1, 2, 3]],
            "Transform3D:rotation_axis_angle": [[0, 0, 1, 1.5707963705062866]],
            "Transform3D:scale": [[2, 2, 2]],
        },
    ),
    (
        "transform3d-mat",  # rerun: rows in, column-major out
        lambda: rra.Transform3D(mat3x3=np.arange(9).reshape(3, 3), from_parent=True),
        {"Transform3D:mat3x3": [[0, 3, 6, 1, 4, 7, 2, 5, 8]], "Transform3D:relation": ["ChildFromParent"]},
    ),
    (
        "transform3d-quat",
        lambda: rra.Transform3D(
            quaternion=[0, 0, 1, 0],
            relation=TransformRelation.ParentFromChild,
            scale=[1, 2, 3],
            axis_length=0.5,
        ),
        {
            "Transform3D:quaternion": [[0, 0, 1, 0]],
            "Transform3D:relation": ["ParentFromChild"],
            "Transform3D:scale": [[1, 2, 3]],
            "Transform3D:axis_length": [0.5],
        },
    ),
    ("transform3d-empty", lambda: rra.Transform3D(), {}),
    ("scalars-float", lambda: rra.Scalars(1.5), {"Scalars:scalars": [1.5]}),
    ("scalars-array", lambda: rra.Scalars([1, 2, 3]), {"Scalars:scalars": [1.0, 2.0, 3.0]}),
    ("scalar-alias", lambda: rra.Scalar(np.float32(2)), {"Scalars:scalars": [2.0]}),
    (
        "textlog",
        lambda: rra.TextLog("hi", level=TextLogLevel.WARN, color=[255, 0, 0]),
        {"TextLog:text": ["hi"], "TextLog:level": ["WARN"], "TextLog:color": [0xFF0000FF]},
    ),
    (
        "image-rgb",
        lambda: rra.Image(np.arange(24, dtype=np.uint8).reshape(2, 4, 3), "BGR"),
        {
            "Image:buffer": [bytes(range(24))],
            "Image:format": [{"width": 4, "height": 2, "channels": 3, "datatype": "uint8"}],
            "Image:color_model": ["BGR"],
        },
    ),
    (
        "image-float",
        lambda: rra.Image(np.zeros((2, 3), np.float32), opacity=0.5, draw_order=-1),
        {
            "Image:buffer": [bytes(24)],
            "Image:format": [{"width": 3, "height": 2, "channels": 1, "datatype": "float32"}],
            "Image:opacity": [0.5],
            "Image:draw_order": [-1.0],
        },
    ),
    (
        "pinhole-focal-res",  # rerun
        lambda: rra.Pinhole(focal_length=300, resolution=[640, 480]),
        {
            "Pinhole:image_from_camera": [[300, 0, 0, 0, 300, 0, 320, 240, 1]],
            "Pinhole:resolution": [[640, 480]],
        },
    ),
    (
        "pinhole-fxfy-pp",  # rerun
        lambda: rra.Pinhole(focal_length=[300, 310], principal_point=[320, 200], width=640, height=480),
        {
            "Pinhole:image_from_camera": [[300, 0, 0, 0, 310, 0, 320, 200, 1]],
            "Pinhole:resolution": [[640, 480]],
        },
    ),
    (
        "pinhole-fov",  # rerun
        lambda: rra.Pinhole(fov_y=1.0, aspect_ratio=1.5),
        {
            "Pinhole:image_from_camera": [[0.9152438640594482, 0, 0, 0, 0.9152438640594482, 0, 0.75, 0.5, 1]],
            "Pinhole:resolution": [[1.5, 1]],
        },
    ),
    (
        "pinhole-matrix",  # rerun
        lambda: rra.Pinhole(
            image_from_camera=[[1, 2, 3], [4, 5, 6], [7, 8, 9]],
            camera_xyz=rra.ViewCoordinates.RDF,
            image_plane_distance=2,
        ),
        {
            "Pinhole:image_from_camera": [[1, 4, 7, 2, 5, 8, 3, 6, 9]],
            "Pinhole:camera_xyz": [[3, 2, 5]],
            "Pinhole:image_plane_distance": [2.0],
        },
    ),
    ("clear-recursive", lambda: rra.Clear(recursive=True), {"Clear:is_recursive": [True]}),
    ("clear-flat", lambda: rra.Clear.flat(), {"Clear:is_recursive": [False]}),
    (
        "anyvalues",
        lambda: rra.AnyValues(
            a=1, b=2.5, c="x", d=[1.0, 2.0], e=np.ones((2, 2), np.float32), f=True, g=["u", "v"]
        ),
        {
            "AnyValues:a": [1],
            "AnyValues:b": [2.5],
            "AnyValues:c": ["x"],
            "AnyValues:d": [1.0, 2.0],
            "AnyValues:e": [[1, 1], [1, 1]],
            "AnyValues:f": [True],
            "AnyValues:g": ["u", "v"],
        },
    ),
    ("anyvalues-none", lambda: rra.AnyValues(a=None), {}),
    ("viewcoords-const", lambda: rra.ViewCoordinates.RIGHT_HAND_Z_UP, {"ViewCoordinates:xyz": [[3, 5, 1]]}),
    ("viewcoords-str", lambda: rra.ViewCoordinates("rdf"), {"ViewCoordinates:xyz": [[3, 2, 5]]}),
]

# rerun-sdk 0.41's Boxes2D for array=[1, 2, 3, 4]: format -> (half_sizes, centers)
BOX2D_FORMATS = {
    "XYWH": ([1.5, 2], [2.5, 4]),
    "YXHW": ([2, 1.5], [4, 2.5]),
    "XYXY": ([1, 1], [2, 3]),
    "YXYX": ([1, 1], [3, 2]),
    "XCYCWH": ([1.5, 2], [1, 2]),
    "XCYCW2H2": ([3, 4], [1, 2]),
}
