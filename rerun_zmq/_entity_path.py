"""Entity paths: ``/``-separated parts forming the entity tree.

Canonical form has a leading ``/`` and no trailing one: ``"dna/structure/left"`` and
``"/dna/structure/left/"`` are both ``"/dna/structure/left"``; the root is ``"/"``.
A part may hold any character; ``/`` and ``\\`` inside a part are written escaped with ``\\``.
Parts starting with ``__`` are reserved for the SDK's own data.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

ROOT = "/"


def _split_escaped(path: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    escaped = False
    for ch in path:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "/":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if escaped:
        raise ValueError(f"entity path {path!r} ends with a lone backslash")
    parts.append("".join(cur))
    return [p for p in parts if p != ""]


def escape_part(part: str) -> str:
    return part.replace("\\", "\\\\").replace("/", "\\/")


@lru_cache(maxsize=65536)
def _canonical_str(path: str) -> str:
    if "\\" not in path:
        parts = [p for p in path.split("/") if p]
        return "/" + "/".join(parts)
    return "/" + "/".join(escape_part(p) for p in _split_escaped(path))


def canonical_path(path: str | Sequence[str]) -> str:
    """Return the canonical string of an entity path given as a string or a list of parts."""
    if isinstance(path, str):
        return _canonical_str(path)
    if isinstance(path, (list, tuple)) and all(isinstance(p, str) for p in path):
        return "/" + "/".join(escape_part(p) for p in path if p != "")
    raise TypeError(
        f"entity path must be a str like 'world/robot/lidar' or a list of str parts, "
        f"got {type(path).__name__}"
    )


def path_parts(path: str) -> list[str]:
    """Unescaped parts of a path (``"/a/b"`` -> ``["a", "b"]``)."""
    return _split_escaped(canonical_path(path))


def parent_paths(path: str) -> list[str]:
    """Every ancestor of ``path`` from the root down, excluding ``path`` itself."""
    canon = canonical_path(path)
    if canon == ROOT:
        return []
    parts = path_parts(canon)
    out = [ROOT]
    for i in range(1, len(parts)):
        out.append("/" + "/".join(escape_part(p) for p in parts[:i]))
    return out


def is_descendant_or_self(path: str, ancestor: str) -> bool:
    """True if canonical ``path`` equals ``ancestor`` or lies in its subtree."""
    if ancestor == ROOT:
        return True
    return path == ancestor or path.startswith(ancestor + "/")


def is_reserved(path: str) -> bool:
    return any(p.startswith("__") for p in path_parts(path))
