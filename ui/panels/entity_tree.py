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
    | imgui.TreeNodeFlags_.span_avail_width.value
    | imgui.TreeNodeFlags_.no_tree_push_on_open.value  # rows are flat; depth is our indent
)
_INDENT = 14.0


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
    """Caches the tree, its visible rows and the row counts; draws only the rows on screen
    (``ImGuiListClipper``), so thousands of entities cost what a screenful does."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._rows_key: tuple | None = None
        self.root = Node("/", "/")
        self.rows: dict[str, int] = {}
        self.closed: set[str] = set()  # collapsed by the user; everything else is expanded
        self._flat: list[tuple[Node, int]] = []

    def _refresh(self, state: AppState) -> None:
        key = (id(state.store), state.generation)
        if key != self._key and state.store is not None:
            self.root = build_tree([p for p in state.store.entity_paths() if not p.startswith("/__")])
            self.rows = state.store.row_counts()
            self._key = key
        rows_key = (self._key, frozenset(self.closed))
        if rows_key != self._rows_key:
            self._flat = []
            self._flatten(self.root, 0)
            self._rows_key = rows_key

    def _flatten(self, node: Node, depth: int) -> None:
        for child in node.children.values():
            self._flat.append((child, depth))
            if child.children and child.path not in self.closed:
                self._flatten(child, depth + 1)

    def draw(self, state: AppState, rect: tuple[float, float, float, float]) -> None:
        self._refresh(state)
        place(rect)
        imgui.begin("Entities", None, PANEL_FLAGS)
        if not self._flat:
            imgui.text_disabled("no data yet")
        clipper = imgui.ListClipper()
        clipper.begin(len(self._flat))
        while clipper.step():
            for i in range(clipper.display_start, clipper.display_end):
                self._row(state, *self._flat[i])
        clipper.end()
        imgui.end()

    def _row(self, state: AppState, node: Node, depth: int) -> None:
        imgui.push_id(node.path)
        imgui.set_cursor_pos_x(imgui.get_cursor_pos_x() + depth * _INDENT)
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
            imgui.push_style_color(imgui.Col_.text.value, imgui.get_style_color_vec4(imgui.Col_.text_disabled.value))
        imgui.set_next_item_open(node.path not in self.closed)
        opened = imgui.tree_node_ex(f"{label}###n", flags)
        if not visible:
            imgui.pop_style_color()
        record_item(state, f"tree:{node.path}")
        if node.children and opened == (node.path in self.closed):
            (self.closed.discard if opened else self.closed.add)(node.path)
        if imgui.is_item_clicked() and not imgui.is_item_toggled_open():
            state.selected = node.path
        if imgui.is_item_hovered():
            imgui.set_tooltip(node.path + ("" if node.logged else " (implicit)"))
        imgui.pop_id()
