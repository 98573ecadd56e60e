"""``Layout``: the live blueprint — automatic, from code (``/__blueprint``), or edited by the user.

``sync(state)`` runs once per frame: it applies a blueprint that arrived in the data, and while the
layout is automatic it regenerates it when the data calls for other views (keeping the views that
remain, cameras included). Any user edit turns the automatic layout off.
"""

from __future__ import annotations

import json
import time

from rerun_zmq.blueprint import BLUEPRINT_ENTITY, LAYOUT_COMPONENT

from .auto import auto_layout
from .model import ContainerNode, ViewNode, node_from_json

MODE_COMPONENT = "Blueprint:mode"
AUTO_EVERY_S = 0.5


class Layout:
    def __init__(self) -> None:
        self.root: ContainerNode | ViewNode | None = None
        self.auto = True
        self.from_code: str | None = None  # JSON of the last blueprint applied from the data
        self._auto_key: tuple | None = None
        self._data_key: tuple | None = None
        self._auto_pending = False
        self._next_auto = 0.0
        self.version = 0  # bumps on every change (persistence saves when it moved)

    # -- walking ---------------------------------------------------------------------------------
    def views(self) -> list[ViewNode]:
        out: list[ViewNode] = []

        def walk(n) -> None:
            if isinstance(n, ViewNode):
                out.append(n)
            elif n is not None:
                for c in n.children:
                    walk(c)

        walk(self.root)
        return out

    def parent_of(self, uid: int) -> ContainerNode | None:
        def walk(n):
            if isinstance(n, ContainerNode):
                for c in n.children:
                    if c.uid == uid:
                        return n
                    found = walk(c)
                    if found is not None:
                        return found
            return None

        return walk(self.root)

    def find(self, uid: int):
        def walk(n):
            if n is None or n.uid == uid:
                return n
            for c in getattr(n, "children", []):
                found = walk(c)
                if found is not None:
                    return found
            return None

        return walk(self.root)

    # -- sources ---------------------------------------------------------------------------------
    def set_root(self, root, auto: bool) -> None:
        old = {(v.kind, v.origin): v for v in self.views()}
        if auto and root is not None:  # keep the cameras of views that stay
            for v in iter_views(root):
                prev = old.get((v.kind, v.origin))
                if prev is not None:
                    v.view, v.ui, v.name, v.uid = prev.view, prev.ui, prev.name, prev.uid
        self.root, self.auto = root, auto
        unique_names(list(iter_views(root)))
        self.version += 1

    def reset_auto(self, state) -> None:
        self._auto_key = None
        store = state.store
        self.set_root(auto_layout(store, state.time.timeline, state.time.cursor) if store is not None else None, True)
        self._auto_key = _auto_key(store) if store is not None else None

    def load_json(self, data: dict | str, auto: bool | None = None) -> None:
        d = json.loads(data) if isinstance(data, str) else data
        if not isinstance(d, dict) or d.get("version") != 1:
            raise ValueError("blueprint JSON must be an object with version 1")
        try:
            root = node_from_json(d["root"]) if d.get("root") is not None else None
        except (TypeError, AttributeError, KeyError, IndexError) as exc:  # a field of the wrong type
            raise ValueError(f"malformed blueprint: {type(exc).__name__}: {exc}") from exc
        self.set_root(root, bool(d.get("auto_layout", root is None)) if auto is None else auto)

    def to_json(self) -> dict:
        return {
            "version": 1,
            "root": self.root.to_json() if self.root is not None else None,
            "auto_layout": self.auto,
            "auto_views": self.auto,
        }

    def forget(self) -> None:
        """Back to an empty automatic layout (a recording of another application became active)."""
        self.root, self.auto, self.from_code = None, True, None
        self._auto_key = self._data_key = None
        self._auto_pending, self._next_auto = False, 0.0
        self.version += 1

    def edited(self) -> None:
        """A user edit: the layout is no longer automatic."""
        self.auto = False
        self.version += 1

    def sync(self, state, now: float | None = None) -> None:
        """Apply a blueprint from the data; keep an automatic layout up to date with the data
        (regenerated at most every ``AUTO_EVERY_S`` while entities keep appearing)."""
        store = state.store
        if store is None:
            return
        now = time.monotonic() if now is None else now
        key = (id(store), state.generation)
        if key == self._data_key and not (self._auto_pending and now >= self._next_auto):
            return
        self._data_key = key
        self._apply_code_blueprint(state)
        if self.auto and not self.from_code_active():
            akey = _auto_key(store)
            if akey == self._auto_key:
                self._auto_pending = False
            elif now < self._next_auto and self.root is not None:
                self._auto_pending = True  # again once the interval has passed, data or not
            else:
                self._auto_key, self._auto_pending, self._next_auto = akey, False, now + AUTO_EVERY_S
                self.set_root(auto_layout(store, state.time.timeline, state.time.cursor), auto=True)

    def from_code_active(self) -> bool:
        return self.from_code is not None and not self.auto

    def _apply_code_blueprint(self, state) -> None:
        try:
            cells = state.store.latest_at(BLUEPRINT_ENTITY, None, 0)
        except (KeyError, ValueError, LookupError):
            return
        cell = cells.get(LAYOUT_COMPONENT)
        if cell is None or not len(cell.values):
            return
        text = cell.values[0].as_py()
        if text == self.from_code:
            return
        mode = cells.get(MODE_COMPONENT)
        mode = mode.values[0].as_py() if mode is not None and len(mode.values) else "active"
        self.from_code = text
        if mode == "default" and not self.auto:
            return  # a default blueprint never replaces a layout the user made
        try:
            self.load_json(text)
        except ValueError as exc:
            state.errors.append(f"blueprint: {exc}")

    def reset_to_code(self) -> None:
        if self.from_code is not None:
            self.load_json(self.from_code)


def unique_names(views: list[ViewNode]) -> None:
    """Give views sharing a name distinct ones ("motors", "motors (Text log)", "motors (2)")."""
    from .model import LABEL

    seen: set[str] = set()
    for v in views:
        name = v.name
        if name in seen:
            name = f"{v.name} ({LABEL[v.kind]})"
            n = 2
            while name in seen:
                name, n = f"{v.name} ({n})", n + 1
            v.name = v.view.name = name
        seen.add(name)


def iter_views(root):
    """The views of a subtree, in layout order."""
    if isinstance(root, ViewNode):
        yield root
    elif root is not None:
        for c in root.children:
            yield from iter_views(c)


def _auto_key(store) -> tuple:
    """Changes when entities appear (live: also when the standing query first returns their cells)."""
    paths = store.entity_paths()
    return (id(store), len(paths), hasattr(store, "components") or len(getattr(store, "_cells", ())))
