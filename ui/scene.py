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

from .state import AppState

DEFAULT_POINT_RADIUS = -2.0  # negative: UI pixels, as Rerun does
VIEW_XYZ = "ViewCoordinates:xyz"
_UP, _DOWN = 1, 2  # direction codes of ViewCoordinates (U=1, D=2, R=3, L=4, F=5, B=6)


def auto_color(path: str) -> np.ndarray:
    """A stable color per entity path (for data logged without colors)."""
    hue = (zlib.crc32(path.encode()) % 1000) / 1000.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.65, 0.95)
    return np.array([r * 255, g * 255, b * 255, 255], dtype=np.uint8)


def _fsl(values: pa.Array, width: int) -> np.ndarray:
    if not pa.types.is_fixed_size_list(values.type) or values.type.list_size != width:
        raise ValueError(f"expected fixed_size_list<float>[{width}] values, got {values.type}")
    flat = values.flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=np.float32).reshape(-1, width)


def _colors(cells: dict, key: str, n: int, path: str) -> np.ndarray:
    out = np.empty((n, 4), dtype=np.uint8)
    out[:] = auto_color(path)
    cell = cells.get(key)
    if cell is not None and len(cell.values) and n:
        got = unpack_colors(cell.values)
        if len(got) == 1:
            out[:] = got[0]
        else:
            m = min(n, len(got))
            out[:m] = got[:m]
    return out


def _floats(cells: dict, key: str, n: int, default: float) -> np.ndarray:
    out = np.full(n, default, dtype=np.float32)
    cell = cells.get(key)
    if cell is not None and len(cell.values) and n:
        got = np.asarray(cell.values.to_numpy(zero_copy_only=False), dtype=np.float32)
        if len(got) == 1:
            out[:] = got[0]
        else:
            m = min(n, len(got))
            out[:m] = got[:m]
    return out


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    if np.array_equal(m, np.eye(4)):
        return pts
    return (pts @ m[:3, :3].T.astype(np.float32) + m[:3, 3].astype(np.float32)).astype(np.float32)


@dataclass
class Batch:
    """Concatenated primitives of one renderer; ``owners[i]`` = (entity, first row, rows)."""

    positions: list[np.ndarray] = field(default_factory=list)
    colors: list[np.ndarray] = field(default_factory=list)
    extra: list[np.ndarray] = field(default_factory=list)
    owners: list[tuple[str, int, int]] = field(default_factory=list)
    _rows: int = 0

    def add(self, path: str, positions: np.ndarray, colors: np.ndarray, extra: np.ndarray | None = None) -> None:
        self.positions.append(positions)
        self.colors.append(colors)
        if extra is not None:
            self.extra.append(extra)
        self.owners.append((path, self._rows, len(positions)))
        self._rows += len(positions)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        if not self.positions:
            return np.zeros((0, 3), np.float32), np.zeros((0, 4), np.uint8), None
        extra = np.concatenate(self.extra) if self.extra else None
        return np.concatenate(self.positions), np.concatenate(self.colors), extra


@dataclass
class Scene:
    """What the 3D view draws: points (extra = radii) and line segments (pairs of vertices)."""

    points: Batch = field(default_factory=Batch)
    lines: Batch = field(default_factory=Batch)
    bounds: tuple[np.ndarray, np.ndarray] | None = None
    entity_bounds: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: (axis, sign) of "up" from the shallowest ViewCoordinates in the data, if any
    up: tuple[int, int] | None = None
    _up_depth: int = 1 << 30

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
    for name in ("points", "lines"):
        src, dst = getattr(part, name), getattr(scene, name)
        aligned = len(src.extra) == len(src.positions)
        for k, (path, _first, _rows) in enumerate(src.owners):
            dst.add(path, src.positions[k], src.colors[k], src.extra[k] if aligned else None)
    for path, (lo, hi) in part.entity_bounds.items():
        scene._grow(path, np.vstack([lo, hi]))
    if part.up is not None and part._up_depth < scene._up_depth:
        scene.up, scene._up_depth = part.up, part._up_depth


def build_scene(state: AppState, keep=None, memo: EntityMemo | None = None) -> Scene:
    """Query every visible entity at the cursor (that ``keep(path)`` accepts, if given) and turn its
    archetypes into draw arrays; ``memo`` reuses settled entities' arrays between cursor moves."""
    scene = Scene()
    st = state.store
    if st is None:
        return scene
    timeline = state.time.timeline
    t = state.time.cursor
    if memo is not None:
        memo.reset_if_stale((id(st), state.generation, timeline))
    for path in st.entity_paths():
        if not state.is_visible(path) or (keep is not None and not keep(path)):
            continue
        if memo is None:
            _build_entity(state, scene, path, timeline, t)
            continue
        if not memo.drawable(st, path):
            continue
        settled = t is not None and t >= memo.settled_from(st, path, timeline)
        part = memo.parts.get(path) if settled else None
        if part is None:
            part = Scene()
            if not _build_entity(state, part, path, timeline, t):
                continue
            if settled:
                memo.parts[path] = part
        _merge(scene, part)
    return scene


def _build_entity(state: AppState, scene: Scene, path: str, timeline: str | None, t) -> bool:
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
        world = st.world_transform(path, timeline, t)
        for build in builders:
            build(scene, path, cells, world)
    except (ValueError, TypeError, IndexError, pa.ArrowException) as exc:
        # data the renderers cannot draw: skip the entity, report once, keep the frame
        msg = f"cannot draw {path}: {exc}"
        if msg not in state.errors:
            state.errors.append(msg)
        return False
    return True


def pick(
    scene: Scene, view_proj: np.ndarray, size: tuple[int, int], xy: tuple[float, float], max_px: float = 8.0
) -> tuple[str, int] | None:
    """The (entity, instance) of the point or line vertex drawn nearest to pixel ``xy``, if close."""
    best: tuple[float, str, int] | None = None
    for batch, per in ((scene.points, 1), (scene.lines, 2)):
        pos, _, _ = batch.arrays()
        if len(pos) == 0:
            continue
        clip = np.c_[pos, np.ones(len(pos), np.float32)] @ view_proj.T.astype(np.float32)
        w = clip[:, 3]
        ok = w > 1e-6
        sx = (clip[:, 0] / np.where(ok, w, 1) * 0.5 + 0.5) * size[0]
        sy = (0.5 - clip[:, 1] / np.where(ok, w, 1) * 0.5) * size[1]
        d2 = np.where(ok, (sx - xy[0]) ** 2 + (sy - xy[1]) ** 2, np.inf)
        i = int(np.argmin(d2))
        if d2[i] <= max_px**2 and (best is None or d2[i] < best[0]):
            for path, first, rows in batch.owners:
                if first <= i < first + rows:
                    best = (float(d2[i]), path, (i - first) // per)
                    break
    return None if best is None else (best[1], best[2])
