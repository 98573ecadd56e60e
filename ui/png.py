"""Write RGB(A) images to PNG: pillow when installed, else a minimal zlib + struct encoder."""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np


def save_png(path: str | os.PathLike, pixels: np.ndarray) -> None:
    """``pixels``: (h, w, 3|4) uint8, row 0 at the top."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(f"expected an (h, w, 3|4) uint8 image, got shape {pixels.shape}")
    try:
        from PIL import Image
    except ImportError:
        _save_png_zlib(path, pixels)
        return
    Image.fromarray(pixels, "RGBA" if pixels.shape[2] == 4 else "RGB").save(path)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def _save_png_zlib(path: str | os.PathLike, pixels: np.ndarray) -> None:
    h, w, c = pixels.shape
    raw = np.concatenate([np.zeros((h, 1), dtype=np.uint8), pixels.reshape(h, w * c)], axis=1)
    head = struct.pack(">IIBBBBB", w, h, 8, 6 if c == 4 else 2, 0, 0, 0)
    body = _chunk(b"IHDR", head) + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + _chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + body)


def load_png(path: str | os.PathLike) -> np.ndarray:
    """Read a PNG back as (h, w, c) uint8 (pillow; used by tests)."""
    from PIL import Image

    return np.asarray(Image.open(path))
