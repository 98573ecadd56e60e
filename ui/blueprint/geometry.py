"""Rects for a layout tree: splits for Horizontal/Vertical, a grid, and tabs (a bar + the active tab)."""

from __future__ import annotations

import math

from .model import ContainerNode, ViewNode

TAB_BAR = 26.0
Rect = tuple[float, float, float, float]


def _shares(node: ContainerNode) -> list[float]:
    n = len(node.children)
    s = node.shares if node.shares and len(node.shares) == n else [1.0] * n
    s = [x if math.isfinite(x) and x > 0 else 0.0 for x in s]  # NaN/inf from a file: no share
    total = sum(s)
    return [x / total for x in s] if total > 0 else [1.0 / n] * n


def arrange(node, rect: Rect, views: list, tabs: list) -> None:
    """Append (ViewNode, rect) to ``views`` and (tabs ContainerNode, bar rect) to ``tabs``."""
    x, y, w, h = rect
    if node is None:
        return
    if isinstance(node, ViewNode):
        views.append((node, rect))
        return
    kids = node.children
    if not kids:
        return
    if node.kind == "Horizontal":
        at = x
        for child, share in zip(kids, _shares(node)):
            arrange(child, (at, y, w * share, h), views, tabs)
            at += w * share
    elif node.kind == "Vertical":
        at = y
        for child, share in zip(kids, _shares(node)):
            arrange(child, (x, at, w, h * share), views, tabs)
            at += h * share
    elif node.kind == "Grid":
        cols = node.grid_columns if node.grid_columns and node.grid_columns > 0 else math.ceil(math.sqrt(len(kids)))
        cols = min(cols, len(kids))
        rows = math.ceil(len(kids) / cols)
        for i, child in enumerate(kids):
            r, c = divmod(i, cols)
            arrange(child, (x + c * w / cols, y + r * h / rows, w / cols, h / rows), views, tabs)
    else:  # Tabs
        node.active_tab = min(max(node.active_tab, 0), len(kids) - 1)
        tabs.append((node, (x, y, w, TAB_BAR)))
        arrange(kids[node.active_tab], (x, y + TAB_BAR, w, max(h - TAB_BAR, 1.0)), views, tabs)
