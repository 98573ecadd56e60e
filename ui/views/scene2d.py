"""The 2D scene of one view at the cursor: points, boxes, line strips and images, in view units.

Positions go through the entity's world transform re-based on the view's origin, as the 3D views do
(``origin_from_world @ world_from_entity``, its x/y part; a pinhole camera origin's frame is its
image plane in pixels), so a view rooted at ``/a/b`` draws ``/a/b/c`` relative to ``/a/b``.
Images are placed by the same transform (their four corners). Colors fall back to the annotation
context's colors of the class/keypoint ids (``ui/annotations.py``), then a stable color per class
id, then the same per-entity color as 3D; radii below zero are UI pixels, as in Rerun
(line strips, box edges and arrows too).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..annotations import ANNOTATIONS, AnnotationResolver, keypoint_segments
from ..scene import _colors, _floats, _fsl, labels_of, origin_frame, place_labels
from . import images2d


@dataclass
class Scene2D:
    points: list = field(default_factory=list)  # (entity, (n,2) pos, (n,4) rgba, (n,) radii)
    boxes: list = field(default_factory=list)  # (entity, (n,2) min, (n,2) max, (n,4) rgba, (n,) radii)
    strips: list = field(default_factory=list)  # (entity, [(m,2) arrays], (n,4) rgba, (n,) radii)
    labels: list = field(default_factory=list)  # (entity, (k,2) anchors, k texts, (k,4) rgba)
    images: list = field(default_factory=list)  # (entity, (h,w,4) uint8, row_id, (4,2) corners)
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


_ARCHETYPES_2D = {"Points2D", "Boxes2D", "LineStrips2D", "Arrows2D", *images2d.KINDS}


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


def build_scene2d(state, paths: list[str], memo: dict | None = None, origin: str = "/") -> Scene2D:
    """Latest-at of ``paths`` (see ``candidates``) at the cursor, as 2D primitives in the frame of
    ``origin``.

    ``memo`` (entity -> (cells' row ids and re-based transform, its primitives)) lets an entity
    whose answer did not change since the last build skip its conversion.
    """
    scene = Scene2D()
    st = state.store
    if st is None:
        return scene
    tl, t = state.time.timeline, state.time.cursor
    base = origin_frame(state, origin, image_plane=True)
    resolver = AnnotationResolver(st, tl, t)
    fresh: dict = {}
    for path in paths:
        cells = st.latest_at(path, tl, t)
        arche = {k.split(":", 1)[0] for k in cells}
        if not arche & _ARCHETYPES_2D:
            continue
        try:
            world = st.world_transform(path, tl, t)
            if base is not None:
                world = base @ world
            key = (tuple(sorted((k, c.row_id, c.time) for k, c in cells.items())), world.tobytes())
            cells = resolver.attach(path, cells)
            if ANNOTATIONS in cells:
                key += (cells[ANNOTATIONS].key(),)
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
        scene.labels += part.labels
        scene.images += part.images
        if part.bounds is not None:
            scene.grow(*part.bounds)
    if memo is not None:
        memo.clear()
        memo.update(fresh)
    return scene


def _add(scene: Scene2D, path: str, cells: dict, world: np.ndarray) -> None:
    for kind in images2d.KINDS:
        img = images2d.decode(cells, kind)
        if img is not None:
            h, w = img.shape[:2]
            corners = _xy(world, np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32))
            scene.images.append((f"{path}#{kind}", img, images2d.row_id(cells, kind), corners))
            scene.grow(corners.min(axis=0), corners.max(axis=0))
    if "Arrows2D:vectors" in cells:
        _arrows(scene, path, cells, world)
    if "Points2D:positions" in cells:
        pos = _xy(world, _fsl(cells["Points2D:positions"].values, 2))
        n = len(pos)
        colors = _colors(cells, "Points2D:colors", n, path)
        scene.points.append((path, pos, colors, _floats(cells, "Points2D:radii", n, -2.5)))
        _labels(scene, path, cells, "Points2D", pos, colors)
        skeleton = keypoint_segments(cells, "Points2D", pos, colors)
        if skeleton is not None:  # the annotation context's keypoint connections
            segs, cols, _ = skeleton
            scene.strips.append((path, list(segs), cols, np.full(len(segs), LINE_RADIUS, np.float32)))
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
        colors = _colors(cells, "Boxes2D:colors", n, path)
        radii = _floats(cells, "Boxes2D:radii", n, LINE_RADIUS)
        scene.boxes.append((path, np.minimum(lo, hi), np.maximum(lo, hi), colors, radii))
        _labels(scene, path, cells, "Boxes2D", _xy(world, centers), colors)
        if n:
            scene.grow(np.minimum(lo, hi).min(axis=0), np.maximum(lo, hi).max(axis=0))
    if "LineStrips2D:strips" in cells:
        arr = cells["LineStrips2D:strips"].values
        valid = [i for i in range(len(arr)) if arr[i].is_valid]
        strips = [_xy(world, _fsl(arr[i].values, 2)) for i in valid]
        colors = _colors(cells, "LineStrips2D:colors", len(arr), path)[valid]
        radii = _floats(cells, "LineStrips2D:radii", len(arr), LINE_RADIUS)[valid]
        scene.strips.append((path, strips, colors, radii))
        mids = np.array([(s[(len(s) - 1) // 2] + s[len(s) // 2]) / 2 if len(s) else (np.nan, np.nan) for s in strips])
        mids = mids.astype(np.float32).reshape(-1, 2)
        _labels(scene, path, cells, "LineStrips2D", mids, colors, valid)
        for s in strips:
            if len(s):
                scene.grow(s.min(axis=0), s.max(axis=0))


LINE_RADIUS = -0.75  # 1.5 px wide lines without radii


def _labels(scene: Scene2D, path: str, cells: dict, archetype: str, anchors, colors, rows=None) -> None:
    """Label instance i at ``anchors[i]``; one label for many instances goes at their middle."""
    texts = labels_of(cells, archetype)
    if texts is not None and rows is not None and len(texts) > 1:  # only some instances are drawn
        texts = [texts[i].as_py() if i < len(texts) else None for i in rows]
    placed = place_labels(texts, anchors, colors)
    if placed is not None:
        scene.labels.append((path, *placed))


def _arrows(scene: Scene2D, path: str, cells: dict, world: np.ndarray) -> None:
    """Each arrow as a shaft strip plus a two-wing head strip, in the arrow's color."""
    vec = _fsl(cells["Arrows2D:vectors"].values, 2)
    n = len(vec)
    origins = np.zeros((n, 2), np.float32)
    if "Arrows2D:origins" in cells:
        o = _fsl(cells["Arrows2D:origins"].values, 2)
        origins[: min(n, len(o))] = o[:n] if len(o) > 1 else o[0]
    tips = origins + vec
    colors = _colors(cells, "Arrows2D:colors", n, path)
    radii = _floats(cells, "Arrows2D:radii", n, LINE_RADIUS)
    _labels(scene, path, cells, "Arrows2D", _xy(world, origins + vec * 0.5), colors)
    back = -vec * 0.2
    side = np.c_[-back[:, 1], back[:, 0]] * 0.5
    strips, cols = [], []
    for i in range(n):
        strips.append(_xy(world, np.array([origins[i], tips[i]], np.float32)))
        strips.append(
            _xy(world, np.array([tips[i] + back[i] + side[i], tips[i], tips[i] + back[i] - side[i]], np.float32))
        )
        cols += [colors[i], colors[i]]
    scene.strips.append((path, strips, np.array(cols, dtype=np.uint8).reshape(-1, 4), np.repeat(radii, 2)))
    for s in strips:
        scene.grow(s.min(axis=0), s.max(axis=0))
