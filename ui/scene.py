"""The 3D scene at the time cursor: per archetype, world-space arrays ready for the renderers.

Built on the render thread from latest-at queries and ``world_transform``; cached by
(data generation, timeline, cursor, visibility) so an unchanged frame costs nothing.
"""

from __future__ import annotations

import colorsys
import math
import zlib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from rerun_zmq._components import unpack_colors
from rerun_zmq._entity_path import parent_paths

from .annotations import ANNOTATIONS, AnnotationResolver, annotated_colors, annotated_labels, instance_ids
from .state import AppState

DEFAULT_POINT_RADIUS = -2.0  # negative: UI pixels, as Rerun does
DEFAULT_LINE_RADIUS = -0.5  # lines without radii stay 1 px wide
VIEW_XYZ = "ViewCoordinates:xyz"
_UP, _DOWN = 1, 2  # direction codes of ViewCoordinates (U=1, D=2, R=3, L=4, F=5, B=6)


def auto_color(path: str) -> np.ndarray:
    """A stable color per entity path (for data logged without colors)."""
    hue = (zlib.crc32(path.encode()) % 1000) / 1000.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.65, 0.95)
    return np.array([r * 255, g * 255, b * 255, 255], dtype=np.uint8)


def class_colors(ids: np.ndarray) -> np.ndarray:
    """A stable color per class id (the one segmentation images use), for ``class_ids`` without colors."""
    ids = np.asarray(ids, dtype=np.int64)
    uniq, inverse = np.unique(ids, return_inverse=True)
    table = np.array([auto_color(f"class {int(i)}") for i in uniq], dtype=np.uint8).reshape(-1, 4)
    return table[inverse.reshape(-1)]


def _broadcast(out: np.ndarray, got: np.ndarray) -> np.ndarray:
    """One value applies to every row; a batch fills the rows it has."""
    if len(got) == 1:
        out[:] = got[0]
    elif len(got):
        m = min(len(out), len(got))
        out[:m] = got[:m]
    return out


def _fsl(values: pa.Array, width: int) -> np.ndarray:
    if not pa.types.is_fixed_size_list(values.type) or values.type.list_size != width:
        raise ValueError(f"expected fixed_size_list<float>[{width}] values, got {values.type}")
    flat = values.flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=np.float32).reshape(-1, width)


def _colors(cells: dict, key: str, n: int, path: str) -> np.ndarray:
    """Colors of ``key`` ("Archetype:colors"); without them the annotation context's colors of the
    class/keypoint ids, else a stable color per class id, else the entity's."""
    out = np.empty((n, 4), dtype=np.uint8)
    out[:] = auto_color(path)
    if not n:
        return out
    cell = cells.get(key)
    if cell is not None and len(cell.values):
        return _broadcast(out, unpack_colors(cell.values))
    archetype = key.split(":", 1)[0]
    ids = cells.get(archetype + ":class_ids")
    if ids is not None and len(ids.values):
        _broadcast(out, class_colors(ids.values.to_numpy(zero_copy_only=False)))
    ann = cells.get(ANNOTATIONS)
    if ann is not None:
        classes, keypoints = instance_ids(cells, archetype, n)
        if classes is not None:
            annotated_colors(ann, classes, keypoints, out)
    return out


def labels_of(cells: dict, archetype: str) -> pa.Array | list | None:
    """The ``labels`` of ``archetype`` unless ``show_labels`` is false; without labels, the class
    (or keypoint) labels of the annotation context, if it gives any."""
    show = cells.get(f"{archetype}:show_labels")
    if show is not None and len(show.values) and show.values[0].as_py() is False:
        return None
    cell = cells.get(f"{archetype}:labels")
    if cell is None or len(cell.values) == 0:
        return annotated_labels(cells, archetype)
    return cell.values


