"""The viewer's layout: a tree of containers and views, convertible to and from ``rrb`` JSON.

``Layout`` is what the blueprint panel edits and the workspace draws. Its JSON is the one
``rerun_zmq.blueprint.Blueprint.to_json`` writes (version 1), plus viewer-only ``ui`` fields per
node (camera, zoom, filters), so blueprints from code, from files and from the state folder share
one reader.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from rerun_zmq.blueprint import CONTAINER_KINDS, VIEW_KINDS

from ..state import ViewState
from .filter import EntityFilter

#: rrb view kind -> ViewState.kind
KIND_OF = {"Spatial3DView": "3d", "Spatial2DView": "2d", "TimeSeriesView": "timeseries", "TextLogView": "textlog"}
LABEL = {"Spatial3DView": "3D", "Spatial2DView": "2D", "TimeSeriesView": "Time series", "TextLogView": "Text log"}
_ids = itertools.count(1)


@dataclass
class ViewNode:
    """A view: its rrb kind, origin, entity filter and the runtime ``ViewState`` (camera, hover)."""

    kind: str
    origin: str = "/"
    contents: list[str] = field(default_factory=lambda: ["+ $origin/**"])
    name: str = ""
    uid: int = field(default_factory=lambda: next(_ids))
    view: ViewState = field(default_factory=ViewState)
    #: per-kind UI state that persists (2D pan/zoom, level filter, ...), JSON-able values only
    ui: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in VIEW_KINDS:
            raise ValueError(f"unknown view kind {self.kind!r}; expected one of {VIEW_KINDS}")
        self.name = self.name or default_name(self.kind, self.origin)
        self.view.name, self.view.kind, self.view.origin = self.name, KIND_OF[self.kind], self.origin
        self.filter = EntityFilter(self.contents, self.origin)

    def set_contents(self, rules: list[str]) -> None:
        self.contents = list(rules)
        self.filter = EntityFilter(self.contents, self.origin)

    def includes(self, path: str) -> bool:
        return self.filter.matches(path)

    def to_json(self) -> dict:
        d = {"type": self.kind, "origin": self.origin, "contents": list(self.contents), "name": self.name}
        ui = {k: v for k, v in self.ui.items() if not k.startswith("_")}  # "_x": this run only
        if self.kind == "Spatial3DView":
            ui["camera"] = camera_json(self.view.camera)
            ui["show_grid"] = self.view.show_grid
        if ui:
            d["properties"] = {"ui": ui}
        return d


@dataclass
class ContainerNode:
    kind: str
    children: list = field(default_factory=list)
    name: str = ""
    shares: list[float] | None = None
    grid_columns: int | None = None
    active_tab: int = 0
    uid: int = field(default_factory=lambda: next(_ids))

    def __post_init__(self) -> None:
        if self.kind not in CONTAINER_KINDS:
            raise ValueError(f"unknown container kind {self.kind!r}; expected one of {CONTAINER_KINDS}")
        self.name = self.name or self.kind

    def to_json(self) -> dict:
        props: dict = {}
        if self.shares:
            props["column_shares" if self.kind == "Horizontal" else "row_shares"] = list(self.shares)
        if self.grid_columns:
            props["grid_columns"] = self.grid_columns
        if self.kind == "Tabs":
            props["active_tab"] = self.active_tab
        d = {"type": self.kind, "name": self.name, "contents": [c.to_json() for c in self.children]}
        if props:
            d["properties"] = props
        return d


def default_name(kind: str, origin: str) -> str:
    return LABEL[kind] if origin == "/" else origin.rstrip("/").rsplit("/", 1)[-1]


def camera_json(cam) -> dict:
    return {k: (list(map(float, v)) if hasattr(v, "__len__") else float(v)) for k, v in cam_fields(cam).items()}


def cam_fields(cam) -> dict:
    return {k: getattr(cam, k) for k in ("yaw", "pitch", "distance", "target") if hasattr(cam, k)}


def node_from_json(d: dict) -> ViewNode | ContainerNode:
    """Rebuild a node from rrb JSON (``ValueError`` naming the problem on bad input)."""
    if not isinstance(d, dict):
        raise ValueError(f"blueprint node must be an object, got {type(d).__name__}")
    kind = d.get("type")
    props = d.get("properties") or {}
    if kind in VIEW_KINDS:
        node = ViewNode(kind, d.get("origin", "/"), list(d.get("contents") or ["+ $origin/**"]), d.get("name") or "")
        ui = dict(props.get("ui") or {})
        cam = ui.pop("camera", None)
        if cam and kind == "Spatial3DView":
            apply_camera(node.view.camera, cam)
        grid = ui.pop("show_grid", True)
        node.view.show_grid = grid if isinstance(grid, bool) else True
        node.ui = clean_view_ui(kind, ui)
        return node
    if kind in CONTAINER_KINDS:
        shares = props.get("column_shares") or props.get("row_shares")
        tab = props.get("active_tab") or 0
        return ContainerNode(
            kind,
            [node_from_json(c) for c in d.get("contents") or []],
            d.get("name") or "",
            _shares(shares),
            int(props["grid_columns"]) if props.get("grid_columns") else None,
            tab if isinstance(tab, int) else 0,
        )
    raise ValueError(f"unknown blueprint node type {kind!r}; expected one of {VIEW_KINDS + CONTAINER_KINDS}")


def _shares(shares) -> list[float] | None:
    """Column/row shares from a file; None (equal shares) unless all are finite and >= 0."""
    if not shares:
        return None
    out = [float(x) for x in shares]
    return out if all(math.isfinite(x) and x >= 0 for x in out) else None


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


#: per view kind: the persisted ``ui`` keys the views read, and what a usable value is
_UI_CHECKS = {
    "Spatial2DView": {
        "center": lambda v: isinstance(v, list) and len(v) == 2 and all(_finite(x) for x in v),
        "zoom": lambda v: _finite(v) and v > 0,
        "fitted": lambda v: isinstance(v, bool),
    },
    "TimeSeriesView": {"window": lambda v: _finite(v) and v >= 0},
    "TextLogView": {
        "search": lambda v: isinstance(v, str),
        "follow": lambda v: isinstance(v, bool),
        "hidden_levels": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    },
}


def clean_view_ui(kind: str, ui: dict) -> dict:
    """Drop the view settings from a file that the views could not use (wrong type, NaN, zero
    zoom): the view falls back to its default for those."""
    checks = _UI_CHECKS.get(kind, {})
    out = {k: v for k, v in ui.items() if k not in checks or checks[k](v)}
    if kind == "Spatial2DView" and not ("center" in out and "zoom" in out):
        out = {k: v for k, v in out.items() if k not in ("center", "zoom", "fitted")}  # refit
    return out


def apply_camera(cam, d: dict) -> None:
    import numpy as np

    if not isinstance(d, dict):
        raise ValueError(f"camera must be an object, got {type(d).__name__}")
    new = {}
    for k, v in d.items():
        if k in ("yaw", "pitch", "distance", "target"):
            cur = getattr(cam, k)
            val = np.asarray(v, dtype=float) if hasattr(cur, "__len__") else float(v)
            if np.shape(val) != np.shape(cur) or not np.isfinite(val).all():
                raise ValueError(f"camera {k} must be {np.size(cur)} finite number(s), got {v!r}")
            new[k] = val
    if "distance" in new and new["distance"] <= 0:
        raise ValueError(f"camera distance must be positive, got {new['distance']!r}")
    for k, v in new.items():  # all or nothing: a bad field leaves the camera as it was
        setattr(cam, k, v)
    cam.fitted = True
    cam.user_moved = True
