"""Blueprints from code (``import rerun_zmq.blueprint as rrb``): the viewer's layout of views.

A blueprint is a tree of containers (``Horizontal``, ``Vertical``, ``Grid``, ``Tabs``) holding views
(``Spatial3DView``, ``Spatial2DView``, ``TimeSeriesView``, ``TextLogView``). Each view has a kind, a
name, an origin and an entity filter: include/exclude rules such as ``"+ $origin/**"``,
``"- /world/debug/**"``. ``rr.send_blueprint(bp)`` or ``rr.init(..., default_blueprint=bp)`` stores it
as static data at the reserved entity ``/__blueprint`` (component ``Blueprint:layout``, JSON), so a
saved recording reopens with its layout. ``Blueprint.from_json`` rebuilds the tree (the viewer uses it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

BLUEPRINT_ENTITY = "/__blueprint"
LAYOUT_COMPONENT = "Blueprint:layout"
VIEW_KINDS = ("Spatial3DView", "Spatial2DView", "TimeSeriesView", "TextLogView")
CONTAINER_KINDS = ("Horizontal", "Vertical", "Grid", "Tabs")


def _rules(contents: str | Sequence[str] | None) -> list[str]:
    """Normalize an entity filter to a list of ``"+ path"`` / ``"- path"`` rules."""
    if contents is None:
        return ["+ $origin/**"]
    if isinstance(contents, str):
        contents = [line for line in contents.splitlines() if line.strip()]
    out = []
    for rule in contents:
        if not isinstance(rule, str):
            raise TypeError(f"view contents must be strings like '+ /world/**', got {type(rule).__name__}")
        rule = rule.strip()
        if rule.startswith(("+", "-")):
            sign, path = rule[0], rule[1:].strip()
        else:
            sign, path = "+", rule
        if not path:
            raise ValueError(f"empty entity filter rule {rule!r}")
        out.append(f"{sign} {path}")
    return out


class View:
    """A view: ``kind``, ``origin`` (its space root), ``contents`` (entity filter), ``name``."""

    kind = "View"

    def __init__(self, *, origin: str = "/", contents: str | Sequence[str] | None = None, name: str | None = None,
                 **properties: Any) -> None:
        if not isinstance(origin, str):
            raise TypeError(f"{self.kind}: origin must be an entity path string, got {type(origin).__name__}")
        self.origin = origin if origin.startswith("/") else "/" + origin
        self.contents = _rules(contents)
        self.name = name
        self.properties = {k: v for k, v in properties.items() if v is not None}

    def to_json(self) -> dict:
        d: dict[str, Any] = {"type": self.kind, "origin": self.origin, "contents": self.contents}
        if self.name is not None:
            d["name"] = self.name
        if self.properties:
            d["properties"] = self.properties
        return d

    def __repr__(self) -> str:
        return f"rrb.{self.kind}(origin={self.origin!r}, contents={self.contents!r}, name={self.name!r})"


class Spatial3DView(View):
    kind = "Spatial3DView"


class Spatial2DView(View):
    kind = "Spatial2DView"


class TimeSeriesView(View):
    kind = "TimeSeriesView"


class TextLogView(View):
    kind = "TextLogView"


class Container:
    """A container of views and containers."""

    kind = "Container"

    def __init__(self, *contents: View | Container | Iterable, name: str | None = None, **properties: Any) -> None:
        items: list[View | Container] = []
        for c in contents:
            if isinstance(c, (View, Container)):
                items.append(c)
            elif isinstance(c, Iterable) and not isinstance(c, str):
                items.extend(self._check(x) for x in c)
            else:
                raise TypeError(f"{self.kind} holds views and containers, got {type(c).__name__}")
        self.contents = items
        self.name = name
        self.properties = {k: v for k, v in properties.items() if v is not None}

    def _check(self, item):
        if not isinstance(item, (View, Container)):
            raise TypeError(f"{self.kind} holds views and containers, got {type(item).__name__}")
        return item

    def to_json(self) -> dict:
        d: dict = {"type": self.kind, "contents": [c.to_json() for c in self.contents]}
        if self.name is not None:
            d["name"] = self.name
        if self.properties:
            d["properties"] = self.properties
        return d


class Horizontal(Container):
    kind = "Horizontal"

    def __init__(self, *contents, column_shares: Sequence[float] | None = None, name: str | None = None) -> None:
        super().__init__(*contents, name=name, column_shares=list(column_shares) if column_shares else None)


class Vertical(Container):
    kind = "Vertical"

    def __init__(self, *contents, row_shares: Sequence[float] | None = None, name: str | None = None) -> None:
        super().__init__(*contents, name=name, row_shares=list(row_shares) if row_shares else None)


class Grid(Container):
    kind = "Grid"

    def __init__(self, *contents, grid_columns: int | None = None, name: str | None = None) -> None:
        super().__init__(*contents, name=name, grid_columns=grid_columns)


class Tabs(Container):
    kind = "Tabs"

    def __init__(self, *contents, active_tab: int | str | None = None, name: str | None = None) -> None:
        super().__init__(*contents, name=name, active_tab=active_tab)


class Panel:
    """State of one of the viewer's side panels."""

    kind = "Panel"

    def __init__(self, *, expanded: bool | None = None, state: str | None = None) -> None:
        self.expanded = expanded if expanded is not None else (state != "collapsed" if state else None)


