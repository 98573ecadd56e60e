"""Pinhole: a perspective camera projecting its 3-D space onto a 2-D image plane."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _components as c
from ._common import BATCH_OF, TableArchetype
from ._convert import mat3x3
from .view_coordinates import view_xyz


def _resolution(value: Any) -> np.ndarray:
    arr = c._numbers(value, np.float32, "a resolution [width, height]")
    if arr.size != 2:
        raise ValueError(f"expected a resolution [width, height], got shape {arr.shape}")
    return arr.reshape(1, 2)


BATCH_OF[_resolution] = c.positions2d


def _intrinsics(focal_length: Any, principal_point: Any, fov_y: Any, aspect_ratio: Any, res: Any):
    """(image_from_camera rows as a 3x3 array, resolution or None) from the convenience fields."""
    if fov_y is not None:
        if res is None:
            if aspect_ratio is None:
                raise TypeError("fov_y= needs aspect_ratio= or a resolution")
            res = np.array([[float(aspect_ratio), 1.0]], dtype=np.float32)
        focal = 0.5 * float(res[0, 1]) / math.tan(0.5 * float(fov_y))
        fx = fy = focal
    else:
        f = c._numbers(focal_length, np.float64, "a focal length (one number or [fx, fy])").reshape(-1)
        if f.size not in (1, 2):
            raise ValueError(f"expected a focal length (one number or [fx, fy]), got {f.size} numbers")
        fx, fy = float(f[0]), float(f[-1])
    if principal_point is not None:
        pp = c._numbers(principal_point, np.float64, "a principal point [cx, cy]").reshape(-1)
        if pp.size != 2:
            raise ValueError(f"expected a principal point [cx, cy], got {pp.size} numbers")
        cx, cy = pp
    elif res is not None:
        cx, cy = float(res[0, 0]) / 2, float(res[0, 1]) / 2
    else:
        raise TypeError("focal_length= needs principal_point= or a resolution (resolution=, width=/height=)")
    return np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]], dtype=np.float32), res


class Pinhole(TableArchetype):
    """A pinhole camera: ``image_from_camera`` (a 3x3 intrinsics matrix, or ``focal_length`` with
    ``principal_point`` / a resolution, or ``fov_y`` with ``aspect_ratio``) and a ``resolution``.

    ``Pinhole:image_from_camera`` is fsl<float32>[9] stored column-major (like Rerun); pass the
    matrix row by row. ``resolution`` is ``[width, height]`` (or ``width=``/``height=``). With
    ``fov_y`` and a resolution, the focal length uses the resolution's height.
    """

    archetype_name = "Pinhole"
    primary_field = "image_from_camera"
    _specs = {
        "image_from_camera": (c.MAT3, mat3x3),
        "resolution": (c.VEC2, _resolution),
        "camera_xyz": (c.VIEW_XYZ, view_xyz),
        "image_plane_distance": (c.F32, c.float32_one),
    }

    def __init__(
        self,
        *,
        image_from_camera: Any = None,
        resolution: Any = None,
        camera_xyz: Any = None,
        width: float | None = None,
        height: float | None = None,
        focal_length: Any = None,
        principal_point: Any = None,
        fov_y: float | None = None,
        aspect_ratio: float | None = None,
        image_plane_distance: float | None = None,
    ) -> None:
        super().__init__()
        if resolution is None and (width is not None or height is not None):
            if width is None or height is None:
                self._fail("resolution", TypeError("give both width= and height="))
            else:
                resolution = [width, height]
        res = None
        if resolution is not None:
            try:
                res = _resolution(resolution)
            except (ValueError, TypeError) as exc:
                self._fail("resolution", exc)
        if image_from_camera is None and (focal_length is not None or fov_y is not None):
            try:
                image_from_camera, res = _intrinsics(focal_length, principal_point, fov_y, aspect_ratio, res)
            except (ValueError, TypeError) as exc:
                self._fail("image_from_camera", exc)
        elif image_from_camera is None:
            self._fail("image_from_camera", TypeError("give image_from_camera=, focal_length= or fov_y="))
        self._put("image_from_camera", image_from_camera)
        self._put("resolution", res)
        self._put("camera_xyz", camera_xyz)
        self._put("image_plane_distance", image_plane_distance)