def _floats(cells: dict, key: str, n: int, default: float) -> np.ndarray:
    out = np.full(n, default, dtype=np.float32)
    cell = cells.get(key)
    if cell is not None and len(cell.values) and n:
        _broadcast(out, np.asarray(cell.values.to_numpy(zero_copy_only=False), dtype=np.float32))
    return out


def world_radii(radii: np.ndarray, world: np.ndarray) -> np.ndarray:
    """Positive (world-unit) radii scaled by ``world``'s uniform scale; negative ones are pixels."""
    scale = float(np.cbrt(abs(np.linalg.det(world[:3, :3])))) or 1.0
    if scale == 1.0:
        return radii
    return np.where(radii > 0, radii * scale, radii).astype(np.float32)


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    if np.array_equal(m, np.eye(4)):
        return pts
    return (pts @ m[:3, :3].T.astype(np.float32) + m[:3, 3].astype(np.float32)).astype(np.float32)


@dataclass
class Batch:
    """Concatenated primitives of one renderer; ``owners[i]`` = (entity, first row, rows).

    ``instances`` holds, per row, the index of the instance (point, strip, box, arrow) it draws.
    """

    positions: list[np.ndarray] = field(default_factory=list)
    colors: list[np.ndarray] = field(default_factory=list)
    extra: list[np.ndarray] = field(default_factory=list)
    owners: list[tuple[str, int, int]] = field(default_factory=list)
    instances: list[np.ndarray] = field(default_factory=list)
    _rows: int = 0

    def add(
        self,
        path: str,
        positions: np.ndarray,
        colors: np.ndarray,
        extra: np.ndarray | None = None,
        instances: np.ndarray | None = None,
    ) -> None:
        self.positions.append(positions)
        self.colors.append(colors)
        if extra is not None:
            self.extra.append(extra)
        self.instances.append(np.arange(len(positions)) if instances is None else instances)
        self.owners.append((path, self._rows, len(positions)))
        self._rows += len(positions)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        if not self.positions:
            return np.zeros((0, 3), np.float32), np.zeros((0, 4), np.uint8), None
        extra = np.concatenate(self.extra) if self.extra else None
        return np.concatenate(self.positions), np.concatenate(self.colors), extra

    def instance_array(self) -> np.ndarray:
        return np.concatenate(self.instances) if self.instances else np.zeros(0, np.int64)


@dataclass
class LabelSet:
    """Text labels of one entity: anchor ``positions`` (k, 3), ``texts`` (k strings), ``colors`` (k, 4)."""

    path: str
    positions: np.ndarray
    texts: object  # pa.StringArray or list[str]: converted only for the labels drawn
    colors: np.ndarray


def place_labels(texts, anchors: np.ndarray, colors: np.ndarray):
    """Where labels go: instance i's at ``anchors[i]``; one label for many instances at their
    middle. Returns (anchors float32, texts, colors) cut to the shorter of texts/anchors, or None."""
    if texts is None or len(anchors) == 0:
        return None
    if len(texts) == 1 and len(anchors) > 1:
        finite = anchors[np.isfinite(anchors).all(axis=1)]
        if len(finite) == 0:
            return None
        anchors, colors = ((finite.min(axis=0) + finite.max(axis=0)) / 2)[None, :], colors[:1]
    k = min(len(texts), len(anchors))
    return np.asarray(anchors[:k], np.float32), texts[:k], colors[:k]


