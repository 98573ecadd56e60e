"""Blueprint panel: the layout as a tree — add, remove, rename, move views and containers, toggle a
view's entities, reset to the automatic layout (or to the blueprint from code). The node selected
here is edited in the selection panel (``draw_editor``), as in Rerun."""

from __future__ import annotations

from imgui_bundle import imgui

from rerun_zmq.blueprint import CONTAINER_KINDS, VIEW_KINDS

from ..blueprint import ContainerNode, ViewNode
from ..blueprint.edit import (  # noqa: F401 - re-exported for tests and the bench
    add_node,
    containers,
    move_into,
    move_node,
    remove_node,
    rename_node,
    rename_node_unique,
    set_container_kind,
    set_origin,
    toggle_entity,
)
from ..blueprint.model import LABEL
from ..state import AppState
from . import PANEL_FLAGS, place, record_item

_DND = "blueprint_node"
_TREE = (  # a click on the label selects; the arrow (or a double-click) opens and closes
    imgui.TreeNodeFlags_.default_open.value
    | imgui.TreeNodeFlags_.span_avail_width.value
    | imgui.TreeNodeFlags_.open_on_arrow.value
    | imgui.TreeNodeFlags_.open_on_double_click.value
)


class BlueprintPanel:
    def __init__(self) -> None:
        self.selected_uid: int | None = None
        self._name = [""]
        self._name_uid: int | None = None
        self._paths: list[str] = []
        self._origin = [""]
        self._origin_uid: int | None = None
        self._origin_error = ""
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
        self._drag_and_drop(layout, node)
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
        self._move_and_kind(state, layout, node)
        if isinstance(node, ViewNode) and state.store is not None:
            if self._origin_uid != node.uid:
                self._origin, self._origin_uid, self._origin_error = [node.origin], node.uid, ""
            imgui.set_next_item_width(max(imgui.get_content_region_avail().x - 60, 60))
            _, self._origin[0] = imgui.input_text("##origin", self._origin[0])
            record_item(state, "bp_origin")
            imgui.same_line()
            if imgui.small_button("origin"):
                try:
                    set_origin(layout, node, self._origin[0])
                    self._origin_error = ""
                except ValueError as exc:  # a typo in the field, not a reason to end the viewer
                    self._origin_error = str(exc)
            record_item(state, "bp_set_origin")
            if self._origin_error:
                imgui.text_colored(imgui.ImVec4(1.0, 0.6, 0.5, 1.0), self._origin_error)
            imgui.text_disabled("entities:")
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

    def _move_and_kind(self, state: AppState, layout, node) -> None:
        """ "move to" another container; a container's kind."""
        targets = containers(layout, exclude=node)
        parent = layout.parent_of(node.uid)
        imgui.set_next_item_width(150)
        if imgui.begin_combo("move to", ""):
            for c in targets:
                if c is not parent and imgui.selectable(f"{c.name}##{c.uid}", False)[0]:
                    move_into(layout, node.uid, c)
                record_item(state, f"bp_move_to:{c.name}")
            imgui.end_combo()
        record_item(state, "bp_move_to")
        if isinstance(node, ContainerNode):
            imgui.set_next_item_width(150)
            if imgui.begin_combo("kind", node.kind):
                for kind in CONTAINER_KINDS:
                    if imgui.selectable(kind, kind == node.kind)[0] and kind != node.kind:
                        set_container_kind(layout, node, kind)
                    record_item(state, f"bp_container_kind:{kind}")
                imgui.end_combo()
            record_item(state, "bp_container_kind")

    def _drag_and_drop(self, layout, node) -> None:
        """Drag a node onto a container to move it in; onto a view to move it next to that view."""
        if layout.parent_of(node.uid) is not None and imgui.begin_drag_drop_source():
            imgui.set_drag_drop_payload_py_id(_DND, node.uid)
            imgui.text(node.name)
            imgui.end_drag_drop_source()
        if imgui.begin_drag_drop_target():
            payload = imgui.accept_drag_drop_payload_py_id(_DND)
            if payload is not None and payload.data_id != node.uid:
                target = node if isinstance(node, ContainerNode) else layout.parent_of(node.uid)
                if target is not None:  # onto a view: land right after it
                    move_into(layout, payload.data_id, target, after=node.uid if isinstance(node, ViewNode) else None)
            imgui.end_drag_drop_target()
