"""Annotation contexts: the colors, labels and keypoint skeletons of class ids, as Rerun resolves them.

An entity's ``class_ids`` / ``keypoint_ids`` (and a ``SegmentationImage``'s pixel values) are looked
up in the ``AnnotationContext:context`` at the cursor (static data included) on the entity itself or
its nearest ancestor that has one. Ids a context does not describe (or gives no color) fall back to
a stable color per class id. The resolved context rides in an entity's cells under ``ANNOTATIONS``
so that the per-archetype builders, which see only the cells, can use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rerun_zmq._components import unpack_colors
from rerun_zmq._entity_path import parent_paths

CONTEXT = "AnnotationContext:context"
#: key of the resolved ``Annotations`` in a cells dict (not a component: no ``Archetype:`` prefix)
ANNOTATIONS = "rz.annotations"
_USES = (":class_ids", ":keypoint_ids")


@dataclass
class ClassInfo:
    """One class of a context: label and RGBA color (None when not given), keypoints, connections."""

    label: str | None
    color: np.ndarray | None
    keypoints: dict[int, tuple[str | None, np.ndarray | None]] = field(default_factory=dict)
    connections: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Annotations:
    """A resolved context: class id -> ``ClassInfo``; ``source``/``row_id`` say which row it is."""

    source: str
    row_id: tuple
    classes: dict[int, ClassInfo]

    def key(self) -> tuple:
        return (self.source, self.row_id)


def _rgba(packed: int | None) -> np.ndarray | None:
    return None if packed is None else unpack_colors(np.array([packed], np.uint32))[0]


def parse(source: str, cell) -> Annotations:
    """The class descriptions of one ``AnnotationContext:context`` cell (later duplicates win)."""
    classes: dict[int, ClassInfo] = {}
    for desc in cell.values.to_pylist():
        if desc is None:
            continue
        info = ClassInfo(desc.get("label"), _rgba(desc.get("color")))
        for kp in desc.get("keypoint_annotations") or ():
            info.keypoints[int(kp["id"])] = (kp.get("label"), _rgba(kp.get("color")))
        for pair in desc.get("keypoint_connections") or ():
            info.connections.append((int(pair["keypoint0"]), int(pair["keypoint1"])))
        classes[int(desc["class_id"])] = info
    return Annotations(source, cell.row_id, classes)


def uses_annotations(cells: dict) -> bool:
    """Whether anything in ``cells`` is drawn through an annotation context."""
    return any(k.endswith(_USES) for k in cells) or "SegmentationImage:buffer" in cells


class AnnotationResolver:
    """Finds each entity's context at one (timeline, time); answers are memoized per path."""

    def __init__(self, store, timeline: str | None, t) -> None:
        self.store, self.timeline, self.t = store, timeline, t
        self._found: dict[str, Annotations | None] = {}

    def _own(self, path: str) -> Annotations | None:
        got = self._found.get(path, False)
        if got is not False:
            return got  # type: ignore[return-value]
        try:
            cell = self.store.latest_at(path, self.timeline, self.t, [CONTEXT]).get(CONTEXT)
        except KeyError:  # a path the store does not know (UnknownEntityError is a KeyError)
            cell = None
        got = parse(path, cell) if cell is not None and len(cell.values) else None
        self._found[path] = got
        return got

    def resolve(self, path: str) -> Annotations | None:
        """The context on ``path`` or its nearest ancestor that has one (None: no context)."""
        for p in (path, *reversed(parent_paths(path))):
            got = self._own(p)
            if got is not None:
                return got
        return None

    def attach(self, path: str, cells: dict) -> dict:
        """``cells`` plus the resolved context under ``ANNOTATIONS`` when it matters (a copy then)."""
        if not uses_annotations(cells):
            return cells
        ann = self.resolve(path)
        if ann is None:
            return cells
        out = dict(cells)
        out[ANNOTATIONS] = ann
        return out


def _ids(cells: dict, key: str) -> np.ndarray | None:
    cell = cells.get(key)
    if cell is None or not len(cell.values):
        return None
    return np.asarray(cell.values.to_numpy(zero_copy_only=False), dtype=np.int64)


def _spread(ids: np.ndarray | None, n: int) -> np.ndarray | None:
    """Ids for ``n`` instances: one id applies to all; a short batch leaves the rest at -1."""
    if ids is None:
        return None
    if len(ids) == 1:
        return np.full(n, ids[0], np.int64)
    out = np.full(n, -1, np.int64)
    m = min(n, len(ids))
    out[:m] = ids[:m]
    return out