@dataclass
class Scene:
    """What the 3D view draws: points (extra = radii), line segments (pairs of vertices, extra =
    radii), triangles (extra = normals) and text labels."""

    points: Batch = field(default_factory=Batch)
    lines: Batch = field(default_factory=Batch)
    triangles: Batch = field(default_factory=Batch)
    labels: list[LabelSet] = field(default_factory=list)
    bounds: tuple[np.ndarray, np.ndarray] | None = None
    entity_bounds: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: (axis, sign) of "up" from the shallowest ViewCoordinates in the data, if any
    up: tuple[int, int] | None = None
    _up_depth: int = 1 << 30

    def add_labels(self, path: str, texts: pa.Array | None, anchors: np.ndarray, colors: np.ndarray) -> None:
        """Label instance i at ``anchors[i]``; one label for many instances goes at their middle."""
        placed = place_labels(texts, anchors, colors)
        if placed is not None:
            self.labels.append(LabelSet(path, *placed))

    def _grow(self, path: str, pts: np.ndarray) -> None:
        if len(pts) == 0:
            return
        finite = pts[np.isfinite(pts).all(axis=1)]
        if len(finite) == 0:
            return
        lo, hi = finite.min(axis=0), finite.max(axis=0)
        old = self.entity_bounds.get(path)
        self.entity_bounds[path] = (lo, hi) if old is None else (np.minimum(old[0], lo), np.maximum(old[1], hi))
        b = self.bounds
        self.bounds = (lo, hi) if b is None else (np.minimum(b[0], lo), np.maximum(b[1], hi))


def _view_up(scene: Scene, path: str, cell) -> None:
    depth = path.count("/") if path != "/" else 0
    codes = list(np.asarray(cell.values.flatten().to_numpy(zero_copy_only=False)).reshape(-1)[:3])
    for axis, code in enumerate(codes):
        if code in (_UP, _DOWN) and depth < scene._up_depth:
            scene.up, scene._up_depth = (axis, 1 if code == _UP else -1), depth


class EntityMemo:
    """What ``build_scene`` built per entity, reused while the cursor moves over settled data.

    Once the cursor is at or after the last row of an entity and of each of its ancestors (their
    transforms and Clears), that entity's latest-at answer and world transform no longer change
    with the cursor, so its draw arrays are reused instead of queried and rebuilt. Everything is
    forgotten when the data (generation), the store or the timeline changes.
    """

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.parts: dict[str, Scene] = {}
        self._settled: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._drawable: dict[str, bool] = {}

    def reset_if_stale(self, key: tuple) -> None:
        if key != self.key:
            self.key = key
            self.parts.clear()
            self._settled.clear()
            self._last.clear()
            self._drawable.clear()

    def drawable(self, store, path: str) -> bool:
        """Whether ``path`` has any component a 3D builder (or the up axis) uses; others need no query."""
        got = self._drawable.get(path)
        if got is None:
            from .renderers import ARCHETYPE_BUILDERS

            components = getattr(store, "components", None)
            if components is None:
                return True
            keys = components(path)
            got = self._drawable[path] = any(k == VIEW_XYZ or k.split(":", 1)[0] in ARCHETYPE_BUILDERS for k in keys)
        return got

    def settled_from(self, store, path: str, timeline: str | None) -> float:
        """The time from which ``path``'s answer is constant (-inf: static data only)."""
        got = self._settled.get(path)
        if got is None:
            got = max((self._last_of(store, p, timeline) for p in (*parent_paths(path), path)), default=-math.inf)
            self._settled[path] = got
        return got

    def _last_of(self, store, path: str, timeline: str | None) -> float:
        got = self._last.get(path)
        if got is None:
            last_time = getattr(store, "last_time", None)
            if last_time is None:  # a store that cannot tell (the live query mode): never settled
                return math.inf
            t = last_time(path, timeline) if timeline is not None else None
            got = self._last[path] = -math.inf if t is None else float(t)
        return got


def _merge(scene: Scene, part: Scene) -> None:
    for name in ("points", "lines", "triangles"):
        src, dst = getattr(part, name), getattr(scene, name)
        aligned = len(src.extra) == len(src.positions)
        for k, (path, _first, _rows) in enumerate(src.owners):
            dst.add(path, src.positions[k], src.colors[k], src.extra[k] if aligned else None, src.instances[k])
    scene.labels += part.labels
    for path, (lo, hi) in part.entity_bounds.items():
        scene._grow(path, np.vstack([lo, hi]))
    if part.up is not None and part._up_depth < scene._up_depth:
        scene.up, scene._up_depth = part.up, part._up_depth


