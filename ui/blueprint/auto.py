"""Automatic layout: which views the data calls for.

A 3D view for 3D spatial data, a 2D view per image / 2D space (the parent of an image, else the
top-level path), one time series view for Scalars, one text log view for TextLog. Spatial views sit
in a row above the plots and logs.
"""

from __future__ import annotations

from rerun_zmq._entity_path import path_parts

from .model import ContainerNode, ViewNode

_3D = ("Points3D", "LineStrips3D", "Boxes3D", "Arrows3D")
_2D = ("Points2D", "LineStrips2D", "Boxes2D", "Arrows2D")
_IMAGE = ("Image", "DepthImage", "SegmentationImage", "EncodedImage")


def classify(components: list[str]) -> set[str]:
    """The view kinds an entity with these component keys belongs in."""
    archetypes = {k.split(":", 1)[0] for k in components}
    out = set()
    if archetypes & set(_3D):
        out.add("Spatial3DView")
    if archetypes & set(_2D + _IMAGE):
        out.add("Spatial2DView")
    if "Scalars" in archetypes:
        out.add("TimeSeriesView")
    if "TextLog" in archetypes:
        out.add("TextLogView")
    return out


def common_root(paths: list[str]) -> str:
    parts = [path_parts(p) for p in paths]
    if not parts:
        return "/"
    prefix = parts[0]
    for p in parts[1:]:
        n = 0
        while n < min(len(prefix), len(p)) and prefix[n] == p[n]:
            n += 1
        prefix = prefix[:n]
    return "/" + "/".join(prefix)


def spaces_2d(entities: dict[str, set[str]], images: set[str]) -> list[str]:
    """Origins of the 2D views: each image's parent; other 2D data under its top-level path."""
    roots = sorted({"/" + "/".join(path_parts(p)[:-1]) if len(path_parts(p)) > 1 else p for p in images})
    rest = [p for p, kinds in entities.items() if "Spatial2DView" in kinds and p not in images]
    for p in rest:
        if not any(p == r or p.startswith(r.rstrip("/") + "/") for r in roots):
            top = "/" + path_parts(p)[0] if path_parts(p) else "/"
            if top not in roots:
                roots.append(top)
    return sorted(roots)


def _keys(store, path: str, timeline: str | None, t: int) -> list[str]:
    if hasattr(store, "components"):
        return list(store.components(path))
    return list(store.latest_at(path, timeline, t))  # live: what the standing query returned


def auto_layout(store, timeline: str | None = None, t: int = 0) -> ContainerNode | ViewNode | None:
    """The automatic layout for what ``store`` holds (``None`` when it holds nothing drawable)."""
    entities: dict[str, set[str]] = {}
    images: set[str] = set()
    for path in store.entity_paths():
        if path.startswith("/__"):
            continue
        keys = _keys(store, path, timeline, t)
        kinds = classify(keys)
        if kinds:
            entities[path] = kinds
        if any(k.split(":", 1)[0] in _IMAGE for k in keys):
            images.add(path)
    of = {k: [p for p, ks in entities.items() if k in ks] for k in ("Spatial3DView", "TimeSeriesView", "TextLogView")}
    spatial: list = []
    if of["Spatial3DView"]:
        spatial.append(ViewNode("Spatial3DView", "/"))
    spatial += [ViewNode("Spatial2DView", o) for o in spaces_2d(entities, images)]
    other = []
    for kind in ("TimeSeriesView", "TextLogView"):
        if of[kind]:
            other.append(ViewNode(kind, common_root(of[kind])))
    rows = [r for r in (spatial, other) if r]
    if not rows:
        return None
    groups = [r[0] if len(r) == 1 else ContainerNode("Horizontal", r) for r in rows]
    if len(groups) == 1:
        return groups[0]
    return ContainerNode("Vertical", groups, shares=[0.6, 0.4])
