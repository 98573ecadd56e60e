"""A small DNA-like recording (after Rerun's dna example) with known colors, for viewer tests."""

from __future__ import annotations

import math

import numpy as np

LEFT = (255, 128, 0)
RIGHT = (0, 200, 255)
BEAD = (200, 200, 200)
TIMES = [i * 0.1 for i in range(40)]


def write_dna(path: str, n: int = 100) -> None:
    """Two colored spirals, scaffolding lines, and beads moving along them on ``stable_time``;
    ``dna/structure`` rotates about Z over time."""
    import rerun_zmq as rr
    from rerun_zmq.archetypes.line_strips3d import LineStrips3D
    from rerun_zmq.archetypes.points3d import Points3D
    from rerun_zmq.archetypes.transform3d import Transform3D
    from rerun_zmq.datatypes import RotationAxisAngle

    rec = rr.new_recording("dna_test")
    rr.save(path, recording=rec)
    t = np.linspace(0, 4 * math.pi, n)
    z = np.linspace(0, 8, n)
    p1 = np.c_[np.cos(t) * 2, np.sin(t) * 2, z]
    p2 = np.c_[np.cos(t + math.pi) * 2, np.sin(t + math.pi) * 2, z]
    rr.set_time_seconds("stable_time", 0, recording=rec)
    rr.log("dna/structure/left", Points3D(p1, colors=LEFT, radii=0.08), recording=rec)
    rr.log("dna/structure/right", Points3D(p2, colors=RIGHT, radii=0.08), recording=rec)
    rr.log(
        "dna/structure/scaffolding",
        LineStrips3D(np.stack((p1, p2), axis=1), colors=[128, 128, 128]),
        recording=rec,
    )
    offsets = np.random.default_rng(0).random(n)
    for tm in TIMES:
        rr.set_time_seconds("stable_time", tm, recording=rec)
        f = np.abs(((tm + offsets) % 2.0) - 1.0)[:, None]
        rr.log(
            "dna/structure/scaffolding/beads",
            Points3D(p1 * (1 - f) + p2 * f, radii=0.06, colors=BEAD),
            recording=rec,
        )
        rr.log(
            "dna/structure",
            Transform3D(rotation=RotationAxisAngle(axis=[0, 0, 1], radians=tm / 4 * math.tau)),
            recording=rec,
        )
    rr.disconnect(recording=rec)


def color_mask(img: np.ndarray, rgb: tuple[int, int, int], tol: int = 30) -> np.ndarray:
    """Pixels within ``tol`` of ``rgb`` in every channel."""
    diff = np.abs(img[..., :3].astype(np.int16) - np.array(rgb, dtype=np.int16))
    return (diff <= tol).all(axis=-1)
