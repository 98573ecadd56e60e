"""A view's entity filter: ``+ path`` / ``- path`` rules, ``/**`` for a subtree, ``$origin`` expanded.

The most specific matching rule wins (a longer path, then an exact rule over a subtree rule); at
equal specificity an exclusion wins. Reserved ``/__*`` entities never match.
"""

from __future__ import annotations

from rerun_zmq._entity_path import canonical_path, is_descendant_or_self


def _parse(rule: str, origin: str) -> tuple[bool, str, bool]:
    """(include, path, subtree) of one rule."""
    rule = rule.strip()
    include = not rule.startswith("-")
    body = rule[1:].strip() if rule[:1] in "+-" else rule
    body = body.replace("$origin", origin.rstrip("/") if origin != "/" else "")
    subtree = body.endswith("/**") or body == "**"
    if subtree:
        body = body[:-3] if body.endswith("/**") else ""
    path = canonical_path(body or "/") if body != "/" else "/"
    return include, path, subtree


class EntityFilter:
    def __init__(self, rules: list[str], origin: str = "/") -> None:
        self.rules = [_parse(r, origin) for r in rules if r.strip()]

    def matches(self, path: str) -> bool:
        if path.startswith("/__"):
            return False
        best: tuple[int, int, int] | None = None  # (depth, exact, exclusion)
        result = False
        for include, rpath, subtree in self.rules:
            if subtree:
                ok = is_descendant_or_self(path, rpath)
            else:
                ok = path == rpath
            if not ok:
                continue
            depth = 0 if rpath == "/" else rpath.count("/")
            key = (depth, 0 if subtree else 1, 0 if include else 1)
            if best is None or key >= best:
                best, result = key, include
        return result


def toggle_rules(rules: list[str], path: str, currently_included: bool) -> list[str]:
    """Rules with ``path`` (and its subtree) switched: drop an exact rule for it, or add one."""
    mine = {f"+ {path}/**", f"- {path}/**", f"+ {path}", f"- {path}"}
    kept = [r for r in rules if r.strip() not in mine]
    sign = "-" if currently_included else "+"
    return [*kept, f"{sign} {path}/**"]
