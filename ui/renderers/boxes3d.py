"""Boxes3D: the 12 edges of each box (centers, half sizes, rotations, per-box colors and radii) as
line segments, or with ``fill_mode=Solid`` its 12 shaded triangles."""

from __future__ import annotations

import numpy as np

from ..scene import DEFAULT_LINE_RADIUS, Scene, _apply, _colors, _floats, _fsl, labels_of, world_radii

HALF_SIZES = "Boxes3D:half_sizes"
CENTERS = "Boxes3D:centers"
QUATERNIONS = "Boxes3D:quaternions"
AXIS_ANGLES = "Boxes3D:rotation_axis_angles"
FILL_MODE = "Boxes3D:fill_mode"

_CORNERS = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float32)
_EDGES = np.array(
    [(0, 1), (2, 3), (4, 5), (6, 7), (0, 2), (1, 3), (4, 6), (5, 7), (0, 4), (1, 5), (2, 6), (3, 7)]
).reshape(-1)
# per face: the 4 corners whose free coordinates count 00, 01, 10, 11 -> two triangles; the normal
_FACES = [((0, 1, 2, 3), (-1, 0, 0)), ((4, 5, 6, 7), (1, 0, 0)), ((0, 1, 4, 5), (0, -1, 0)),
          ((2, 3, 6, 7), (0, 1, 0)), ((0, 2, 4, 6), (0, 0, -1)), ((1, 3, 5, 7), (0, 0, 1))]  # fmt: skip
_TRIANGLES = np.array([[q[0], q[1], q[2], q[1], q[3], q[2]] for q, _ in _FACES]).reshape(-1)
_NORMALS = np.repeat(np.array([n for _, n in _FACES], dtype=np.float32), 6, axis=0)


def box_triangles(
    centers: np.ndarray, half_sizes: np.ndarray, rotations: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) centers and half sizes, optional (n, 3, 3) rotations -> (n * 36, 3) triangle vertices
    and their (n * 36, 3) face normals (box space rotated, not yet in world space)."""
    local = half_sizes[:, None, :] * _CORNERS[None, :, :]
    normals = np.broadcast_to(_NORMALS, (len(centers), 36, 3))
    if rotations is not None:
        local = np.einsum("nij,nkj->nki", rotations, local)
        normals = np.einsum("nij,nkj->nki", rotations, normals)
    corners = centers[:, None, :] + local
    tri = corners[:, _TRIANGLES, :].reshape(-1, 3).astype(np.float32)
    return tri, np.ascontiguousarray(normals, dtype=np.float32).reshape(-1, 3)


def _world_normals(world: np.ndarray, normals: np.ndarray) -> np.ndarray:
    m = world[:3, :3]
    if np.array_equal(m, np.eye(3)):
        return normals
    try:
        m = np.linalg.inv(m).T  # normals transform by the inverse transpose
    except np.linalg.LinAlgError:
        pass
    out = normals @ m.T.astype(np.float32)
    return (out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def is_solid(cells: dict) -> bool:
    got = cells.get(FILL_MODE)
    return got is not None and len(got.values) > 0 and got.values[0].as_py() == "Solid"


def box_segments(centers: np.ndarray, half_sizes: np.ndarray, rotations: np.ndarray | None = None) -> np.ndarray:
    """(n, 3) centers and half sizes, optional (n, 3, 3) rotations -> (n * 24, 3) segment vertices."""
    local = half_sizes[:, None, :] * _CORNERS[None, :, :]
    if rotations is not None:
        local = np.einsum("nij,nkj->nki", rotations, local)
    corners = centers[:, None, :] + local
    return corners[:, _EDGES, :].reshape(-1, 3).astype(np.float32)


def _per_box(cells: dict, key: str, width: int, n: int, default: np.ndarray) -> np.ndarray | None:
    """One row per box: a single value applies to all; missing -> None."""
    got = cells.get(key)
    if got is None or len(got.values) == 0:
        return None
    vals = _fsl(got.values, width)
    out = np.repeat(default[None, :], n, axis=0).astype(np.float32)
    if len(vals) == 1:
        out[:] = vals[0]
    else:
        out[: min(n, len(vals))] = vals[:n]
    return out


def box_rotations(cells: dict, n: int) -> np.ndarray | None:
    """(n, 3, 3) rotation of each box from quaternions (xyzw) or axis-angles, or None."""
    from store._transforms import axis_angle_matrix, quaternion_matrix

    quats = _per_box(cells, QUATERNIONS, 4, n, np.array([0, 0, 0, 1], np.float32))
    if quats is not None:
        return np.stack([quaternion_matrix(q.astype(np.float64)) for q in quats])
    aas = _per_box(cells, AXIS_ANGLES, 4, n, np.array([0, 0, 1, 0], np.float32))
    if aas is not None:
        return np.stack([axis_angle_matrix(a[:3].astype(np.float64), float(a[3])) for a in aas])
    return None


def build(scene: Scene, path: str, cells: dict, world: np.ndarray) -> None:
    cell = cells.get(HALF_SIZES)
    if cell is None or len(cell.values) == 0:
        return
    half = _fsl(cell.values, 3)
    n = len(half)
    centers = _per_box(cells, CENTERS, 3, n, np.zeros(3, np.float32))
    centers = np.zeros((n, 3), np.float32) if centers is None else centers
    rotations = box_rotations(cells, n)
    colors = _colors(cells, "Boxes3D:colors", n, path)
    scene.add_labels(path, labels_of(cells, "Boxes3D"), _apply(world, centers), colors)
    if is_solid(cells):
        tri, normals = box_triangles(centers, half, rotations)
        tri = _apply(world, tri)
        scene.triangles.add(path, tri, np.repeat(colors, 36, axis=0), _world_normals(world, normals),
                            np.repeat(np.arange(n), 36))  # fmt: skip
        scene._grow(path, tri)
        return
    seg = _apply(world, box_segments(centers, half, rotations))
    radii = world_radii(_floats(cells, "Boxes3D:radii", n, DEFAULT_LINE_RADIUS), world)
    scene.lines.add(path, seg, np.repeat(colors, 24, axis=0), np.repeat(radii, 24), np.repeat(np.arange(n), 24))
    scene._grow(path, seg)
