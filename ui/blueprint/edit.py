"""Edits of a ``Layout`` (the blueprint panel's actions); each marks the layout as user-made."""

from __future__ import annotations

from rerun_zmq._entity_path import canonical_path

from .filter import EntityFilter, toggle_rules
from .model import ContainerNode, ViewNode


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


def rename_node_unique(layout, node: ViewNode) -> None:
    taken = {v.name for v in layout.views()}
    base, n = node.name, 2
    while node.name in taken:
        node.name, n = f"{base} ({n})", n + 1
    node.view.name = node.name


def _subtree_uids(node) -> set[int]:
    out = {node.uid}
    for c in getattr(node, "children", []):
        out |= _subtree_uids(c)
    return out


def containers(layout, exclude=None) -> list[ContainerNode]:
    """Every container, except ``exclude``'s subtree (where it cannot move to)."""
    banned = _subtree_uids(exclude) if exclude is not None else set()
    out: list[ContainerNode] = []

    def walk(n) -> None:
        if isinstance(n, ContainerNode):
            if n.uid not in banned:
                out.append(n)
            for c in n.children:
                walk(c)

    walk(layout.root)
    return out


def move_into(layout, uid: int, target: ContainerNode, after: int | None = None) -> bool:
    """Detach node ``uid`` and put it into ``target``: at the end, or right after its child
    ``after``. Refused (False, nothing changed) into the node's own subtree."""
    node, parent = layout.find(uid), layout.parent_of(uid)
    if node is None or parent is None or target.uid in _subtree_uids(node) or uid == after:
        return False
    parent.children = [c for c in parent.children if c.uid != uid]
    parent.shares = None
    at = next((i + 1 for i, c in enumerate(target.children) if c.uid == after), len(target.children))
    target.children.insert(at, node)
    target.shares = None
    layout.edited()
    return True


def set_origin(layout, node: ViewNode, origin: str) -> None:
    """``ValueError`` (nothing changed) for a path that is not an entity path."""
    origin = canonical_path(origin.strip() or "/")
    EntityFilter(node.contents, origin)  # the rules must still read with $origin expanded
    node.origin = node.view.origin = origin
    node.set_contents(node.contents)  # $origin moved
    if node.kind == "Spatial2DView":
        node.ui["fitted"] = False  # its content is re-based on the new origin: fit it again
    layout.edited()


def set_container_kind(layout, node: ContainerNode, kind: str) -> None:
    if kind not in ("Horizontal", "Vertical", "Grid", "Tabs"):
        raise ValueError(f"unknown container kind {kind!r}")
    if node.name == node.kind:
        node.name = kind
    node.kind, node.shares, node.active_tab = kind, None, 0
    layout.edited()
