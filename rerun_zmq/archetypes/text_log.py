"""TextLog: one log line with an optional level and color."""

from __future__ import annotations

from typing import Any

from .. import _components as c
from ._common import TableArchetype


class TextLog(TableArchetype):
    """A text log entry; ``level`` is any string (see ``TextLogLevel`` for the usual ones)."""

    archetype_name = "TextLog"
    primary_field = "text"
    _specs = {
        "text": (c.STRING, c.strings),
        "level": (c.STRING, c.strings),
        "color": (c.COLOR, c.colors),
    }

    def __init__(self, text: str, *, level: str | None = None, color: Any = None) -> None:
        super().__init__()
        self._field("text", c.STRING, text, c.text_one)
        self._field("level", c.STRING, level, c.text_one)
        self._field("color", c.COLOR, color, c.color_one)
