"""Orbit camera around a target point, Z up: rotate, pan, zoom, focus on bounds, reset."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def perspective(fov_y: float, aspect: float, near: float, far: float) -> np.ndarray:
    f = 1.0 / math.tan(fov_y / 2.0)
    m = np.zeros((4, 4))
    m[0, 0] = f / max(aspect, 1e-6)
    m[1, 1] = f
    m[2, 2] = (far + near) / (near - far)
    m[2, 3] = 2.0 * far * near / (near - far)
    m[3, 2] = -1.0
    return m


def up_basis(axis: int, sign: int) -> np.ndarray:
    """3x3 right-handed basis whose columns are (a, b, up) with up = ``sign`` * e_axis."""
    e = np.eye(3)
    a, b = e[(axis + 1) % 3], e[(axis + 2) % 3]
    return np.stack([a, b * sign, e[axis] * sign], axis=1)


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    fwd = target - eye
    fwd = fwd / (np.linalg.norm(fwd) or 1.0)
    side = np.cross(fwd, up)
    if np.linalg.norm(side) < 1e-9:
        side = np.cross(fwd, np.array([0.0, 1.0, 0.0]))
    side = side / np.linalg.norm(side)
    true_up = np.cross(side, fwd)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = side, true_up, -fwd
    m[:3, 3] = -m[:3, :3] @ eye
    return m


@dataclass
class OrbitCamera:
    """Spherical coordinates (yaw, pitch, distance) around ``target``; angles in radians."""

    target: np.ndarray = field(default_factory=lambda: np.zeros(3))
    distance: float = 10.0
    yaw: float = math.radians(-60.0)
    pitch: float = math.radians(25.0)
    fov_y: float = math.radians(45.0)
    #: set once the user moved the camera; automatic fitting stops then
    user_moved: bool = False
    #: set once the camera was fitted to data (automatic "home" view)
    fitted: bool = False
    home: tuple | None = None
    #: columns (a, b, up): the orbit turns about ``up``; ViewCoordinates of the data set it
    basis: np.ndarray = field(default_factory=lambda: np.eye(3))

    def eye(self) -> np.ndarray:
        cp = math.cos(self.pitch)
        local = np.array([cp * math.cos(self.yaw), cp * math.sin(self.yaw), math.sin(self.pitch)])
        return self.target + self.distance * (self.basis @ local)

    def view(self) -> np.ndarray:
        return look_at(self.eye(), self.target, self.basis[:, 2])

    def projection(self, aspect: float) -> np.ndarray:
        return perspective(self.fov_y, aspect, self.distance * 0.005, self.distance * 200.0)

    def view_proj(self, aspect: float) -> np.ndarray:
        return self.projection(aspect) @ self.view()

    def signature(self) -> tuple:
        """Changes whenever the image would; part of the 3D view's redraw key."""
        return (
            *np.round(self.target, 9),
            self.distance,
            self.yaw,
            self.pitch,
            self.fov_y,
            *self.basis.ravel(),
        )

    # -- interaction -------------------------------------------------------------------------------
    def rotate(self, dx_px: float, dy_px: float) -> None:
        self.yaw -= dx_px * 0.008
        self.pitch = min(max(self.pitch + dy_px * 0.008, -1.55), 1.55)
        self.user_moved = True

    def pan(self, dx_px: float, dy_px: float, viewport_h: float) -> None:
        view = self.view()
        right, up = view[0, :3], view[1, :3]
        scale = 2.0 * self.distance * math.tan(self.fov_y / 2.0) / max(viewport_h, 1.0)
        self.target = self.target - right * dx_px * scale + up * dy_px * scale
        self.user_moved = True

    def zoom(self, wheel: float) -> None:
        self.distance = min(max(self.distance * (0.9**wheel), 1e-4), 1e7)
        self.user_moved = True

    def fit(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Look at the box [lo, hi] so that it fills the view, keeping the viewing direction."""
        center = (np.asarray(lo, float) + np.asarray(hi, float)) / 2.0
        radius = max(float(np.linalg.norm(np.asarray(hi, float) - np.asarray(lo, float))) / 2.0, 1e-3)
        self.target = center
        self.distance = radius / math.sin(self.fov_y / 2.0) * 1.05
        self.fitted = True
        if self.home is None:
            self.home = (center.copy(), self.distance)

    def reset(self) -> None:
        """Back to the automatic view of the data (or the default orientation)."""
        self.yaw, self.pitch = math.radians(-60.0), math.radians(25.0)
        if self.home is not None:
            self.target, self.distance = self.home[0].copy(), self.home[1]
        self.user_moved = False