class BlueprintPanel(Panel):
    kind = "BlueprintPanel"


class SelectionPanel(Panel):
    kind = "SelectionPanel"


class TimePanel(Panel):
    kind = "TimePanel"


class Blueprint:
    """The whole layout: a root container (or one view), panel states, auto-layout flags."""

    def __init__(self, *parts: View | Container | Panel, auto_layout: bool | None = None,
                 auto_views: bool | None = None, collapse_panels: bool = False) -> None:
        roots = [p for p in parts if isinstance(p, (View, Container))]
        panels = [p for p in parts if isinstance(p, Panel)]
        bad = [p for p in parts if not isinstance(p, (View, Container, Panel))]
        if bad:
            raise TypeError(f"Blueprint takes views, containers and panels, got {type(bad[0]).__name__}")
        if len(roots) > 1:
            raise ValueError("a Blueprint has one root: wrap several views in rrb.Horizontal/Vertical/Grid/Tabs")
        self.root = roots[0] if roots else None
        self.panels = {p.kind: p.expanded for p in panels if p.expanded is not None}
        if collapse_panels:
            self.panels = {k: False for k in ("BlueprintPanel", "SelectionPanel", "TimePanel")}
        self.auto_layout = auto_layout if auto_layout is not None else self.root is None
        self.auto_views = auto_views if auto_views is not None else self.root is None

    def to_json(self) -> dict:
        return {
            "version": 1,
            "root": self.root.to_json() if self.root is not None else None,
            "panels": self.panels,
            "auto_layout": self.auto_layout,
            "auto_views": self.auto_views,
        }

    def to_json_str(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def from_json(cls, data: dict | str) -> Blueprint:
        """Rebuild a blueprint from ``to_json`` output; raises ``ValueError`` naming what is wrong."""
        if isinstance(data, str):
            data = json.loads(data)
        if not isinstance(data, dict) or data.get("version") != 1:
            raise ValueError("blueprint JSON must be an object with version 1")
        bp = cls()
        bp.root = _node_from_json(data["root"]) if data.get("root") is not None else None
        bp.panels = dict(data.get("panels") or {})
        bp.auto_layout = bool(data.get("auto_layout", bp.root is None))
        bp.auto_views = bool(data.get("auto_views", bp.root is None))
        return bp


_VIEWS = {c.kind: c for c in (Spatial3DView, Spatial2DView, TimeSeriesView, TextLogView)}
_CONTAINERS = {c.kind: c for c in (Horizontal, Vertical, Grid, Tabs)}


def _node_from_json(d: dict) -> View | Container:
    kind = d.get("type") if isinstance(d, dict) else None
    if kind in _VIEWS:
        view = _VIEWS[kind](origin=d.get("origin", "/"), contents=d.get("contents"), name=d.get("name"))
        view.properties = dict(d.get("properties") or {})
        return view
    if kind in _CONTAINERS:
        node = Container.__new__(_CONTAINERS[kind])
        Container.__init__(node, *[_node_from_json(c) for c in d.get("contents", [])], name=d.get("name"))
        node.properties = dict(d.get("properties") or {})
        return node
    raise ValueError(f"unknown blueprint node type {kind!r}; expected one of {VIEW_KINDS + CONTAINER_KINDS}")


def as_blueprint(obj: Blueprint | View | Container) -> Blueprint:
    """Accept a Blueprint, or a lone view/container (wrapped), like Rerun does."""
    if isinstance(obj, Blueprint):
        return obj
    if isinstance(obj, (View, Container)):
        return Blueprint(obj)
    raise TypeError(f"expected an rrb.Blueprint, view or container, got {type(obj).__name__}")
