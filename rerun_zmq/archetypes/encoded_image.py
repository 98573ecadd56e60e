"""EncodedImage: a compressed image (JPEG, PNG, ...) logged as its file bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from .. import _components as c
from ._common import TableArchetype

BLOB = pa.binary()
_MEDIA_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


def _blob(value: Any) -> pa.Array:
    if isinstance(value, bytes | bytearray | memoryview):
        return pa.array([bytes(value)], type=BLOB)
    raise TypeError(f"expected the encoded image as bytes, got {type(value).__name__}")


class EncodedImage(TableArchetype):
    """An encoded image from ``path=`` (read now) or ``contents=`` bytes; ``media_type`` is guessed
    from the file suffix when not given (``image/jpeg``, ``image/png``, ``image/webp``).
    """

    archetype_name = "EncodedImage"
    primary_field = "blob"
    _specs = {
        "blob": (BLOB, _blob),
        "media_type": (c.STRING, c.text_one),
        "opacity": (c.F32, c.float32_one),
        "draw_order": (c.F32, c.float32_one),
    }

    def __init__(
        self,
        *,
        path: str | Path | None = None,
        contents: bytes | None = None,
        media_type: str | None = None,
        opacity: float | None = None,
        draw_order: float | None = None,
    ) -> None:
        super().__init__()
        if (path is None) == (contents is None):
            self._fail("blob", TypeError("give exactly one of path= or contents="))
        elif path is not None:
            try:
                contents = Path(path).read_bytes()
                if media_type is None:
                    media_type = _MEDIA_TYPES.get(Path(path).suffix.lower())
            except OSError as exc:
                self._fail("blob", ValueError(f"cannot read {str(path)!r}: {exc.strerror}"))
            except TypeError as exc:
                self._fail(
                    "blob", TypeError(f"expected path= to be a path, got {type(path).__name__}: {exc}")
                )
        self._put("blob", contents)
        self._put("media_type", media_type)
        self._put("opacity", opacity)
        self._put("draw_order", draw_order)
