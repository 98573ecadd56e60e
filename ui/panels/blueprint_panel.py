"""Blueprint panel: the layout as a tree — add, remove, rename, move views and containers, toggle a
view's entities, reset to the automatic layout (or to the blueprint from code). The node selected
here is edited in the selection panel (``draw_editor``), as in Rerun."""

from __future__ import annotations

from imgui_bundle import imgui

from rerun_zmq.blueprint import CONTAINER_KINDS, VIEW_KINDS

from ..blueprint import ContainerNode, ViewNode
from ..blueprint.filter import toggle_rules
from ..blueprint.model import LABEL
from ..state import AppState
from . import PANEL_FLAGS, place, record_item

_TREE = imgui.TreeNodeFlags_.default_open.value | imgui.TreeNodeFlags_.span_avail_width.value


# -- edits (also used by tests and the bench) ------------------------------------------------------
def add_node(layout, node, parent: ContainerNode | None = None) -> None:
    """Append ``node`` to ``parent`` (default: the root, wrapped in a Horizontal if it is a view)."""
    if parent is None:
        if layout.root is None:
            layout.root = node
            layout.edited()
            return
        if isinstance(layout.root, ViewNode):
            layout.root = ContainerNode("Horizontal", [layout.root])
        parent = layout.root
    parent.children.append(node)
    parent.shares = None
    layout.edited()


def remove_node(layout, uid: int) -> None:
    if layout.root is not None and layout.root.uid == uid:
        layout.root = None
    else:
        parent = layout.parent_of(uid)
        if parent is None:
            return
        parent.children = [c for c in parent.children if c.uid != uid]
        parent.shares = None
    layout.edited()


def move_node(layout, uid: int, delta: int) -> None:
    """Move a node up (-1) or down (+1) among its siblings."""
    parent = layout.parent_of(uid)
    if parent is None:
        return
    kids = parent.children
    i = next(i for i, c in enumerate(kids) if c.uid == uid)
    j = min(max(i + delta, 0), len(kids) - 1)
    kids[i], kids[j] = kids[j], kids[i]
    if parent.shares and len(parent.shares) == len(kids):
        parent.shares[i], parent.shares[j] = parent.shares[j], parent.shares[i]
    layout.edited()


def rename_node(layout, uid: int, name: str) -> None:
    node = layout.find(uid)
    name = name.strip()
    if node is None or not name:
        return
    taken = {v.name for v in layout.views() if v.uid != uid}
    base, n = name, 2
    while isinstance(node, ViewNode) and name in taken:
        name, n = f"{base} ({n})", n + 1
    node.name = name
    if isinstance(node, ViewNode):
        node.view.name = name
    layout.edited()


def toggle_entity(layout, node: ViewNode, path: str) -> None:
    node.set_contents(toggle_rules(node.contents, path, node.includes(path)))
    layout.edited()


