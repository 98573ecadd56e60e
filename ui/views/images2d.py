"""Image-like components -> (h, w, 4) uint8 RGBA for the 2D view.

``Image`` (L/RGB/RGBA, floats scaled from [0, 1], wider integers shifted down), ``DepthImage``
(grayscale over its finite range, near = bright), ``SegmentationImage`` (the annotation context's
class colors, else a stable color per class id, 0 transparent) and ``EncodedImage`` (PNG/JPEG...
via Pillow, when installed).
"""

from __future__ import annotations

import io

import numpy as np

from ..annotations import ANNOTATIONS, Annotations, segmentation_table
from ..scene import auto_color

_DTYPES = {"uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "float16", "float32", "float64"}
KINDS = ("Image", "DepthImage", "SegmentationImage", "EncodedImage")


def raw_image(cells: dict, prefix: str) -> np.ndarray | None:
    """``<prefix>:buffer`` + ``<prefix>:format`` -> (h, w, c) array in its stored dtype."""
    buf, fmt = cells.get(f"{prefix}:buffer"), cells.get(f"{prefix}:format")
    if buf is None or fmt is None or not len(buf.values) or not len(fmt.values):
        return None
    f = fmt.values[0].as_py()
    w, h, c, dtype = int(f["width"]), int(f["height"]), int(f["channels"]), str(f["datatype"])
    if dtype not in _DTYPES:
        raise ValueError(f"image datatype {dtype!r} is not drawable")
    raw = np.frombuffer(buf.values[0].as_buffer(), dtype=np.dtype(dtype))
    if raw.size != w * h * c:
        raise ValueError(f"image buffer holds {raw.size} values, format says {w}x{h}x{c}")
    return raw.reshape(h, w, c)


def _rgba(gray_or_color: np.ndarray) -> np.ndarray:
    h, w, c = gray_or_color.shape
    out = np.full((h, w, 4), 255, dtype=np.uint8)
    out[..., :3] = gray_or_color[..., :3] if c >= 3 else gray_or_color[..., :1]
    if c == 4:
        out[..., 3] = gray_or_color[..., 3]
    return out


def color_image(img: np.ndarray) -> np.ndarray:
    if img.dtype.kind == "f":
        img = np.clip(np.nan_to_num(img) * 255.0, 0, 255)
    elif img.dtype.itemsize > 1:
        img = np.asarray(img, dtype=np.uint64) >> np.uint64(8 * (img.dtype.itemsize - 1))
    return _rgba(img.astype(np.uint8))


def depth_image(img: np.ndarray) -> np.ndarray:
    d = img[..., 0].astype(np.float64)
    ok = np.isfinite(d) & (d > 0)
    out = np.zeros(d.shape + (4,), dtype=np.uint8)
    if ok.any():
        lo, hi = d[ok].min(), d[ok].max()
        g = 255.0 * (1.0 - (d - lo) / max(hi - lo, 1e-12))
        out[..., :3] = np.where(ok, np.clip(g, 0, 255), 0)[..., None].astype(np.uint8)
        out[..., 3] = np.where(ok, 255, 0).astype(np.uint8)
    return out


def _class_color(i: int) -> np.ndarray:
    return auto_color(f"class {i}") if i != 0 else np.zeros(4, np.uint8)


def segmentation_image(img: np.ndarray, annotations: Annotations | None = None) -> np.ndarray:
    ids = img[..., 0].astype(np.int64)
    uniq, inverse = np.unique(ids, return_inverse=True)
    return segmentation_table(annotations, uniq, _class_color)[inverse.reshape(ids.shape)]


def encoded_image(cells: dict) -> np.ndarray | None:
    blob = cells.get("EncodedImage:blob")
    if blob is None or not len(blob.values):
        return None
    try:
        from PIL import Image
    except ImportError as exc:
        raise ValueError("EncodedImage needs Pillow (pip install pillow)") from exc
    data = blob.values[0].as_py()
    try:
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))
    except OSError as exc:
        raise ValueError(f"cannot decode EncodedImage: {exc}") from exc


def decode(cells: dict, kind: str) -> np.ndarray | None:
    """RGBA pixels of one image-like archetype in ``cells`` (None when it is not there)."""
    if kind == "EncodedImage":
        return encoded_image(cells)
    raw = raw_image(cells, kind)
    if raw is None:
        return None
    if kind == "DepthImage":
        return depth_image(raw)
    if kind == "SegmentationImage":
        return segmentation_image(raw, cells.get(ANNOTATIONS))
    return color_image(raw)


def row_id(cells: dict, kind: str):
    """What an image's texture is cached by: its row (and, for segmentation, the context's row)."""
    cell = cells.get("EncodedImage:blob" if kind == "EncodedImage" else f"{kind}:buffer")
    if cell is None:
        return None
    ann = cells.get(ANNOTATIONS) if kind == "SegmentationImage" else None
    return cell.row_id if ann is None else (cell.row_id, ann.key())
