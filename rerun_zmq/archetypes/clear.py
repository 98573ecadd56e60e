"""Clear: hides an entity's data (or its whole subtree's) from this point on."""

from __future__ import annotations

from .. import _components as c
from ._common import TableArchetype


class Clear(TableArchetype):
    """Logging ``Clear(recursive=...)`` clears the entity, and its children when recursive.

    Stored as ``Clear:is_recursive`` (bool).
    """

    archetype_name = "Clear"
    primary_field = "is_recursive"
    _specs = {"is_recursive": (c.BOOL, c.bools)}
    _aliases = {"recursive": "is_recursive"}

    def __init__(self, *, recursive: bool) -> None:
        super().__init__()
        self._put("is_recursive", recursive)

    @classmethod
    def flat(cls) -> Clear:
        """Clear this entity only."""
        return cls(recursive=False)

    @classmethod
    def recursive(cls) -> Clear:
        """Clear this entity and all its descendants."""
        return cls(recursive=True)