class BlueprintPanel:
    def __init__(self) -> None:
        self.selected_uid: int | None = None
        self._name = [""]
        self._name_uid: int | None = None
        self._paths: list[str] = []
        self._paths_key: tuple | None = None

    def draw(self, state: AppState, workspace, rect) -> None:
        layout = workspace.layout
        place(rect)
        imgui.begin("Blueprint", None, PANEL_FLAGS)
        self._toolbar(state, layout)
        imgui.separator()
        if layout.root is None:
            imgui.text_disabled("empty layout")
        else:
            self._node(state, layout, layout.root)
        imgui.end()

    def selected_node(self, layout):
        return layout.find(self.selected_uid) if self.selected_uid is not None else None

    def draw_editor(self, state: AppState, layout) -> bool:
        """The selected node's editor (drawn in the selection panel); False when none is selected."""
        node = self.selected_node(layout)
        if node is None:
            return False
        imgui.text(f"{LABEL.get(node.kind, node.kind)}: {node.name}")
        imgui.separator()
        self._editor(state, layout, node)
        return True

    def _toolbar(self, state: AppState, layout) -> None:
        if imgui.small_button("+ view"):
            imgui.open_popup("add_view")
        record_item(state, "bp_add_view")
        imgui.same_line()
        if imgui.small_button("+ container"):
            imgui.open_popup("add_container")
        record_item(state, "bp_add_container")
        imgui.same_line()
        if imgui.small_button("reset"):
            layout.reset_auto(state)
        record_item(state, "bp_reset")
        if imgui.is_item_hovered():
            imgui.set_tooltip("Reset to the automatic layout")
        if layout.from_code is not None:
            imgui.same_line()
            if imgui.small_button("from code"):
                layout.reset_to_code()
            record_item(state, "bp_from_code")
        parent = layout.find(self.selected_uid) if self.selected_uid is not None else None
        parent = parent if isinstance(parent, ContainerNode) else None
        for popup, kinds, make in (
            ("add_view", VIEW_KINDS, lambda k: ViewNode(k, "/")),
            ("add_container", CONTAINER_KINDS, lambda k: ContainerNode(k)),
        ):
            if imgui.begin_popup(popup):
                for kind in kinds:
                    if imgui.selectable(LABEL.get(kind, kind), False)[0]:
                        node = make(kind)
                        if isinstance(node, ViewNode):
                            rename_node_unique(layout, node)
                        add_node(layout, node, parent)
                        self.selected_uid = node.uid
                        state.selected, state.selected_instance = None, None
                    record_item(state, f"bp_kind:{kind}")
                imgui.end_popup()

    def _node(self, state: AppState, layout, node) -> None:
        imgui.push_id(str(node.uid))
        flags = _TREE | (imgui.TreeNodeFlags_.leaf.value if isinstance(node, ViewNode) else 0)
        if node.uid == self.selected_uid:
            flags |= imgui.TreeNodeFlags_.selected.value
        kind = LABEL.get(node.kind, node.kind)
        label = node.name if node.name == kind else f"{node.name}  [{kind}]"
        opened = imgui.tree_node_ex(f"{label}###n", flags)
        record_item(state, f"bp_node:{node.name}")
        if imgui.is_item_clicked() and not imgui.is_item_toggled_open():
            self.selected_uid = node.uid
            state.selected, state.selected_instance = None, None  # the selection panel edits the node
        if opened:
            for child in list(getattr(node, "children", [])):
                self._node(state, layout, child)
            imgui.tree_pop()
        imgui.pop_id()

    def _editor(self, state: AppState, layout, node) -> None:
        """Rename, move, remove the selected node; a view's entity toggles."""
        if self._name_uid != node.uid:
            self._name, self._name_uid = [node.name], node.uid
        imgui.set_next_item_width(max(imgui.get_content_region_avail().x - 60, 60))
        _, self._name[0] = imgui.input_text("##rename", self._name[0])
        record_item(state, "bp_name")
        imgui.same_line()
        if imgui.small_button("rename"):
            rename_node(layout, node.uid, self._name[0])
        record_item(state, "bp_rename")
        for label, key, action in (
            ("up", "bp_up", lambda: move_node(layout, node.uid, -1)),
            ("down", "bp_down", lambda: move_node(layout, node.uid, +1)),
            ("remove", "bp_remove", lambda: remove_node(layout, node.uid)),
        ):
            if imgui.small_button(label):
                action()
            record_item(state, key)
            imgui.same_line()
        imgui.new_line()
        if isinstance(node, ViewNode) and state.store is not None:
            imgui.text_disabled(f"origin {node.origin}; entities:")
            key = (id(state.store), state.generation)
            if key != self._paths_key:  # entity_paths() sorts every call: once per data change
                self._paths = [p for p in state.store.entity_paths() if not p.startswith("/__")]
                self._paths_key = key
            paths = self._paths
            clipper = imgui.ListClipper()
            clipper.begin(len(paths))
            while clipper.step():
                for i in range(clipper.display_start, clipper.display_end):
                    path = paths[i]
                    if imgui.checkbox(f"{path}##inc", node.includes(path))[0]:
                        toggle_entity(layout, node, path)
                    record_item(state, f"bp_entity:{path}")


def rename_node_unique(layout, node: ViewNode) -> None:
    taken = {v.name for v in layout.views()}
    base, n = node.name, 2
    while node.name in taken:
        node.name, n = f"{base} ({n})", n + 1
    node.view.name = node.name
