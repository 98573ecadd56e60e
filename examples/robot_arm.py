#!/usr/bin/env python3
"""A 3-joint robot arm sweeping a lidar: joint transforms in a hierarchy plus a point cloud per scan.

    python examples/robot_arm.py --save arm.rrd
"""

from __future__ import annotations

import argparse
from math import tau

import numpy as np

import rerun_zmq as rr

LINK_LENGTHS = (0.6, 0.5, 0.3)


def room_points(rng: np.random.Generator, n: int) -> np.ndarray:
    """Points on the walls and floor of a 4 m × 4 m × 2.5 m room around the robot."""
    pts = rng.uniform([-2, -2, 0], [2, 2, 2.5], size=(n, 3)).astype(np.float32)
    axis = rng.integers(0, 3, n)
    pts[axis == 0, 0] = np.sign(pts[axis == 0, 0]) * 2
    pts[axis == 1, 1] = np.sign(pts[axis == 1, 1]) * 2
    pts[axis == 2, 2] = 0
    return pts


def log_arm(frames: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rr.log("world", rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)
    rr.log("world/room", rr.Boxes3D(centers=[0, 0, 1.25], half_sizes=[2, 2, 1.25], colors=[90, 90, 90]), static=True)
    room = room_points(rng, 20_000)
    for frame in range(frames):
        t = frame / 30.0
        rr.set_time("frame", sequence=frame)
        rr.set_time("sim_time", duration=t)
        angles = (0.5 * np.sin(t), 0.6 * np.sin(1.3 * t + 1), tau * t / 8)
        path = "world/base"
        rr.log(path, rr.Transform3D(rotation=rr.RotationAxisAngle(axis=[0, 0, 1], radians=angles[2])))
        for j, (length, angle) in enumerate(zip(LINK_LENGTHS, angles[:2] + (0.0,))):
            path = f"{path}/link{j}"
            rr.log(path, rr.Transform3D(translation=[0, 0, length if j else 0.2],
                                        rotation=rr.RotationAxisAngle(axis=[0, 1, 0], radians=angle)))
            rr.log(f"{path}/geometry", rr.Arrows3D(vectors=[[0, 0, length]], colors=[255, 180, 0]))
        # the lidar sees the part of the room in front of it
        heading = np.array([np.cos(angles[2]), np.sin(angles[2]), 0.0], dtype=np.float32)
        visible = room[(room[:, :2] @ heading[:2]) > 0.5]
        dist = np.linalg.norm(visible, axis=1)
        colors = (np.clip(dist / 3.0, 0, 1)[:, None] * [255, 60, -200] + [0, 120, 255]).clip(0, 255).astype(np.uint8)
        rr.log("world/lidar", rr.Points3D(visible, colors=colors, radii=0.01))
        rr.log("world/base/joint_angles", rr.Scalars(np.array(angles, dtype=np.float64)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    rr.script_add_args(parser)
    args = parser.parse_args()
    rr.script_setup(args, "rerun_example_robot_arm")
    log_arm(args.frames, args.seed)
    rr.script_teardown(args)


if __name__ == "__main__":
    main()
