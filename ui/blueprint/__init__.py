"""Viewer-side blueprint: the layout tree, its entity filters, automatic layout and geometry."""

from __future__ import annotations

from .filter import EntityFilter
from .layout import Layout
from .model import ContainerNode, ViewNode

__all__ = ["ContainerNode", "EntityFilter", "Layout", "ViewNode"]