PINHOLE = "Pinhole:image_from_camera"


def origin_frame(state: AppState, origin: str, image_plane: bool = False) -> np.ndarray | None:
    """``origin_from_world`` at the cursor: a view rooted at ``origin`` shows its subtree in the
    origin entity's own frame, as Rerun does (None: the root, or an origin with no usable frame).

    ``image_plane`` (2D views): when the origin is a pinhole camera, its frame is its image plane
    in pixels (``world_from_origin @ camera_from_image``), so the images and 2D data logged under
    the camera keep their pixel coordinates."""
    st = state.store
    if st is None or origin in ("", "/"):
        return None
    tl, t = state.time.timeline, state.time.cursor
    try:
        world = np.asarray(st.world_transform(origin, tl, t), np.float64)
        if image_plane:
            k = st.latest_at(origin, tl, t).get(PINHOLE)
            if k is not None and len(k.values):
                flat = np.asarray(k.values.flatten().to_numpy(zero_copy_only=False), np.float64)
                if len(flat) >= 9:
                    camera_from_image = np.eye(4)
                    camera_from_image[:3, :3] = np.linalg.inv(flat[:9].reshape(3, 3).T)  # column-major K
                    world = world @ camera_from_image
        if np.array_equal(world, np.eye(4)):
            return None
        return np.linalg.inv(world)
    except (ValueError, KeyError, np.linalg.LinAlgError):
        return None


def build_scene(state: AppState, keep=None, memo: EntityMemo | None = None, origin: str = "/") -> Scene:
    """Query every visible entity at the cursor (that ``keep(path)`` accepts, if given) and turn its
    archetypes into draw arrays in the frame of ``origin``; ``memo`` reuses settled entities'
    arrays between cursor moves."""
    scene = Scene()
    st = state.store
    if st is None:
        return scene
    timeline = state.time.timeline
    t = state.time.cursor
    base = origin_frame(state, origin)
    if memo is not None:  # a moving origin re-bases everything: its frame is part of the key
        memo.reset_if_stale((id(st), state.generation, timeline, None if base is None else base.tobytes()))
    resolver = AnnotationResolver(st, timeline, t)
    for path in st.entity_paths():
        if not state.is_visible(path) or (keep is not None and not keep(path)):
            continue
        if memo is None:
            _build_entity(state, scene, path, timeline, t, base, resolver)
            continue
        if not memo.drawable(st, path):
            continue
        settled = t is not None and t >= memo.settled_from(st, path, timeline)
        part = memo.parts.get(path) if settled else None
        if part is None:
            part = Scene()
            if not _build_entity(state, part, path, timeline, t, base, resolver):
                continue
            if settled:
                memo.parts[path] = part
        _merge(scene, part)
    return scene


def _build_entity(
    state: AppState,
    scene: Scene,
    path: str,
    timeline: str | None,
    t,
    base: np.ndarray | None = None,
    resolver: AnnotationResolver | None = None,
) -> bool:
    """Add ``path``'s drawable archetypes at ``t`` to ``scene``; False if it could not be drawn."""
    from .renderers import ARCHETYPE_BUILDERS

    st = state.store
    cells = st.latest_at(path, timeline, t)
    if not cells:
        return True
    keys = {k.split(":", 1)[0] for k in cells}
    if VIEW_XYZ in cells:
        _view_up(scene, path, cells[VIEW_XYZ])
    builders = [ARCHETYPE_BUILDERS[a] for a in keys if a in ARCHETYPE_BUILDERS]
    if not builders:
        return True
    try:
        cells = (resolver or AnnotationResolver(st, timeline, t)).attach(path, cells)
        world = st.world_transform(path, timeline, t)
        if base is not None:
            world = base @ world
        for build in builders:
            build(scene, path, cells, world)
    except (ValueError, TypeError, IndexError, pa.ArrowException) as exc:
        # data the renderers cannot draw: skip the entity, report once, keep the frame
        msg = f"cannot draw {path}: {exc}"
        if msg not in state.errors:
            state.errors.append(msg)
        return False
    return True


