"""Entity tree: the path hierarchy (implicit parents included), eye toggles, selection, row counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from imgui_bundle import imgui

from rerun_zmq._entity_path import path_parts

from ..state import AppState
from . import PANEL_FLAGS, place, record_item

_TREE_FLAGS = (
    imgui.TreeNodeFlags_.open_on_arrow.value
    | imgui.TreeNodeFlags_.open_on_double_click.value
    | imgui.TreeNodeFlags_.default_open.value
    | imgui.TreeNodeFlags_.span_avail_width.value
)


@dataclass
class Node:
    path: str
    name: str
    logged: bool = False  # False for implicit parents
    children: dict[str, Node] = field(default_factory=dict)


def build_tree(paths: list[str]) -> Node:
    """Root node of the hierarchy of ``paths``; missing parents appear as implicit nodes."""
    root = Node("/", "/")
    for path in paths:
        node = root
        parts = path_parts(path)
        for i, part in enumerate(parts):
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = Node("/" + "/".join(parts[: i + 1]), part)
            node = child
        if path == "/":
            root.logged = True
        node.logged = node.logged or bool(parts)
    return root


class EntityTreePanel:
    """Caches the tree and row counts per data generation."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self.root = Node("/", "/")
        self.rows: dict[str, int] = {}

    def _refresh(self, state: AppState) -> None:
        key = (id(state.store), state.generation)
        if key == self._key or state.store is None:
            return
        self.root = build_tree(state.store.entity_paths())
        self.rows = state.store.row_counts()
        self._key = key

    def draw(self, state: AppState, rect: tuple[float, float, float, float]) -> None:
        self._refresh(state)
        place(rect)
        imgui.begin("Entities", None, PANEL_FLAGS)
        if not self.root.children:
            imgui.text_disabled("no data yet")
        for child in self.root.children.values():
            self._node(state, child)
        imgui.end()

    def _node(self, state: AppState, node: Node) -> None:
        imgui.push_id(node.path)
        visible = state.is_visible(node.path)
        if imgui.small_button("(o)" if visible else "( )"):
            state.toggle_visible(node.path)
        record_item(state, f"eye:{node.path}")
        if imgui.is_item_hovered():
            imgui.set_tooltip(("Hide " if visible else "Show ") + node.path)
        imgui.same_line()
        flags = _TREE_FLAGS
        if not node.children:
            flags |= imgui.TreeNodeFlags_.leaf.value
        if state.selected == node.path:
            flags |= imgui.TreeNodeFlags_.selected.value
        rows = self.rows.get(node.path)
        label = node.name + (f"  ({rows})" if rows is not None else "")
        if not visible:
            imgui.push_style_color(
                imgui.Col_.text.value, imgui.get_style_color_vec4(imgui.Col_.text_disabled.value)
            )
        opened = imgui.tree_node_ex(f"{label}###n", flags)
        if not visible:
            imgui.pop_style_color()
        record_item(state, f"tree:{node.path}")
        if imgui.is_item_clicked() and not imgui.is_item_toggled_open():
            state.selected = node.path
        if imgui.is_item_hovered():
            imgui.set_tooltip(node.path + ("" if node.logged else " (implicit)"))
        if opened:
            for child in node.children.values():
                self._node(state, child)
            imgui.tree_pop()
        imgui.pop_id()
