"""Small recordings for the Viewer II tests: 2D shapes + an image, scalars, text logs, a blueprint."""

from __future__ import annotations

import math

import numpy as np

POINT_COLOR = (255, 40, 200)
BOX_COLOR = (40, 255, 60)
LINE_COLOR = (255, 255, 0)
IMAGE_COLOR = (30, 60, 250)
LEVELS = ("INFO", "WARN", "ERROR")


def write_mixed(
    path: str,
    app_id: str = "viewer2_test",
    blueprint=None,
    steps: int = 20,
    recording_id: str | None = None,
    start: int = 0,
) -> None:
    """``/cam/image`` (8x6 blue image), ``/cam/points`` (magenta Points2D), ``/cam/box`` (green box),
    ``/cam/line`` (yellow strip), ``/metrics/sin`` + ``/metrics/cos`` (Scalars), ``/log`` (TextLog)
    on the ``frame`` timeline, start..start+steps-1."""
    import rerun_zmq as rr

    rec = rr.new_recording(app_id, recording_id=recording_id)
    rr.save(path, recording=rec)
    if blueprint is not None:
        rr.send_blueprint(blueprint, recording=rec)
    img = np.zeros((6, 8, 3), dtype=np.uint8)
    img[:] = IMAGE_COLOR
    rr.log("cam/image", rr.Image(img), static=True, recording=rec)
    for i in range(start, start + steps):
        rr.set_time_sequence("frame", i, recording=rec)
        x = 1.0 + 6.0 * (i - start) / max(steps - 1, 1)
        rr.log("cam/points", rr.Points2D([[x, 1.5], [x, 4.5]], colors=POINT_COLOR, radii=0.4), recording=rec)
        rr.log("cam/box", rr.Boxes2D(centers=[[4, 3]], half_sizes=[[1, 1]], colors=BOX_COLOR), recording=rec)
        rr.log("cam/line", rr.LineStrips2D([[[0, 0], [8, 6]]], colors=LINE_COLOR), recording=rec)
        rr.log("metrics/sin", rr.Scalars(math.sin(i / 3.0)), recording=rec)
        rr.log("metrics/cos", rr.Scalars(math.cos(i / 3.0)), recording=rec)
        rr.log("log", rr.TextLog(f"message {i}", level=LEVELS[i % 3]), recording=rec)
    rr.disconnect(recording=rec)
