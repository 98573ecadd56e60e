"""Image: a raw pixel buffer (HxW, HxWx1, HxWx3 or HxWx4) with its format."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from .. import _components as c
from ._common import TableArchetype

BUFFER = pa.binary()
FORMAT = pa.struct(
    [("width", pa.uint32()), ("height", pa.uint32()), ("channels", pa.uint8()), ("datatype", pa.string())]
)
_CHANNELS = {"L": 1, "RGB": 3, "BGR": 3, "RGBA": 4, "BGRA": 4}
_SHAPES_1 = "an image of shape (H, W) or (H, W, 1) of integers or floats"
_SHAPES = "an image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) of integers or floats"


def image_buffer(image: Any, single_channel: bool = False) -> tuple[pa.Array, list[dict]]:
    """An image array -> (one-element ``binary`` buffer of row-major pixels, [format dict]).

    ``single_channel`` accepts only (H, W) or (H, W, 1) (depth and segmentation images).
    """
    shapes = _SHAPES_1 if single_channel else _SHAPES
    arr = np.asarray(image)
    if arr.dtype.kind not in "uif":
        raise TypeError(f"expected {shapes}, got dtype {arr.dtype}")
    if arr.ndim == 2:
        channels = 1
    elif arr.ndim == 3 and arr.shape[2] in ((1,) if single_channel else (1, 3, 4)):
        channels = arr.shape[2]
    else:
        raise ValueError(f"expected {shapes}, got shape {arr.shape}")
    data = arr.astype(arr.dtype.newbyteorder("="), copy=False).tobytes()  # always a copy
    if len(data) >= 2**31:
        raise ValueError(f"expected an image under 2 GiB, got {len(data)} bytes")
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int32).tobytes())
    buffer = pa.Array.from_buffers(BUFFER, 1, [None, offsets, pa.py_buffer(data)])
    fmt = {"width": arr.shape[1], "height": arr.shape[0], "channels": channels, "datatype": arr.dtype.name}
    return buffer, [fmt]


def _color_model(value: Any) -> list[str]:
    name = str(getattr(value, "value", value)).upper()
    if name not in _CHANNELS:
        raise ValueError(f"expected a color model among {sorted(_CHANNELS)}, got {value!r}")
    return [name]


class Image(TableArchetype):
    """An image from a numpy-like array (PIL images work too); pixels are copied at construction.

    ``Image:buffer`` holds the pixels (``binary``, one instance, row-major, native byte order);
    ``Image:format`` is ``struct<width, height, channels, datatype>`` (datatype: numpy dtype name).
    ``color_model`` (``"L"``, ``"RGB"``, ``"RGBA"``, ``"BGR"``, ``"BGRA"``) is logged only if given.
    """

    archetype_name = "Image"
    primary_field = "buffer"
    _specs = {
        "color_model": (c.STRING, _color_model),
        "opacity": (c.F32, c.float32_one),
        "draw_order": (c.F32, c.float32_one),
    }

    def __init__(
        self,
        image: Any,
        color_model: Any = None,
        *,
        opacity: float | None = None,
        draw_order: float | None = None,
    ) -> None:
        super().__init__()
        self._pixels: tuple | None = None
        try:
            buffer, fmt = image_buffer(image)
        except (ValueError, TypeError) as exc:
            self._fail("buffer", exc)
        else:
            if color_model is not None:
                try:
                    model = _color_model(color_model)[0]
                    if _CHANNELS[model] != fmt[0]["channels"]:
                        need, got = _CHANNELS[model], fmt[0]["channels"]
                        raise ValueError(f"color model {model} needs {need} channels, the image has {got}")
                except (ValueError, TypeError) as exc:
                    self._fail("color_model", exc)
                    color_model = None
            self._add("buffer", BUFFER, buffer)
            self._add("format", FORMAT, fmt)
            self._pixels = (buffer, fmt[0], color_model)
        self._put("color_model", color_model)
        self._put("opacity", opacity)
        self._put("draw_order", draw_order)

    def compress(self, jpeg_quality: int = 95) -> Any:
        """This image as a JPEG ``EncodedImage`` (needs Pillow; uint8 L/RGB images only).

        Returns the image itself, with a warning, when it cannot be compressed.
        """
        from .._errors import warn_user
        from .encoded_image import EncodedImage

        if self._pixels is None:
            return self
        buffer, fmt, model = self._pixels
        if (
            fmt["datatype"] != "uint8"
            or fmt["channels"] not in (1, 3)
            or model not in (None, "L", "RGB", "BGR")
        ):
            warn_user("Image.compress: only uint8 L/RGB/BGR images can become JPEG; logging it uncompressed")
            return self
        try:
            from PIL import Image as PILImage
        except ImportError:
            warn_user("Image.compress needs Pillow (pip install pillow); logging the image uncompressed")
            return self
        import io

        shape = (fmt["height"], fmt["width"], fmt["channels"])
        pixels = np.frombuffer(buffer.buffers()[2], dtype=np.uint8, count=int(np.prod(shape))).reshape(shape)
        if model == "BGR":
            pixels = pixels[:, :, ::-1]
        out = io.BytesIO()
        PILImage.fromarray(np.ascontiguousarray(pixels.squeeze(2) if shape[2] == 1 else pixels)).save(
            out, format="JPEG", quality=int(jpeg_quality)
        )
        return EncodedImage(contents=out.getvalue(), media_type="image/jpeg")