def instance_ids(cells: dict, archetype: str, n: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(class ids, keypoint ids) of ``n`` instances; keypoints without class ids are class 0, as in Rerun."""
    classes = _spread(_ids(cells, f"{archetype}:class_ids"), n)
    keypoints = _spread(_ids(cells, f"{archetype}:keypoint_ids"), n)
    if keypoints is not None and classes is None:
        classes = np.zeros(n, np.int64)
    return classes, keypoints


def _combos(classes: np.ndarray, keypoints: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Unique (class, keypoint) pairs of the instances and each instance's index into them."""
    combo = classes << 17
    if keypoints is not None:
        combo = combo | (keypoints + 1)  # keypoint -1 (none) .. 65535 -> 0 .. 65536
    return np.unique(combo, return_inverse=True)


def _lookup(ann: Annotations, combo: int) -> tuple[str | None, np.ndarray | None]:
    """(label, color) of one (class, keypoint) pair: the keypoint's where given, else the class's."""
    info = ann.classes.get(combo >> 17)
    if info is None:
        return None, None
    label, color = info.label, info.color
    kp = info.keypoints.get((combo & 0x1FFFF) - 1)
    if kp is not None:
        label = kp[0] if kp[0] is not None else label
        color = kp[1] if kp[1] is not None else color
    return label, color


def annotated_colors(ann: Annotations, classes: np.ndarray, keypoints: np.ndarray | None, out: np.ndarray) -> None:
    """Overwrite ``out[i]`` with the keypoint's color, else its class's, where the context gives one."""
    uniq, inverse = _combos(classes, keypoints)
    table = np.zeros((len(uniq), 4), np.uint8)
    found = np.zeros(len(uniq), bool)
    for j, combo in enumerate(uniq.tolist()):
        color = _lookup(ann, combo)[1]
        if color is not None:
            table[j], found[j] = color, True
    hit = found[inverse.reshape(-1)]
    out[hit] = table[inverse.reshape(-1)[hit]]


def annotated_labels(cells: dict, archetype: str) -> list[str | None] | None:
    """Per-instance labels from the context (keypoint label, else class label), or None if none."""
    ann = cells.get(ANNOTATIONS)
    if ann is None:
        return None
    n = max((len(c.values) for k in _USES if (c := cells.get(archetype + k)) is not None), default=0)
    if not n:
        return None
    classes, keypoints = instance_ids(cells, archetype, n)
    if classes is None:
        return None
    uniq, inverse = _combos(classes, keypoints)
    texts = [_lookup(ann, combo)[0] for combo in uniq.tolist()]
    out = [texts[j] for j in inverse.reshape(-1).tolist()]
    return out if any(t is not None for t in out) else None


def keypoint_segments(cells: dict, archetype: str, positions: np.ndarray, colors: np.ndarray):
    """The ``keypoint_connections`` of each class present, between the instances holding those
    keypoints: (k, 2, dim) endpoints, (k, 4) colors (the class's, else the first endpoint's) and
    (k,) the first endpoint's instance index; None when there is nothing to connect."""
    ann = cells.get(ANNOTATIONS)
    if ann is None or f"{archetype}:keypoint_ids" not in cells:
        return None
    classes, keypoints = instance_ids(cells, archetype, len(positions))
    if classes is None or keypoints is None:
        return None
    segs, cols, firsts = [], [], []
    for cid in np.unique(classes):
        info = ann.classes.get(int(cid))
        if info is None or not info.connections:
            continue
        where = {int(k): i for i, k in enumerate(keypoints) if classes[i] == cid and k >= 0}
        for a, b in info.connections:
            if a in where and b in where:
                segs.append((positions[where[a]], positions[where[b]]))
                cols.append(info.color if info.color is not None else colors[where[a]])
                firsts.append(where[a])
    if not segs:
        return None
    return np.asarray(segs, np.float32), np.asarray(cols, np.uint8).reshape(-1, 4), np.asarray(firsts, np.int64)


def segmentation_table(ann: Annotations | None, ids: np.ndarray, fallback) -> np.ndarray:
    """RGBA per id in ``ids`` (unique values): the context's class color, else ``fallback(id)``."""
    rows = []
    for i in ids:
        info = None if ann is None else ann.classes.get(int(i))
        rows.append(info.color if info is not None and info.color is not None else fallback(int(i)))
    return np.array(rows, dtype=np.uint8).reshape(-1, 4)
