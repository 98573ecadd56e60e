"""The 2D scene of one view at the cursor: points, boxes, line strips and images, in view units.

Positions go through the entity's world transform (its x/y part). Colors fall back to the same
per-entity color as 3D; radii below zero are UI pixels, as in Rerun.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..scene import _colors, _floats, _fsl

_DTYPES = {"uint8", "uint16", "uint32", "int8", "int16", "int32", "float16", "float32", "float64"}


@dataclass
class Scene2D:
    points: list = field(default_factory=list)  # (entity, (n,2) pos, (n,4) rgba, (n,) radii)
    boxes: list = field(default_factory=list)  # (entity, (n,2) min, (n,2) max, (n,4) rgba)
    strips: list = field(default_factory=list)  # (entity, [(m,2) arrays], (n,4) rgba)
    images: list = field(default_factory=list)  # (entity, (h,w,4) uint8, row_id)
    bounds: tuple[np.ndarray, np.ndarray] | None = None

    def grow(self, lo: np.ndarray, hi: np.ndarray) -> None:
        if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
            return
        b = self.bounds
        self.bounds = (lo, hi) if b is None else (np.minimum(b[0], lo), np.maximum(b[1], hi))


def _xy(world: np.ndarray, pts: np.ndarray) -> np.ndarray:
    if np.array_equal(world, np.eye(4)) or len(pts) == 0:
        return pts
    return (pts @ world[:2, :2].T + world[:2, 3]).astype(np.float32)


def decode_image(cells: dict) -> np.ndarray | None:
    """``Image:buffer`` + ``Image:format`` -> (h, w, 4) uint8 RGBA (floats scaled from [0, 1])."""
    buf, fmt = cells.get("Image:buffer"), cells.get("Image:format")
    if buf is None or fmt is None or not len(buf.values) or not len(fmt.values):
        return None
    f = fmt.values[0].as_py()
    w, h, c, dtype = int(f["width"]), int(f["height"]), int(f["channels"]), str(f["datatype"])
    if dtype not in _DTYPES:
        raise ValueError(f"image datatype {dtype!r} is not drawable")
    raw = np.frombuffer(buf.values[0].as_buffer(), dtype=np.dtype(dtype))
    if raw.size != w * h * c:
        raise ValueError(f"image buffer holds {raw.size} values, format says {w}x{h}x{c}")
    img = raw.reshape(h, w, c)
    if img.dtype.kind == "f":
        img = np.clip(img * 255.0, 0, 255)
    elif img.dtype.itemsize > 1:
        img = img >> (8 * (img.dtype.itemsize - 1))
    img = img.astype(np.uint8)
    out = np.full((h, w, 4), 255, dtype=np.uint8)
    out[..., :3] = img[..., :3] if c >= 3 else img[..., :1]
    if c == 4:
        out[..., 3] = img[..., 3]
    return out


_ARCHETYPES_2D = {"Points2D", "Boxes2D", "LineStrips2D", "Image"}


def candidates(state, keep) -> list[str]:
    """Visible entities ``keep(path)`` accepts that hold 2D data (live stores: every accepted one)."""
    st = state.store
    out = []
    for path in st.entity_paths():
        if not keep(path) or not state.is_visible(path):
            continue
        if hasattr(st, "components") and not {k.split(":", 1)[0] for k in st.components(path)} & _ARCHETYPES_2D:
            continue
        out.append(path)
    return out


def build_scene2d(state, paths: list[str], memo: dict | None = None) -> Scene2D:
    """Latest-at of ``paths`` (see ``candidates``) at the cursor, as 2D primitives.

    ``memo`` (entity -> (cells' row ids and transform, its primitives)) lets an entity whose
    answer did not change since the last build skip its conversion.
    """
    scene = Scene2D()
    st = state.store
    if st is None:
        return scene
    tl, t = state.time.timeline, state.time.cursor
    fresh: dict = {}
    for path in paths:
        cells = st.latest_at(path, tl, t)
        arche = {k.split(":", 1)[0] for k in cells}
        if not arche & _ARCHETYPES_2D:
            continue
        try:
            world = st.world_transform(path, tl, t)
            key = (tuple(sorted((k, c.row_id, c.time) for k, c in cells.items())), world.tobytes())
            got = memo.get(path) if memo is not None else None
            if got is not None and got[0] == key:
                part = got[1]
            else:
                part = Scene2D()
                _add(part, path, cells, world)
            fresh[path] = (key, part)
        except (ValueError, TypeError, IndexError, pa.ArrowException) as exc:
            msg = f"cannot draw {path} in 2D: {exc}"
            if msg not in state.errors:
                state.errors.append(msg)
            continue
        scene.points += part.points
        scene.boxes += part.boxes
        scene.strips += part.strips
        scene.images += part.images
        if part.bounds is not None:
            scene.grow(*part.bounds)
    if memo is not None:
        memo.clear()
        memo.update(fresh)
    return scene


def _add(scene: Scene2D, path: str, cells: dict, world: np.ndarray) -> None:
    if "Image:buffer" in cells:
        img = decode_image(cells)
        if img is not None:
            scene.images.append((path, img, cells["Image:buffer"].row_id))
            lo = _xy(world, np.zeros((1, 2), np.float32))[0]
            hi = _xy(world, np.array([[img.shape[1], img.shape[0]]], np.float32))[0]
            scene.grow(np.minimum(lo, hi), np.maximum(lo, hi))
    if "Points2D:positions" in cells:
        pos = _xy(world, _fsl(cells["Points2D:positions"].values, 2))
        n = len(pos)
        scene.points.append(
            (path, pos, _colors(cells, "Points2D:colors", n, path), _floats(cells, "Points2D:radii", n, -2.5))
        )
        if n:
            scene.grow(pos.min(axis=0), pos.max(axis=0))
    if "Boxes2D:half_sizes" in cells:
        half = _fsl(cells["Boxes2D:half_sizes"].values, 2)
        n = len(half)
        centers = np.zeros((n, 2), np.float32)
        if "Boxes2D:centers" in cells:
            c = _fsl(cells["Boxes2D:centers"].values, 2)
            centers[: min(n, len(c))] = c[:n] if len(c) > 1 else c[0]
        lo, hi = _xy(world, centers - half), _xy(world, centers + half)
        scene.boxes.append((path, np.minimum(lo, hi), np.maximum(lo, hi), _colors(cells, "Boxes2D:colors", n, path)))
        if n:
            scene.grow(np.minimum(lo, hi).min(axis=0), np.maximum(lo, hi).max(axis=0))
    if "LineStrips2D:strips" in cells:
        arr = cells["LineStrips2D:strips"].values
        strips = [_xy(world, _fsl(arr[i].values, 2)) for i in range(len(arr)) if arr[i].is_valid]
        scene.strips.append((path, strips, _colors(cells, "LineStrips2D:colors", len(strips), path)))
        for s in strips:
            if len(s):
                scene.grow(s.min(axis=0), s.max(axis=0))
