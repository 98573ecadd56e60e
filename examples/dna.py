#!/usr/bin/env python3
"""The DNA abacus from the Python SDK tutorial: two color spirals, scaffolding, moving beads, a rotation.

    python examples/dna.py                 # spawn the viewer and stream to it
    python examples/dna.py --save dna.rrd  # write a file instead (no display needed)
    python examples/dna.py --connect       # stream to a running `rerun-zmq`
"""

from __future__ import annotations

import argparse
from math import tau

import numpy as np

import rerun_zmq as rr
from rerun_zmq.utilities import bounce_lerp, build_color_spiral

NUM_POINTS = 100


def log_dna(seed: int | None = None) -> None:
    rng = np.random.default_rng(seed)
    rr.set_time_seconds("stable_time", 0)

    points1, colors1 = build_color_spiral(NUM_POINTS)
    points2, colors2 = build_color_spiral(NUM_POINTS, angular_offset=tau * 0.5)
    rr.log("dna/structure/left", rr.Points3D(points1, colors=colors1, radii=0.08))
    rr.log("dna/structure/right", rr.Points3D(points2, colors=colors2, radii=0.08))

    rr.log(
        "dna/structure/scaffolding",
        rr.LineStrips3D(np.stack((points1, points2), axis=1), colors=[128, 128, 128]),
    )

    offsets = rng.random(NUM_POINTS)
    beads = [bounce_lerp(points1[n], points2[n], offsets[n]) for n in range(NUM_POINTS)]
    colors = [[int(bounce_lerp(80, 230, offsets[n] * 2))] for n in range(NUM_POINTS)]
    rr.log(
        "dna/structure/scaffolding/beads",
        rr.Points3D(beads, radii=0.06, colors=np.repeat(colors, 3, axis=-1)),
    )

    time_offsets = rng.random(NUM_POINTS)
    for i in range(400):
        time = i * 0.01
        rr.set_time_seconds("stable_time", time)

        times = np.repeat(time, NUM_POINTS) + time_offsets
        beads = [bounce_lerp(points1[n], points2[n], times[n]) for n in range(NUM_POINTS)]
        colors = [[int(bounce_lerp(80, 230, times[n] * 2))] for n in range(NUM_POINTS)]
        rr.log(
            "dna/structure/scaffolding/beads",
            rr.Points3D(beads, radii=0.06, colors=np.repeat(colors, 3, axis=-1)),
        )

    for i in range(400):
        time = i * 0.01
        rr.set_time_seconds("stable_time", time)
        rr.log(
            "dna/structure",
            rr.Transform3D(rotation=rr.RotationAxisAngle(axis=[0, 0, 1], radians=time / 4.0 * tau)),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None, help="seed for the bead offsets")
    rr.script_add_args(parser)
    args = parser.parse_args()
    rr.script_setup(args, "rerun_example_dna_abacus")
    log_dna(args.seed)
    rr.script_teardown(args)


if __name__ == "__main__":
    main()