def _project(pos: np.ndarray, view_proj: np.ndarray, size: tuple[int, int]):
    """World (n, 3) -> screen x, y (pixels, y down), NDC depth and whether in front of the eye."""
    clip = np.c_[pos, np.ones(len(pos), np.float32)] @ view_proj.T.astype(np.float32)
    w = clip[:, 3]
    ok = w > 1e-6
    safe = np.where(ok, w, 1)
    sx = (clip[:, 0] / safe * 0.5 + 0.5) * size[0]
    sy = (0.5 - clip[:, 1] / safe * 0.5) * size[1]
    return sx, sy, clip[:, 2] / safe, ok


def _owner(batch: Batch, i: int) -> str:
    for path, first, rows in batch.owners:
        if first <= i < first + rows:
            return path
    raise IndexError(i)


def pick(
    scene: Scene, view_proj: np.ndarray, size: tuple[int, int], xy: tuple[float, float], max_px: float = 8.0
) -> tuple[str, int] | None:
    """The (entity, instance) drawn under pixel ``xy``: the nearest point or line (strip, box edge,
    arrow) within ``max_px``, unless a filled triangle under the mouse lies in front of it."""
    best: tuple[float, float, Batch, int] | None = None  # (distance², depth, batch, row)
    px, py = xy
    pos, _, _ = scene.points.arrays()
    if len(pos):
        sx, sy, z, ok = _project(pos, view_proj, size)
        d2 = np.where(ok, (sx - px) ** 2 + (sy - py) ** 2, np.inf)
        i = int(np.argmin(d2))
        if d2[i] <= max_px**2:
            best = (float(d2[i]), float(z[i]), scene.points, i)
    pos, _, _ = scene.lines.arrays()
    if len(pos):
        sx, sy, z, ok = _project(pos, view_proj, size)
        ax, ay, bx, by = sx[0::2], sy[0::2], sx[1::2], sy[1::2]
        dx, dy = bx - ax, by - ay
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / np.maximum(dx * dx + dy * dy, 1e-12), 0.0, 1.0)
        d2 = np.where(ok[0::2] & ok[1::2], (ax + t * dx - px) ** 2 + (ay + t * dy - py) ** 2, np.inf)
        k = int(np.argmin(d2))
        # points drawn over a line win unless the line is clearly (1 px) nearer
        if d2[k] <= max_px**2 and (best is None or math.sqrt(d2[k]) + 1.0 < math.sqrt(best[0])):
            best = (float(d2[k]), float(z[2 * k] + t[k] * (z[2 * k + 1] - z[2 * k])), scene.lines, 2 * k)
    pos, _, _ = scene.triangles.arrays()
    if len(pos):
        sx, sy, z, ok = _project(pos, view_proj, size)
        a, b, c = (np.s_[j::3] for j in range(3))
        den = (sy[b] - sy[c]) * (sx[a] - sx[c]) + (sx[c] - sx[b]) * (sy[a] - sy[c])
        den = np.where(np.abs(den) < 1e-12, np.nan, den)
        u = ((sy[b] - sy[c]) * (px - sx[c]) + (sx[c] - sx[b]) * (py - sy[c])) / den
        v = ((sy[c] - sy[a]) * (px - sx[c]) + (sx[a] - sx[c]) * (py - sy[c])) / den
        inside = (u >= 0) & (v >= 0) & (u + v <= 1) & ok[a] & ok[b] & ok[c]
        if inside.any():
            depth = np.where(inside, u * z[a] + v * z[b] + (1 - u - v) * z[c], np.inf)
            k = int(np.nanargmin(depth))
            if best is None or depth[k] < best[1] - 1e-4:
                best = (0.0, float(depth[k]), scene.triangles, 3 * k)
    if best is None:
        return None
    _, _, batch, row = best
    return _owner(batch, row), int(batch.instance_array()[row])
