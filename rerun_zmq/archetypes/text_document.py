"""TextDocument: a whole text (plain or markdown) shown in a text view, often logged static."""

from __future__ import annotations

from typing import Any

from .. import _components as c
from ._common import TableArchetype


class TextDocument(TableArchetype):
    """A text document; ``media_type`` is ``"text/plain"`` (default meaning) or ``"text/markdown"``."""

    archetype_name = "TextDocument"
    primary_field = "text"
    _specs = {"text": (c.STRING, c.strings), "media_type": (c.STRING, c.strings)}

    def __init__(self, text: str, *, media_type: Any = None) -> None:
        super().__init__()
        self._field("text", c.STRING, text, c.text_one)
        self._field("media_type", c.STRING, media_type, c.text_one)
